"""Tests of pose_animate.noise: each kind of detector error, its size, and its calibration."""

import numpy as np

from pose_animate.core.body import J
from pose_animate.clean.filters import second_difference_jitter, sequence_scale
from pose_animate.core.formats import read_openpose
from pose_animate.clean.noise import NoiseModel, apply_noise

QUIET = dict(jitter=0.0, drift=0.0, drop_rate=0.0, swap_rate=0.0, outlier_rate=0.0)


def still_pose(n_frames=1000) -> np.ndarray:
    pose = np.zeros((25, 3), np.float32)
    pose[:, 0] = np.linspace(100, 300, 25)
    pose[:, 1] = np.linspace(0, 500, 25)
    pose[:, 2] = 1
    return np.repeat(pose[None], n_frames, 0)


def test_jitter_scales_with_body_size():
    rng = np.random.default_rng(0)
    model = NoiseModel(**{**QUIET, "jitter": 0.01})
    small, big = still_pose(), still_pose()
    big[..., :2] *= 3
    e_small = np.abs(apply_noise(small, rng, model) - small)[..., :2].std()
    e_big = np.abs(apply_noise(big, rng, model) - big)[..., :2].std()
    assert abs(e_big / e_small - 3) < 0.15
    assert abs(e_small / sequence_scale(small) - 0.01 * np.sqrt(1 - 2 / np.pi)) < 0.001


def test_drops_swaps_and_outliers_happen_at_their_rates():
    rng = np.random.default_rng(1)
    clean = still_pose(4000)
    dropped = apply_noise(clean, rng, NoiseModel(**{**QUIET, "drop_rate": 0.01, "drop_max_len": 1}))
    assert 0.007 < (dropped[..., 2] == 0).mean() < 0.013
    assert (dropped[dropped[..., 2] == 0] == 0).all()  # a dropped point is (0, 0, 0)
    far = apply_noise(clean, rng, NoiseModel(**{**QUIET, "outlier_rate": 0.01}))
    dist = np.linalg.norm(far[..., :2] - clean[..., :2], axis=-1) / sequence_scale(clean)
    assert 0.007 < (dist > 0.05).mean() < 0.013 and dist.max() <= 0.31
    assert (far[dist > 0.05, 2] < 0.6).all()  # outliers come with lower confidence
    swapped = apply_noise(clean, rng, NoiseModel(**{**QUIET, "swap_rate": 0.01}))
    knee_on_left = swapped[:, J["RKnee"], 0] == clean[0, J["LKnee"], 0]
    assert 0.01 < knee_on_left.mean() < 0.04  # 1..3 frames per swap
    assert (swapped[knee_on_left, J["RAnkle"], 0] == clean[0, J["LAnkle"], 0]).all()  # whole leg


def test_missing_points_stay_missing_and_seed_repeats():
    clean = still_pose(50)
    clean[10:20, 3] = 0
    a = apply_noise(clean, np.random.default_rng(5))
    b = apply_noise(clean, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert (a[10:20, 3] == 0).all()


def test_joint_subsets_swap_with_their_partners():
    joints = [J["RKnee"], J["LKnee"], J["Nose"]]
    clean = still_pose(3000)[:, joints]
    out = apply_noise(clean, np.random.default_rng(2), NoiseModel(**{**QUIET, "swap_rate": 0.02}),
                      joints=joints)
    assert (out[:, 0, 0] == clean[0, 1, 0]).any()
    assert (out[:, 2, :2] == clean[:, 2, :2]).all()  # the nose has no partner


def test_default_model_matches_real_detector_statistics(realdata):
    """The calibration the module documents: jitter as real OpenPose's (which also holds real
    motion), per-point error like a real detector on Human3.6M (within a factor of 1.5)."""
    folder = realdata / "keypoint_sequences" / "openpose_body25_real"
    seq = np.stack([read_openpose(f)[0] for f in sorted(folder.glob("*_keypoints.json"))])
    real_jitter = second_difference_jitter(seq) / sequence_scale(seq)
    still = still_pose(2000)
    noisy = apply_noise(still, np.random.default_rng(0))
    model_jitter = second_difference_jitter(noisy) / sequence_scale(still)
    assert 0.67 < model_jitter / real_jitter < 1.5
    det = np.load(realdata / "keypoints_gt" / "h36m" / "test_h36m_2d_detection.npy")
    gt = np.load(realdata / "keypoints_gt" / "h36m" / "test_h36m_body3d.npz")["part"]
    det_err = np.linalg.norm(det[..., :2] - gt[..., :2], axis=-1) / np.ptp(gt[:, :, 1], axis=1)[:, None]
    kept = noisy[..., 2] > 0
    model_err = np.linalg.norm(noisy[..., :2] - still[..., :2], axis=-1)[kept] / sequence_scale(still)
    assert 0.67 < np.median(model_err) / np.median(det_err) < 1.5
