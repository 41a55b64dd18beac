"""Training material for the motion net: (noisy, clean) keypoint sequence pairs.

Sources:
- VideoPose3D npz pairs for users who have Human3.6M: `data_2d_h36m_gt.npz` (ground truth,
  17 Human3.6M joints) with `data_2d_h36m_detectron_pt_coco.npz` (detections, 17 COCO joints);
  both hold `positions_2d[subject][action]` = one (T, 17, 2 or 3) array per camera. The twelve
  limb joints both layouts share are used.
- Clean sequences with the detector-noise model (pose_animate.clean.noise) applied: folders of
  OpenPose JSON folders (BODY_25) or Penn Action `.mat` files (13 joints; `visibility` is the
  confidence).

A sequence is (T, J, 3) [x, y, confidence] whose columns are the BODY_25 joints `joints`.
Noisy inputs go through the same preparation as cleaning does at run time (`filters.prepare`
with the config's `clean` section: confidence, swaps, outliers, gap filling), so the net
learns what it will see.
"""

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.io import loadmat

from ..core.body import J
from ..core.errors import PoseAnimateError
from ..core.formats import read_openpose_folder
from .filters import prepare
from .motion_net import PENN_JOINTS
from .noise import NoiseModel, apply_noise

# Human3.6M-17 (VideoPose3D order) and COCO-17 columns of the twelve shared limb joints.
SHARED_LIMBS = ["RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
                "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle"]
H36M_COLUMNS = [14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6]
COCO_COLUMNS = [6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15]
SHARED_JOINTS = [J[name] for name in SHARED_LIMBS]


def read_penn_action(path) -> np.ndarray:
    """One Penn Action clip as (T, 13, 3); columns are PENN_JOINTS, confidence = visibility."""
    path = Path(path)
    try:
        mat = loadmat(path)
        x, y, vis = (np.asarray(mat[k], np.float32) for k in ("x", "y", "visibility"))
    except (OSError, ValueError, KeyError) as exc:
        raise PoseAnimateError(f"not a Penn Action label file ({exc}).", path=path,
                               fix="give the dataset's labels/*.mat files (x, y, visibility).")
    if x.shape != y.shape or x.shape != vis.shape or x.ndim != 2 or x.shape[1] != 13:
        raise PoseAnimateError(f"x, y, visibility must all be (T, 13), got {x.shape}, "
                               f"{y.shape}, {vis.shape}.", path=path,
                               fix="give the dataset's labels/*.mat files.")
    # Penn's joint order: head, l/r shoulder, l/r elbow, l/r wrist, l/r hip, l/r knee, l/r ankle
    # (PENN_JOINTS maps each to BODY_25).
    return np.stack([x, y, (vis > 0).astype(np.float32)], -1)


