"""pose_animate.core.stage: the shell every workflow script uses (log, subject in errors,
validated settings, atomic record and pictures)."""

from types import SimpleNamespace

import numpy as np
import pytest
from snakemake.iocontainers import Namedlist

from pose_animate import __version__
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_image, read_json
from pose_animate.core.runlog import log
from pose_animate.core.stage import stage_job


def fake_job(tmp_path, wildcards, cfg=None, rule="masks", gpu=0):
    return SimpleNamespace(
        input=Namedlist(fromdict={"frames": str(tmp_path / "frames")}),
        output=Namedlist(fromdict={"record": str(tmp_path / "out" / "record.json"),
                                   "sheet": str(tmp_path / "out" / "sheet.jpg"),
                                   "plot": str(tmp_path / "out" / "plot.png")}),
        params=Namedlist(fromdict={"cfg": cfg or {}}), wildcards=Namedlist(fromdict=wildcards),
        log=Namedlist([str(tmp_path / "logs" / "job.log")]), threads=1, rule=rule,
        resources=Namedlist(fromdict={"gpu": gpu}), config={"subjects": "x.tsv"})


def test_settings_are_validated_with_defaults_and_outputs_written(tmp_path):
    smk = fake_job(tmp_path, {"subject": "bob"}, cfg={"threshold": 0.3})
    with stage_job(smk, "masks") as job:
        assert job.settings["threshold"] == 0.3 and job.settings["backend"] == "mediapipe"
        assert job.subject == "bob"
        log.info("hello from the job")
        job.save({"frames": 3}, sheet=np.zeros((8, 12, 3), np.uint8),
                 plot=np.full((4, 4, 3), 7, np.uint8))
    saved = read_json(tmp_path / "out" / "record.json")
    assert saved["frames"] == 3
    assert saved["pose_animate"]["version"] == __version__  # what made the record
    assert len(saved["pose_animate"]["config_digest"]) == 12
    assert read_image(tmp_path / "out" / "sheet.jpg").shape == (8, 12, 3)
    assert (read_image(tmp_path / "out" / "plot.png") == 7).all()  # PNG: lossless
    text = (tmp_path / "logs" / "job.log").read_text()
    assert "hello from the job" in text and "done in" in text


def test_library_errors_name_the_subject_once(tmp_path):
    smk = fake_job(tmp_path, {"subject": "bob"})
    with pytest.raises(PoseAnimateError) as caught:
        with stage_job(smk, "masks"):
            raise PoseAnimateError("no frames.", path="x/frames", fix="rerun frames.")
    assert str(caught.value) == "subject 'bob': x/frames: no frames. Fix: rerun frames."
    assert "subject 'bob': x/frames: no frames." in (tmp_path / "logs" / "job.log").read_text()
    assert not (tmp_path / "out" / "record.json").exists()


def test_jobs_of_several_subjects_are_named_by_their_wildcards(tmp_path):
    smk = fake_job(tmp_path, {"target": "a", "driving": "b"}, rule="normalize_pose")
    with pytest.raises(PoseAnimateError, match="^normalize_pose, target 'a', driving 'b': "):
        with stage_job(smk):
            raise PoseAnimateError("no ankles.")
    with pytest.raises(PoseAnimateError, match="^subject 'c': no ankles"):
        with stage_job(smk):  # an error that knows its subject keeps it
            raise PoseAnimateError("no ankles.", subject="c")


def test_a_config_typo_in_the_section_is_a_clear_error(tmp_path):
    smk = fake_job(tmp_path, {"subject": "bob"}, cfg={"treshold": 0.3})
    with pytest.raises(PoseAnimateError, match="unknown key 'treshold' in masks.*'threshold'"):
        with stage_job(smk, "masks"):
            pass


def test_a_full_disk_is_named_as_such_with_the_subject(tmp_path):
    import errno

    smk = fake_job(tmp_path, {"subject": "bob"}, rule="flow")
    target = tmp_path / "results" / "subjects" / "bob" / "flow" / "000003.flo"
    with pytest.raises(PoseAnimateError) as caught:
        with stage_job(smk, "flow"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
    message = str(caught.value)
    assert message.startswith(f"subject 'bob': {target}: the disk is full (")
    assert "MiB free" in message and "df -h" in message
    assert isinstance(caught.value.__cause__, OSError)  # the traceback in the log keeps it
    with pytest.raises(PoseAnimateError, match=f"subject 'bob': {target}: Permission denied "
                                               r"\(errno 13\). Fix: check the permissions"):
        with stage_job(smk, "flow"):
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
    with pytest.raises(FileNotFoundError):  # other OS errors are not disguised (bugs)
        with stage_job(smk, "flow"):
            raise FileNotFoundError(errno.ENOENT, "No such file", str(target))


def test_a_failed_script_prints_its_error_once_without_tracebacks(tmp_path):
    """What a workflow job's stderr shows: the message once; the traceback only in its log."""
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'tests')\n"
            "from pathlib import Path\n"
            "from test_stage import fake_job\n"
            "from pose_animate.core.errors import PoseAnimateError\n"
            "from pose_animate.core.stage import stage_job\n"
            f"smk = fake_job(Path({str(tmp_path)!r}), {{'subject': 'bob'}})\n"
            "def deep():\n"
            "    try:\n"
            "        {}['x']\n"
            "    except KeyError:\n"
            "        raise PoseAnimateError('no frames.', path='x/frames', fix='rerun frames.')\n"
            "with stage_job(smk, 'masks'):\n"
            "    deep()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO)
    assert run.returncode == 1
    assert run.stderr.count("subject 'bob': x/frames: no frames. Fix: rerun frames.") == 1
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1
    logged = (tmp_path / "logs" / "job.log").read_text()
    assert "Traceback" in logged and "KeyError" in logged


REPO = __import__("pathlib").Path(__file__).resolve().parent.parent
