"""The OpenPose and AlphaPose program backends, run against stand-in executables that take the
real programs' command lines and write their output formats (tests/standins/): the arguments
the stage passes, the import that follows (the subject followed, frame pixels), the checks
before any job, and a program that fails."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from pose_animate.core.body import J
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_openpose_folder, write_image
from pose_animate.keypoints.programs import check_program
from pose_animate.keypoints.stage import find_keypoints

STANDINS = Path(__file__).parent / "standins"
N = 6


def executable(tmp_path, name: str) -> Path:
    """A program on disk that runs the stand-in `name` with this Python."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\nexec {sys.executable} {STANDINS / (name + '.py')} \"$@\"\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def frames(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t in range(N):
        write_image(folder / f"{t:06d}.png", np.full((96, 96, 3), 40 + t, np.uint8))
    return folder


@pytest.fixture
def openpose(tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "pose" / "body_25").mkdir(parents=True)
    monkeypatch.setenv("STANDIN_ARGS", str(tmp_path / "args.json"))
    return settings("keypoints", backend="openpose",
                    openpose={"bin": str(executable(tmp_path, "openpose")),
                              "model_folder": str(models)})


@pytest.fixture
def alphapose(tmp_path, monkeypatch):
    for name in ("cfg.yaml", "model.pth"):
        (tmp_path / name).write_text("x")
    monkeypatch.setenv("STANDIN_ARGS", str(tmp_path / "args.json"))
    return settings("keypoints", backend="alphapose",
                    alphapose={"script": str(STANDINS / "alphapose.py"),
                               "config": str(tmp_path / "cfg.yaml"),
                               "checkpoint": str(tmp_path / "model.pth")})


def passed(tmp_path) -> list[str]:
    return json.loads((tmp_path / "args.json").read_text())


def test_openpose_runs_on_the_frames_and_its_json_is_imported(tmp_path, frames, openpose):
    out = tmp_path / "keypoints_raw"
    record = find_keypoints(frames, None, out, openpose)
    args = passed(tmp_path)
    flag = lambda name: args[args.index(name) + 1]
    assert Path(flag("--image_dir")) == frames.resolve()
    assert Path(flag("--write_json")).parent == out.parent and flag("--write_json") != str(out)
    assert flag("--model_pose") == "BODY_25" and flag("--display") == "0"
    assert flag("--render_pose") == "0" and "--face" in args and "--hand" in args
    seq = read_openpose_folder(out, n_frames=N)
    # the subject is the tall figure (the other person is smaller), in frame pixels
    assert seq[:, J["Nose"], 0] == pytest.approx(20 + np.arange(N))
    assert seq[:, J["Nose"], 1] == pytest.approx(10)
    assert (seq[:, 25:, 2] > 0).all()  # face and hands came through
    assert record["backend"] == "openpose" and record["frames_with_person"] == N
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name]  # scratch removed


def test_openpose_flags_follow_the_config(tmp_path, frames, openpose):
    openpose = {**openpose, "face_hands": False,
                "openpose": {**openpose["openpose"], "number_people_max": 1,
                             "net_resolution": "-1x256", "extra_args": ["--tracking", 1]}}
    find_keypoints(frames, None, tmp_path / "raw", openpose)
    args = passed(tmp_path)
    assert "--face" not in args and "--hand" not in args
    assert args[args.index("--number_people_max") + 1] == "1"
    assert "--net_resolution=-1x256" in args and args[-2:] == ["--tracking", "1"]


def test_alphapose_runs_and_its_results_file_is_imported(tmp_path, frames, alphapose):
    out = tmp_path / "keypoints_raw"
    record = find_keypoints(frames, None, out, alphapose)
    args = passed(tmp_path)
    assert Path(args[args.index("--indir") + 1]) == frames.resolve()
    assert args[args.index("--gpus") + 1] == "0"
    seq = read_openpose_folder(out, n_frames=N)
    assert seq[:, J["Nose"], 0] == pytest.approx(20 + np.arange(N))
    # COCO-17 mapped to BODY_25: the neck derived between the shoulders
    assert seq[:, J["Neck"], 1] == pytest.approx(10 + 0.15 * 50)
    assert record["backend"] == "alphapose"


@pytest.mark.parametrize("backend, change, key", [
    ("openpose", {"bin": None}, "keypoints.openpose.bin"),
    ("openpose", {"bin": "/nowhere/openpose.bin"}, "keypoints.openpose.bin"),
    ("openpose", {"model_folder": "/nowhere/models"}, "keypoints.openpose.model_folder"),
    ("alphapose", {"checkpoint": "/nowhere/model.pth"}, "keypoints.alphapose.checkpoint"),
    ("alphapose", {"script": None}, "keypoints.alphapose.script"),
])
def test_missing_programs_and_weights_name_the_key(openpose, alphapose, backend, change, key):
    cfg = {"openpose": openpose, "alphapose": alphapose}[backend]
    cfg = {**cfg, backend: {**cfg[backend], **change}}
    with pytest.raises(PoseAnimateError, match=key.replace(".", r"\.")) as err:
        check_program(cfg)
    assert "Fix:" in str(err.value)


def test_a_failing_program_stops_with_its_message_and_writes_nothing(tmp_path, frames, openpose):
    import shutil
    shutil.rmtree(Path(openpose["openpose"]["model_folder"]) / "pose")
    out = tmp_path / "keypoints_raw"
    with pytest.raises(PoseAnimateError, match="failed \\(exit 1\\).*pose_deploy.prototxt"):
        find_keypoints(frames, None, out, openpose)
    assert not out.exists()


def test_the_keypoints_job_of_a_program_holds_a_gpu(dry_run, openpose):
    run = dry_run({"keypoints": {"backend": "openpose", "openpose": openpose["openpose"]}})
    assert run.returncode == 0, run.stderr[-2000:]
    block = run.stdout[run.stdout.index("rule keypoints:"):]
    assert "gpu=1" in block[:block.index("\n\n")]


def test_the_slurm_profile_gives_the_program_its_gpu(dry_run, openpose):
    profile = Path(__file__).resolve().parent.parent / "profiles" / "slurm"
    run = dry_run({"keypoints": {"backend": "openpose", "openpose": openpose["openpose"]}},
                  "--profile", str(profile))
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-2000:]
    block = out[out.index("rule keypoints:"):]
    assert "gpu=1" in block[:block.index("\n\n")]


@pytest.mark.slow
def test_a_program_backend_makes_the_dataset_keypoints_through_the_workflow(tmp_path, dry_run,
                                                                           openpose):
    import subprocess
    repo = Path(__file__).resolve().parent.parent
    run = dry_run({"keypoints": {"backend": "openpose", "openpose": openpose["openpose"]}},
                  "--cores", "2", "results/subjects/demo_target/openpose_json")
    assert run.returncode == 0
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"),
                          "--cores", "2", "results/subjects/demo_target/openpose_json"],
                         cwd=tmp_path / "wf", capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    seq = read_openpose_folder(tmp_path / "wf" / "results" / "subjects" / "demo_target" /
                               "openpose_json", n_frames=20)
    assert seq[:, J["Nose"], 0] == pytest.approx(20 + np.arange(20), abs=1.5)  # cleaned
    record = json.loads((tmp_path / "wf" / "results" / "work" / "demo_target" /
                         "keypoints.json").read_text())
    assert record["backend"] == "openpose" and record["frames_with_person"] == 20