def read_videopose3d_pairs(gt_npz, det_npz) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, noisy, clean) pairs, each (T, 12, 3) over SHARED_JOINTS, from VideoPose3D's 2D
    ground truth (Human3.6M layout) and its detections (COCO layout). Where a camera's two
    arrays differ in length (VideoPose3D trims the same way), the common start is kept."""
    gt, det = _positions(gt_npz), _positions(det_npz)
    pairs = []
    for subject in sorted(gt):
        for action in sorted(gt[subject]):
            if action not in det.get(subject, {}):
                continue
            for cam, (g, d) in enumerate(zip(gt[subject][action], det[subject][action])):
                n = min(len(g), len(d))
                clean = _with_conf(np.asarray(g)[:n, H36M_COLUMNS])
                noisy = _with_conf(np.asarray(d)[:n, COCO_COLUMNS])
                pairs.append((f"{subject}/{action}/{cam}", noisy, clean))
    if not pairs:
        raise PoseAnimateError("the two npz files share no subject/action.", path=det_npz,
                               fix="give VideoPose3D's data_2d_h36m_gt.npz with its matching "
                                   "detections (data_2d_h36m_detectron_pt_coco.npz).")
    return pairs


def _positions(path) -> dict:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=True)
        return data["positions_2d"].item()
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise PoseAnimateError(f"not a VideoPose3D 2D npz ({exc}).", path=path,
                               fix="it must hold 'positions_2d' = {subject: {action: "
                                   "[per-camera (T, 17, 2) arrays]}}.")


def _with_conf(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, np.float32)
    if arr.shape[-1] == 3:
        return arr
    return np.concatenate([arr, np.ones(arr.shape[:-1] + (1,), np.float32)], -1)


def read_clean_sequences(sources) -> tuple[list[tuple[str, np.ndarray]], list[int]]:
    """Clean sequences from folders of OpenPose JSON folders and/or Penn Action .mat files.

    Returns ([(name, (T, J, 3))], joints): with Penn clips present every sequence is reduced
    to the 13 Penn joints, otherwise all 25 BODY_25 joints are kept.
    """
    penn, openpose = [], []
    for source in map(Path, sources):
        if not source.exists():
            raise PoseAnimateError("training source does not exist.", path=source,
                                   fix="correct motion_net.training.sources in the config.")
        mats = [source] if source.suffix == ".mat" else sorted(source.rglob("*.mat"))
        penn += [(str(m), read_penn_action(m)) for m in mats]
        json_dirs = sorted({f.parent for f in source.rglob("*_keypoints.json")}) \
            if source.is_dir() else []
        openpose += [(str(d), read_openpose_folder(d)[:, :25]) for d in json_dirs]
    if not penn and not openpose:
        raise PoseAnimateError("no clean sequences found (no *.mat, no *_keypoints.json).",
                               path=", ".join(map(str, sources)),
                               fix="give folders of OpenPose JSON folders or Penn Action labels.")
    if penn:
        return penn + [(n, s[:, PENN_JOINTS]) for n, s in openpose], list(PENN_JOINTS)
    return openpose, list(range(25))


def split_by_clip(names, fractions=(0.7, 0.15, 0.15)) -> list[str]:
    """'train' / 'val' / 'test' per clip name, stable across runs and machines (a hash)."""
    cuts = np.cumsum(fractions) / np.sum(fractions)
    out = []
    for name in names:
        u = int(hashlib.sha1(Path(name).name.encode()).hexdigest()[:8], 16) / 0x100000000
        out.append(["train", "val", "test"][int(np.searchsorted(cuts, u, side="right"))])
    return out


def embed_body(seq: np.ndarray, joints) -> np.ndarray:
    """(T, J, 3) columns placed at their BODY_25 rows of a (T, 25, 3) array."""
    body = np.zeros((len(seq), 25, 3), np.float32)
    body[:, list(joints)] = seq
    return body


def prepare_input(noisy: np.ndarray, joints,
                  clean: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What the cleaning stage hands the net: (gap-filled (T, J, 3), observed (T, J)).
    `clean` is the config's `clean` section; None prepares with `prepare`'s defaults (the
    section's defaults too)."""
    body = embed_body(noisy, joints)
    if clean is None:
        prep = prepare(body)
    else:
        prep = prepare(body, min_confidence=clean["min_confidence"], max_gap=clean["max_gap"],
                       swap_repair=clean["swap_repair"], outliers=clean["outliers"])
    return prep["seq"][:, list(joints)], prep["observed"][:, list(joints)]


def make_pairs(clean_seqs, joints, rng: np.random.Generator, noise: NoiseModel = NoiseModel(),
               draws: int = 1, jitter_range=None, clean: dict | None = None) -> list[dict]:
    """Noisy versions of clean sequences, prepared like at run time: dicts with `noisy` (the
    detector-like sequence), `input` and `observed` (what the cleaning stage hands the net) and
    `target` (the clean sequence; its confidence marks the points to score).

    With `jitter_range` (lo, hi) each sequence's white jitter is drawn log-uniformly from it
    instead of `noise.jitter`: a net trained so learns to smooth as much as the input needs.
    `clean` (the config's `clean` section) prepares the inputs as `prepare_input` says.
    """
    pairs = []
    for _ in range(draws):
        for seq in clean_seqs:
            model = noise
            if jitter_range:
                lo, hi = np.log(jitter_range[0]), np.log(jitter_range[1])
                model = replace(noise, jitter=float(np.exp(rng.uniform(lo, hi))))
            noisy = apply_noise(seq, rng, model, joints=joints)
            inp, observed = prepare_input(noisy, joints, clean)
            pairs.append({"noisy": noisy, "input": inp, "observed": observed, "target": seq})
    return pairs


def pairs_from_detections(pairs, joints, clean: dict | None = None) -> list[dict]:
    """(name, noisy, clean) detection pairs prepared like `make_pairs` output (`clean`: the
    config's `clean` section, as there)."""
    out = []
    for _, noisy, truth in pairs:
        inp, observed = prepare_input(noisy, joints, clean)
        out.append({"noisy": noisy, "input": inp, "observed": observed, "target": truth})
    return out
