"""The one shell of every workflow job, so that each script only wires files to the library:

    with stage_job(snakemake, "masks") as job:
        record = compute_masks(job.input.frames, job.input.keypoints, job.output.masks,
                               job.settings, source=job.optional("source"))
        job.save(record, sheet=mask_sheet(job.input.frames, job.output.masks, job.settings))

`stage_job` opens the job's log, names the job's subject in any PoseAnimateError the library
raises (library functions take no `subject=` only to word their errors), validates the rule's
config section (`params.cfg`) into `job.settings` with every default, and holds as many GPUs
as the rule declares (`resources: gpu`). `job.optional(name)` is an optional input or None, and
`job.save` writes the record (`output.record`) and the QA pictures (returned as BGR arrays by
the QA functions) atomically.
"""

import contextlib
import hashlib
import json

import cv2
import numpy as np

from .config import settings as validated
from .devices import allocate_gpu
from .errors import DISK_FULL, NO_ACCESS, PoseAnimateError, disk_full_error, no_access_error
from .formats import write_image, write_json
from .runlog import to_log
from .version import __version__

JPEG_QUALITY = 90  # QA pictures: small files, no visible loss at sheet scale


class StageJob:
    """What a script sees of its Snakemake job."""

    def __init__(self, smk, section: str | None):
        self.input, self.output, self.params = smk.input, smk.output, smk.params
        self.wildcards, self.threads = smk.wildcards, smk.threads
        self.subject, self.label = job_names(smk)
        self.settings = validated(section, smk.params.cfg) if section else {}
        config = getattr(smk, "config", None) or {}
        self.provenance = {"version": __version__, "config_digest": hashlib.sha1(
            json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]}

    def optional(self, name: str):
        """The rule's optional input `name` (an input function giving [] or [path]): its path,
        or None (e.g. `source`, the folder or file a stage imports instead of computing)."""
        found = getattr(self.input, name, None)
        return found[0] if found else None

    def stamp(self, record: dict) -> dict:
        """Add to `record` (in place) what made it: the pose_animate version and the digest of
        the whole configuration the job ran with (`pose_animate.config_digest`)."""
        record["pose_animate"] = self.provenance
        return record

    def save(self, record: dict | None = None, **pictures: np.ndarray) -> None:
        """Write `record` (stamped) to output.record and each picture to the output of its
        name."""
        if record is not None:
            write_json(self.output.record, self.stamp(record))
        for name, picture in pictures.items():
            write_picture(getattr(self.output, name), picture)


def write_picture(path, picture: np.ndarray) -> None:
    """A QA picture (BGR uint8) as JPEG or PNG by the path's suffix, atomically."""
    params = [] if str(path).lower().endswith(".png") else [cv2.IMWRITE_JPEG_QUALITY,
                                                           JPEG_QUALITY]
    write_image(path, np.ascontiguousarray(picture), params)


@contextlib.contextmanager
def stage_job(smk, section: str | None = None):
    """The job's shell (see the module docstring); `section` names its config section."""
    with to_log(smk.log[0] if smk.log else None):
        try:
            job = StageJob(smk, section)
            gpus = int(getattr(smk.resources, "gpu", 0) or 0)
            with allocate_gpu(count=gpus) if gpus else contextlib.nullcontext():
                yield job
        except PoseAnimateError as exc:
            _name_job(exc, smk)
            raise
        except OSError as exc:  # a full disk or a locked folder: say so, and where
            if exc.errno not in DISK_FULL | NO_ACCESS:
                raise
            where = exc.filename or "."
            error = disk_full_error(where) if exc.errno in DISK_FULL else \
                no_access_error(where, exc)
            raise _name_job(error, smk) from exc


def _name_job(error: PoseAnimateError, smk) -> PoseAnimateError:
    subject, label = job_names(smk)
    return error.name_job(subject=subject, job=None if subject else label)


def job_names(smk) -> tuple[str | None, str]:
    """(the subject of a per-subject job or None, a label naming the job: "render, family
    'edn', target 'a', driving 'b'")."""
    wildcards = dict(smk.wildcards.items())
    label = smk.rule + "".join(f", {k} '{v}'" for k, v in wildcards.items())
    return wildcards.get("subject"), label
