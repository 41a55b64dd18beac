"""The GFLA seed's dance dataset (RenYurui/Global-Flow-Local-Attention, read by its
`data/dance_dataset.py` with `--dataset_mode=dance`), from a dataset's train and test subjects:

    train_256/ and test_256/, each with one folder per video (subject) in
      train_A/<video>/00000.png          the frames, 256 x 256 RGB
      train_alphapose/<video>/00000.json the noisy skeletons (the keypoint stage's raw output),
                                         OpenPose-18 in people[0].pose_keypoints_2d
      train_video2d/<video>/00000.json   the clean skeletons (the clean stage's), Human3.6M-17,
                                         as its motion extraction net writes them
      train_C/<video>/00000.png          the masks, 1-channel, 255 = person
    test_list.csv                        one row per test video: A_paths, B_paths_noise,
                                         B_paths_clean, each a {'gen': [...], 'ref': [...]} literal

The subfolders keep the `train_` prefix in the test phase too, as its loader wants. It pairs files
by sorted position, never by name: every folder holds the same zero-padded stems and nothing else.
Keypoints are pixels of the 256 x 256 frame; a missing point is 0, 0, 0 (its loader's "missing"
is x == 0 or y == 0, so a seen point is kept off 0). A test video's reference list holds its
first `reference_frames` frames (its loader picks one at random: 1, the default, makes its
evaluation repeatable); in training it draws one from the first 20 frames, so a video whose
first 20 frames rarely show the whole body gets a warning. Its training takes clips of 6
frames from 2 videos a batch.
"""

import json

import cv2
import numpy as np
import pandas as pd

from ..core.errors import PoseAnimateError
from ..core.formats import read_image
from ..core.runlog import log
from ..core.skeletons import to_h36m17, to_openpose18
from .source import Fit

SCOPE = "dataset"
PARTS = ("frames", "openpose_json", "keypoints_raw", "mask")
SIZE = 256  # its folders are <phase>_256: the size is part of the layout
MIN_FRAMES = 6  # one clip of its temporal discriminator
REFERENCE_POOL = 20  # its training draws the reference from a video's first 20 frames
WHOLE_BODY = 14  # of the 18 OpenPose-18 joints: a frame that shows the person fit to copy
EPS = 1e-3  # a seen point exactly on x = 0 or y = 0 would read as missing


def _pose_json(points: np.ndarray, version: str) -> str:
    seen = points[:, 2] > 0
    if not seen.any():
        return json.dumps({"version": version, "people": []})
    out = points.copy()
    out[seen, :2] = np.where(out[seen, :2] == 0, EPS, out[seen, :2])
    flat = [round(float(v), 3) for v in out.reshape(-1)]
    return json.dumps({"version": version, "people": [{"pose_keypoints_2d": flat}]})


def _poor_references(subject, noisy: np.ndarray) -> str | None:
    """A warning when under half of the reference pool shows the whole body."""
    pool = noisy[:REFERENCE_POOL]
    whole = sum(int((to_openpose18(p)[:, 2] > 0).sum() >= WHOLE_BODY) for p in pool)
    if whole * 2 < len(pool):
        return (f"{subject.name}: {whole} of its first {len(pool)} frames show the whole body; "
                "GFLA copies appearance from a reference drawn among them. Trim the video so "
                "it starts with the person in full view.")
    return None


def _video(subject, phase_dir, placer, warnings: list) -> list[dict]:
    """One subject as a video of `phase_dir`; returns its rows' paths (frames, noisy, clean)."""
    if len(subject) < MIN_FRAMES:
        raise PoseAnimateError(
            f"{len(subject)} frames: GFLA's loader takes clips of {MIN_FRAMES} frames.",
            subject=subject.name, path=subject.part("frames"),
            fix="use a longer video, or leave this subject out of the dataset.")
    h, w = subject.size
    fit = Fit(h, w, SIZE, SIZE, stretch=True)  # its own frame script stretches to 256 x 256
    clean, noisy = subject.keypoints(), subject.keypoints(raw=True)
    warnings += [w for w in [_poor_references(subject, noisy)] if w]
    masks = subject.listed("mask", ".png")
    rows = []
    for t, src in enumerate(subject.frames):
        stem = f"{t:05d}"
        paths = {part: phase_dir / part / subject.name / f"{stem}{suffix}" for part, suffix in
                 (("train_A", ".png"), ("train_alphapose", ".json"),
                  ("train_video2d", ".json"), ("train_C", ".png"))}
        placer.image_or_link(src, paths["train_A"],
                             None if fit.identity else lambda: fit.image(subject.image(t)))
        placer.text(paths["train_alphapose"],
                    _pose_json(to_openpose18(fit.points(noisy[t])), "1.3"))
        h36m = to_h36m17(fit.points(clean[t]))
        h36m[h36m[:, 2] > 0, 2] = 1.0  # its motion extraction net writes confidence 1
        placer.text(paths["train_video2d"], _pose_json(h36m, "Video to Pose 2D"))
        mask = subject.check_size(masks[t], read_image(masks[t], cv2.IMREAD_GRAYSCALE))
        placer.image_or_link(masks[t], paths["train_C"],
                             None if fit.identity else lambda: fit.image(mask))
        rows.append(paths)
    return rows


def _landed(row: dict, out, final) -> dict:
    """A row's paths where the export lands (its loader opens them from its own working
    directory: absolute)."""
    return {part: str(final / path.relative_to(out)) for part, path in row.items()}


def write(job, out, settings, placer) -> dict:
    warnings = [] if len(job.train) >= 2 else [
        f"{len(job.train)} train subject(s): its training draws batches of 2 videos "
        "(drop_last), so it needs at least 2"]
    for subject in job.train:
        _video(subject, out / f"train_{SIZE}", placer, warnings)
    table = {"A_paths": [], "B_paths_noise": [], "B_paths_clean": []}
    for subject in job.test:
        rows = _video(subject, out / f"test_{SIZE}", placer, warnings)
        refs = rows[:settings["reference_frames"]]
        gen = [_landed(r, out, job.final) for r in rows]
        ref = [_landed(r, out, job.final) for r in refs]
        for column, part in (("A_paths", "train_A"), ("B_paths_noise", "train_alphapose"),
                             ("B_paths_clean", "train_video2d")):
            table[column].append(str({"gen": [r[part] for r in gen],
                                      "ref": [r[part] for r in ref]}))
    if job.test:
        placer.text(out / "test_list.csv", pd.DataFrame(table).to_csv())
    for text in warnings:
        log.warning("gfla export '%s': %s", job.name, text)
    return {"size": SIZE, "videos": {"train": [s.name for s in job.train],
                                     "test": [s.name for s in job.test]},
            "frames": sum(len(s) for s in job.train + job.test), "warnings": warnings}
