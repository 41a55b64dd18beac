"""Tests of pose_animate.motion_data: readers of training material and pair making."""

import numpy as np
import pytest
from scipy.io import savemat

from pose_animate.core.body import J
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import write_openpose_folder
from pose_animate.clean.motion_data import (SHARED_JOINTS, make_pairs, read_clean_sequences,
                                      read_penn_action, read_videopose3d_pairs, split_by_clip)
from pose_animate.clean.motion_net import PENN_JOINTS


def write_videopose3d(path, layout_offset, n_frames=(30, 20), three=False):
    """A tiny npz in VideoPose3D's structure: positions_2d[subject][action] = [per camera]."""
    rng = np.random.default_rng(0)
    positions = {}
    for s, subject in enumerate(["S1", "S9"]):
        positions[subject] = {}
        for action, n in zip(["Walking", "Eating"], n_frames):
            cams = []
            for cam in range(2):
                arr = np.zeros((n, 17, 3 if three else 2), np.float32)
                arr[..., 0] = np.arange(17) + 100 * cam + layout_offset
                arr[..., 1] = np.arange(n)[:, None] + 10 * s
                if three:
                    arr[..., 2] = 0.8
                cams.append(arr)
            positions[subject][action] = cams
    np.savez_compressed(path, positions_2d=positions,
                        metadata={"layout_name": "h36m", "num_joints": 17})


def test_videopose3d_pairs_map_both_layouts_to_the_shared_joints(tmp_path):
    write_videopose3d(tmp_path / "gt.npz", 0)
    write_videopose3d(tmp_path / "det.npz", 1000, n_frames=(28, 20), three=True)
    pairs = read_videopose3d_pairs(tmp_path / "gt.npz", tmp_path / "det.npz")
    assert len(pairs) == 2 * 2 * 2
    name, noisy, clean = pairs[0]
    assert name == "S1/Eating/0" and noisy.shape == clean.shape == (20, 12, 3)
    # Column k of both is SHARED_JOINTS[k]: the H36M RShoulder is column 14, COCO's is 6.
    assert SHARED_JOINTS[0] == J["RShoulder"]
    assert clean[0, 0, 0] == 14 and noisy[0, 0, 0] == 1006
    assert (clean[..., 2] == 1).all() and np.allclose(noisy[..., 2], 0.8)
    walking = [p for p in pairs if "Walking" in p[0]][0]
    assert len(walking[1]) == 28  # trimmed to the shorter of the two


def test_videopose3d_reader_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", something=np.zeros(3))
    write_videopose3d(tmp_path / "gt.npz", 0)
    with pytest.raises(PoseAnimateError, match="not a VideoPose3D 2D npz.*Fix"):
        read_videopose3d_pairs(tmp_path / "gt.npz", tmp_path / "bad.npz")


def write_penn(path, n_frames=40):
    t = np.arange(n_frames)[:, None]
    x = 100 + 5 * np.arange(13) + np.sin(t / 5)
    y = 50 + 20 * np.arange(13) + 0 * t
    vis = np.ones((n_frames, 13))
    vis[:5, 3] = 0
    savemat(path, {"x": x, "y": y, "visibility": vis, "nframes": n_frames,
                   "action": "tennis_serve"})


def test_penn_action_reader(tmp_path):
    write_penn(tmp_path / "0001.mat")
    clip = read_penn_action(tmp_path / "0001.mat")
    assert clip.shape == (40, 13, 3)
    assert (clip[:5, 3, 2] == 0).all() and (clip[5:, 3, 2] == 1).all()
    assert PENN_JOINTS[0] == J["Nose"] and PENN_JOINTS[1] == J["LShoulder"]
    savemat(tmp_path / "bad.mat", {"x": np.zeros((4, 12))})
    with pytest.raises(PoseAnimateError, match="Penn Action"):
        read_penn_action(tmp_path / "bad.mat")


def test_clean_sequences_from_mixed_sources(tmp_path):
    write_penn(tmp_path / "penn" / "0001.mat") if (tmp_path / "penn").mkdir() is None else None
    seq = np.zeros((12, 137, 3), np.float32)
    seq[:, :25, :2] = np.arange(25)[None, :, None]
    seq[:, :25, 2] = 1
    folder = tmp_path / "openpose" / "clip_a"
    folder.mkdir(parents=True)
    write_openpose_folder(folder, seq)
    only_openpose, joints = read_clean_sequences([tmp_path / "openpose"])
    assert joints == list(range(25)) and only_openpose[0][1].shape == (12, 25, 3)
    mixed, joints = read_clean_sequences([tmp_path / "penn", tmp_path / "openpose"])
    assert joints == PENN_JOINTS and [s.shape[1] for _, s in mixed] == [13, 13]
    assert mixed[1][1][0, 1, 0] == J["LShoulder"]  # OpenPose columns reduced to Penn's joints
    with pytest.raises(PoseAnimateError, match="does not exist"):
        read_clean_sequences([tmp_path / "nothing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(PoseAnimateError, match="no clean sequences"):
        read_clean_sequences([tmp_path / "empty"])


def test_split_by_clip_is_stable_and_proportional():
    names = [f"/data/{i:04d}.mat" for i in range(2000)]
    split = split_by_clip(names)
    assert split == split_by_clip([n.replace("/data", "/elsewhere") for n in names])
    assert abs(split.count("train") / 2000 - 0.7) < 0.04
    assert abs(split.count("test") / 2000 - 0.15) < 0.03


def test_make_pairs_prepares_inputs_like_cleaning():
    clip = np.zeros((60, 13, 3), np.float32)
    clip[..., 0] = np.linspace(100, 200, 13)
    clip[..., 1] = np.linspace(0, 300, 13)
    clip[..., 2] = 1
    rng = np.random.default_rng(0)
    pairs = make_pairs([clip] * 3, PENN_JOINTS, rng, draws=2, jitter_range=(0.001, 0.02))
    assert len(pairs) == 6
    p = pairs[0]
    assert p["input"].shape == p["target"].shape == (60, 13, 3)
    assert p["observed"].shape == (60, 13)
    # Outliers removed and short gaps filled: the prepared input is closer than the raw noisy.
    err_in = np.linalg.norm(p["input"][..., :2] - clip[..., :2], axis=-1)[p["input"][..., 2] > 0]
    assert np.median(err_in) < 0.05 * 300
