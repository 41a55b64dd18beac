# Shared by every rule file: configuration, the subject sheet, input functions, and the
# registries that stage files fill (ALL_TARGETS, STAGE_RECORDS).
import os
import sys

sys.path.insert(0, workflow.basedir)
# Jobs (scripts, cluster jobs) import the library from this checkout.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)

from snakemake.exceptions import WorkflowError
from pose_animate.config import validate_config, load_subjects
from pose_animate.errors import PoseAnimateError

try:
    validate_config(config, source=", ".join(map(str, workflow.configfiles)))
    DEMO_VIDEOS = {
        name: f"results/demo/{name}/video.mp4" for name in config["demo"]["figures"]
    }
    SUBJECTS = load_subjects(config["subjects"], generated=DEMO_VIDEOS.values())
except PoseAnimateError as exc:
    raise WorkflowError(str(exc))


wildcard_constraints:
    subject=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    name=r"[A-Za-z0-9][A-Za-z0-9_.-]*",


# What `snakemake` builds by default; each rule file adds its final outputs.
ALL_TARGETS = []
# Per-stage records (results/work/{subject}/{stage}.json) merged into the dataset's meta.json.
STAGE_RECORDS = []


def subject_video(wildcards):
    return SUBJECTS.loc[wildcards.subject, "video"]


def imported_keypoints(wildcards):
    """The sheet's keypoints column (a folder or file to import), or '' to detect."""
    return SUBJECTS.loc[wildcards.subject, "keypoints"]
