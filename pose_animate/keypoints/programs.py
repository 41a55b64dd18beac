"""Keypoints from the field's own detector programs, where a cluster has them installed:
OpenPose's binary (`keypoints.backend: openpose`) and AlphaPose's inference script
(`keypoints.backend: alphapose`).

Each runs on the subject's extracted frames into a temporary folder beside the stage's output
and is then read by the same import as files made elsewhere (numbering checks, the subject's
track, points outside the frame dropped), so a run and an import of the same program's output
give the same keypoints. `check_program(cfg)` runs before any job (the workflow calls it when
the config is read) and names the key to set when the program, its models or weights are not
where the config says.
"""

import subprocess
import sys
import time
from pathlib import Path

from ..core.atomic import scratch_dir
from ..core.config import configured_path
from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, read_image
from ..core.runlog import log
from .import_alphapose import import_alphapose_file
from .import_openpose import import_openpose_folder

PROGRAMS = ("openpose", "alphapose")
ALPHAPOSE_RESULTS = "alphapose-results.json"  # what its demo_inference.py writes


def check_program(cfg: dict) -> None:
    """Stop before any job when the selected program, its models or weights are missing."""
    if cfg["backend"] == "openpose":
        op = cfg["openpose"]
        configured_path(op["bin"], "keypoints.openpose.bin", "the OpenPose binary (openpose.bin)",
              "program")
        configured_path(op["model_folder"], "keypoints.openpose.model_folder",
              "OpenPose's models/ folder (pose/body_25, face, hand)", "folder")
    elif cfg["backend"] == "alphapose":
        ap = cfg["alphapose"]
        configured_path(ap["script"], "keypoints.alphapose.script",
              "AlphaPose's scripts/demo_inference.py")
        configured_path(ap["config"], "keypoints.alphapose.config", "the AlphaPose model config (.yaml)")
        configured_path(ap["checkpoint"], "keypoints.alphapose.checkpoint",
              "the AlphaPose checkpoint (.pth)")


def openpose_command(cfg: dict, frames_dir, json_dir) -> list[str]:
    """OpenPose on a folder of frames, JSON only (no window, no rendering)."""
    op = cfg["openpose"]
    cmd = [str(configured_path(op["bin"], "keypoints.openpose.bin", "the OpenPose binary", "program")),
           "--image_dir", str(frames_dir), "--write_json", str(json_dir),
           "--model_folder", str(op["model_folder"]), "--model_pose", "BODY_25",
           # "=": the value starts with "-" (-1x368), which an option parser reads as a flag
           f"--net_resolution={op['net_resolution']}", "--display", "0", "--render_pose", "0",
           "--num_gpu", str(op["gpus"]), "--num_gpu_start", "0"]
    if cfg["face_hands"]:
        cmd += ["--face", "--hand"]
    if op["number_people_max"]:
        cmd += ["--number_people_max", str(op["number_people_max"])]
    return cmd + [str(a) for a in op["extra_args"]]


def alphapose_command(cfg: dict, frames_dir, out_dir) -> list[str]:
    """AlphaPose's demo_inference.py on a folder of frames, writing its COCO-style results."""
    ap = cfg["alphapose"]
    python = ap["python"] or sys.executable
    cmd = [python, str(ap["script"]), "--cfg", str(ap["config"]),
           "--checkpoint", str(ap["checkpoint"]), "--indir", str(frames_dir),
           "--outdir", str(out_dir), "--detector", ap["detector"],
           "--gpus", ",".join(str(g) for g in range(ap["gpus"])) or "-1"]
    return cmd + [str(a) for a in ap["extra_args"]]


def _run(cmd: list[str], key: str, cwd=None) -> float:
    """Run a program, its output into the job's log; an error naming the key on failure."""
    log.info("running: %s", " ".join(cmd))
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as exc:
        raise PoseAnimateError(f"could not start {cmd[0]} ({exc.strerror}).", path="config",
                               fix=f"check {key}.")
    for line in (done.stdout + done.stderr).splitlines()[-200:]:
        log.info("  %s", line)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PoseAnimateError(
            f"{Path(cmd[0]).name} failed (exit {done.returncode}): {' / '.join(tail)}",
            fix=f"see the job's log for its whole output; check {key} and the program's "
                "models and GPU.")
    return time.perf_counter() - started


def run_program(frames_dir, out_dir, cfg: dict) -> dict:
    """The keypoints stage with a program backend: run it on the frames, then import what it
    wrote (the frames' own pixels: no crop to undo); return the record."""
    frames = list_frames(frames_dir)
    height, width = read_image(frames[0]).shape[:2]
    args = dict(n_source_frames=len(frames), frame_size=(width, height))
    with scratch_dir(out_dir) as tmp:
        if cfg["backend"] == "openpose":
            seconds = _run(openpose_command(cfg, Path(frames_dir).resolve(), tmp),
                           "keypoints.openpose", cwd=cfg["openpose"]["cwd"])
            record = import_openpose_folder(tmp, out_dir, **args)
        else:
            seconds = _run(alphapose_command(cfg, Path(frames_dir).resolve(), tmp),
                           "keypoints.alphapose", cwd=cfg["alphapose"]["cwd"])
            results = Path(tmp) / ALPHAPOSE_RESULTS
            if not results.is_file():
                raise PoseAnimateError(
                    f"AlphaPose finished without writing {ALPHAPOSE_RESULTS}.", path=tmp,
                    fix="check keypoints.alphapose.extra_args (no --format cmu/open: the "
                        "COCO-style results file is read) and the job's log.")
            record = import_alphapose_file(results, out_dir, **args)
    record.update(backend=cfg["backend"], program_seconds=round(seconds, 2))
    return record
