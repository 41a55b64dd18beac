"""Tests of pose_animate.clean: confidence, swaps, outliers, gaps, filters, the folder stage."""

import numpy as np
import pytest

from pose_animate.clean.filters import (clean_sequence, fill_gaps, lag_frames, local_polynomial,
                                        one_euro, prepare, repair_swaps,
                                        second_difference_jitter, sequence_scale, smooth,
                                        valid_mask)
from pose_animate.clean.qa import overlay_video, trajectory_plot
from pose_animate.clean.stage import clean_keypoints
from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J, N_POINTS
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import (read_openpose, read_openpose_folder, write_json,
                                       write_openpose_folder)


def moving_person(n_frames=80, seed=0) -> np.ndarray:
    """A (T, 137, 3) person: a fixed layout of points, 400 px tall, swaying as a whole on a
    slow sinusoid while each point wobbles on its own (smooth, known truth)."""
    rng = np.random.default_rng(seed)
    base = np.zeros((N_POINTS, 2))
    base[:, 0] = rng.uniform(200, 400, N_POINTS)
    base[:, 1] = rng.uniform(100, 500, N_POINTS)
    base[J["Nose"], 1], base[J["RAnkle"], 1] = 100, 500
    t = np.arange(n_frames)[:, None]
    phase = rng.uniform(0, 2 * np.pi, N_POINTS)
    seq = np.zeros((n_frames, N_POINTS, 3), np.float32)
    seq[..., 0] = base[:, 0] + 30 * np.sin(2 * np.pi * t / 40) + 6 * np.sin(2 * np.pi * t / 30 + phase)
    seq[..., 1] = base[:, 1] + 20 * np.cos(2 * np.pi * t / 50) + 6 * np.cos(2 * np.pi * t / 25 + phase)
    seq[..., 2] = 0.9
    return seq


def mpjpe(a, b, mask):
    return float(np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)[mask].mean())


def test_jitter_is_reduced_and_error_falls():
    truth = moving_person()
    noisy = truth.copy()
    noisy[..., :2] += np.random.default_rng(1).normal(0, 3, noisy[..., :2].shape)
    cleaned, counts = clean_sequence(noisy)
    everywhere = np.ones(truth.shape[:2], bool)
    assert mpjpe(cleaned, truth, everywhere) < 0.6 * mpjpe(noisy, truth, everywhere)
    assert second_difference_jitter(cleaned) < 0.35 * second_difference_jitter(noisy)
    assert counts["outliers"] < 0.002 * truth.shape[0] * truth.shape[1]  # noise is not outliers


def test_low_confidence_points_are_missing_and_short_gaps_filled():
    truth = moving_person()
    raw = truth.copy()
    raw[30:35, J["RWrist"], 2] = 0.05          # below min_confidence: a 5-frame gap, filled
    raw[10:40, J["LWrist"]] = 0                # 30 frames: longer than max_gap, stays missing
    cleaned, counts = clean_sequence(raw, min_confidence=0.1, max_gap=10)
    assert (cleaned[30:35, J["RWrist"], 2] > 0).all()
    # Linear interpolation across a curved path: within a few pixels.
    np.testing.assert_allclose(cleaned[30:35, J["RWrist"], :2], truth[30:35, J["RWrist"], :2],
                               atol=4.0)
    assert (cleaned[10:40, J["LWrist"]] == 0).all()
    assert counts["low_confidence"] == 5 and counts["filled"] >= 5


def test_frames_with_nobody_stay_empty_unless_inside_a_short_gap():
    raw = moving_person(100)
    raw[20:23] = 0   # 3 empty frames: the person is interpolated there
    raw[50:80] = 0   # 30 empty frames: they stay empty
    cleaned, _ = clean_sequence(raw, max_gap=10)
    assert (cleaned[20:23, :, 2] > 0).all()
    assert (cleaned[50:80] == 0).all()
    assert (cleaned[:20, :, 2] > 0).all()


def test_far_outlier_is_rejected_and_replaced_near_the_truth():
    truth = moving_person()
    raw = truth.copy()
    raw[40, J["LKnee"], :2] += (150, -120)  # a jump of ~190 px, half the body height
    _, counts = clean_sequence(raw, filters={"body": {"method": "none"}})
    assert counts["outliers"] >= 1
    cleaned, _ = clean_sequence(raw)
    assert np.linalg.norm(cleaned[40, J["LKnee"], :2] - truth[40, J["LKnee"], :2]) < 3.0


def test_bone_much_longer_than_usual_loses_an_endpoint():
    seq = moving_person()
    valid = valid_mask(seq)
    bad = seq.copy()
    # The wrist drifts away slowly (no jump for the Hampel test) until the forearm is 3x long.
    elbow, wrist = J["RElbow"], J["RWrist"]
    bad[60:, wrist, :2] = bad[60:, elbow, :2] + 3 * (bad[60:, wrist, :2] - bad[60:, elbow, :2])
    prep = prepare(bad, max_gap=0, swap_repair=False,
                   outliers={"min_jump": 10.0, "max_bone_ratio": 1.6})
    assert not prep["observed"][70:, wrist].any()
    assert prep["observed"][70:, elbow].all()
    assert valid.all()


def test_left_right_leg_swap_is_repaired():
    truth = moving_person()
    raw = truth.copy()
    # Separate the legs clearly, then swap them for two frames as detectors do.
    right = [J[n] for n in ("RHip", "RKnee", "RAnkle", "RBigToe", "RSmallToe", "RHeel")]
    left = [J[n] for n in ("LHip", "LKnee", "LAnkle", "LBigToe", "LSmallToe", "LHeel")]
    raw[:, right, 0] = truth[:, right, 0] = 250
    raw[:, left, 0] = truth[:, left, 0] = 350
    raw[33:35, right + left] = truth[33:35, left + right]
    fixed, valid, n_swapped = repair_swaps(raw, valid_mask(raw))
    assert n_swapped == 2
    np.testing.assert_array_equal(fixed[:, right + left], truth[:, right + left])


def test_swapped_first_frame_does_not_flip_the_whole_video():
    truth = moving_person()
    arms_r = [J["RShoulder"], J["RElbow"], J["RWrist"]]
    arms_l = [J["LShoulder"], J["LElbow"], J["LWrist"]]
    truth[:, arms_r, 0], truth[:, arms_l, 0] = 200, 400
    raw = truth.copy()
    raw[0, arms_r + arms_l] = truth[0, arms_l + arms_r]
    raw[0, HAND_LEFT], raw[0, HAND_RIGHT] = truth[0, HAND_RIGHT], truth[0, HAND_LEFT]
    fixed, _, n_swapped = repair_swaps(raw, valid_mask(raw))
    assert n_swapped == 1
    np.testing.assert_array_equal(fixed, truth)


def test_local_polynomial_keeps_a_parabola_exactly_and_bridges_missing_points():
    t = np.arange(50, dtype=float)
    x = 0.05 * (t - 20) ** 2 + 3 * t
    w = np.ones_like(x)
    w[10:13] = 0  # missing: the fit interpolates them from the neighbours
    est, support = local_polynomial(x, w, np.ones(9), order=2)
    np.testing.assert_allclose(est, x, atol=1e-3)  # no lag, no bias, also at both ends
    assert (support > 0).all()
    const, _ = local_polynomial(np.full(20, 7.0), np.linspace(0.2, 1, 20), np.ones(5), 0)
    np.testing.assert_allclose(const, 7.0)


def test_one_euro_passes_constants_and_lags_on_ramps():
    x = np.zeros((40, 1, 2))
    x[:, 0, 0] = np.arange(40)
    ok = np.ones((40, 1), bool)
    out = one_euro(x, ok, min_cutoff=0.05, beta=0.0)
    assert out[-1, 0, 0] < 39 - 1          # causal: it lags on a ramp
    np.testing.assert_allclose(out[:, 0, 1], 0)


@pytest.mark.parametrize("method", ["gaussian", "savgol", "one_euro"])
def test_every_filter_smooths_white_noise(method):
    rng = np.random.default_rng(3)
    truth = np.cumsum(rng.normal(0, 0.3, (200, 4, 2)), axis=0)
    noisy = truth + rng.normal(0, 2, truth.shape)
    ok = np.ones((200, 4), bool)
    out = smooth(noisy.astype(np.float32), ok.astype(float), ok, method, window=9, order=2,
                 sigma=2.0, min_cutoff=0.05, beta=0.5, scale=100.0)
    assert np.abs(out - truth).mean() < 0.75 * np.abs(noisy - truth).mean()


def test_groups_take_their_own_filter():
    truth = moving_person()
    noisy = truth.copy()
    noisy[..., :2] += np.random.default_rng(2).normal(0, 2, noisy[..., :2].shape)
    out, _ = clean_sequence(noisy, filters={"body": {"method": "none"},
                                            "face": {"method": "gaussian", "sigma": 2.0}})
    # Body unfiltered (outliers/gaps aside), face smoothed.
    np.testing.assert_allclose(out[:, :25, :2], noisy[:, :25, :2], atol=1e-3)
    assert second_difference_jitter(out, FACE) < 0.5 * second_difference_jitter(noisy, FACE)


def test_fill_gaps_never_extrapolates_at_the_ends():
    seq = moving_person(30)
    valid = valid_mask(seq)
    valid[:4, 0] = False
    valid[-3:, 1] = False
    filled_seq, filled = fill_gaps(seq, valid, max_gap=10)
    assert not filled[:4, 0].any() and not filled[-3:, 1].any()
    assert (filled_seq[:4, 0] == 0).all()


def test_sequence_scale_is_the_body_height():
    assert abs(sequence_scale(moving_person()) - 400) < 45


def test_clean_folder_writes_atomically_and_records(tmp_path):
    raw_dir, out_dir = tmp_path / "raw", tmp_path / "clean"
    raw_dir.mkdir()
    raw = moving_person(20)
    raw[5:7] = 0
    raw[15:] = 0
    write_openpose_folder(raw_dir, raw)
    before = {p.name: p.read_bytes() for p in raw_dir.iterdir()}
    record = clean_keypoints(raw_dir, out_dir, settings("clean", max_gap=4))
    cleaned = read_openpose_folder(out_dir)
    assert cleaned.shape == raw.shape
    assert read_openpose(out_dir / "000016_keypoints.json") == []   # nobody: stays empty
    assert len(read_openpose(out_dir / "000005_keypoints.json")) == 1  # short gap: filled
    assert record["frames_with_person_raw"] == 13 and record["frames_with_person_cleaned"] == 15
    assert record["frames"] == 20 and record["options"]["max_gap"] == 4
    assert {p.name: p.read_bytes() for p in raw_dir.iterdir()} == before  # input untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_clean_folder_errors_name_the_subject_and_fix(tmp_path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(PoseAnimateError, match="raw: no \\*_keypoints.json.*Fix"):
        clean_keypoints(tmp_path / "raw", tmp_path / "out", settings("clean"))
    assert not (tmp_path / "out").exists()


def test_clean_qa_draws_from_the_folders(tmp_path, synth_clip):
    raw_dir, out_dir = tmp_path / "raw", tmp_path / "clean"
    raw_dir.mkdir()
    raw = read_openpose_folder(synth_clip.truth / "keypoints")
    raw[3] = 0
    write_openpose_folder(raw_dir, raw)
    clean_keypoints(raw_dir, out_dir, settings("clean"))
    plot = trajectory_plot(raw_dir, out_dir, title="raw vs cleaned")
    assert plot.dtype == np.uint8 and plot.shape == (810, 1080, 3)  # 12 x 9 in at 90 dpi
    write_json(tmp_path / "frames.json", {"fps": 12})
    n = overlay_video(synth_clip.truth / "frames", tmp_path / "frames.json", raw_dir, out_dir,
                      tmp_path / "overlay.mp4")
    assert n == len(raw) and (tmp_path / "overlay.mp4").stat().st_size > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_real_openpose_jitter_halved_without_lag(realdata):
    folder = realdata / "keypoint_sequences" / "openpose_body25_real"
    seq = np.stack([read_openpose(f)[0] for f in sorted(folder.glob("*_keypoints.json"))])
    cleaned, _ = clean_sequence(seq)
    kept = np.where((seq[..., 2] >= 0.1)[..., None], cleaned, 0)
    assert second_difference_jitter(kept) < 0.5 * second_difference_jitter(seq)
    assert lag_frames(seq[:, :25], cleaned[:, :25]) == 0


def test_lag_is_zero_for_symmetric_filters_and_positive_for_one_euro():
    rng = np.random.default_rng(4)
    raw = np.zeros((200, 6, 3), np.float32)
    t = np.arange(200)[:, None, None]
    raw[..., :2] = 20 * np.sin(2 * np.pi * t / rng.uniform(30, 60, (1, 6, 2)) + rng.uniform(0, 6, (1, 6, 2)))
    raw[..., :2] += rng.normal(0, 1, (200, 6, 2))
    raw[..., 2] = 1
    ok = np.ones((200, 6), bool)
    for method, lag in (("savgol", 0), ("gaussian", 0)):
        out = raw.copy()
        out[..., :2] = smooth(raw[..., :2], ok.astype(float), ok, method, window=9, sigma=2.0)
        assert lag_frames(raw, out) == lag
    out = raw.copy()
    out[..., :2] = one_euro(raw[..., :2], ok, min_cutoff=0.02, beta=0.0)
    assert lag_frames(raw, out) > 0


def test_filled_points_are_not_extrapolated_from_one_side():
    """A gap's edge point with data on one side only keeps its interpolated value instead of a
    one-sided slope fitted to a few far points."""
    t = np.arange(40, dtype=np.float32)
    xy = np.stack([t, np.zeros_like(t)], -1)[:, None, :]
    xy[20:, 0, 0] += 50  # a step right after the gap
    weight = np.ones((40, 1), np.float32)
    weight[15:20] = 0  # a 5-frame gap before the step, filled linearly
    xy[15:20, 0, 0] = np.linspace(xy[14, 0, 0], xy[20, 0, 0], 7)[1:-1]
    out = smooth(xy, weight, np.ones((40, 1), bool), "gaussian", sigma=1.0)
    np.testing.assert_allclose(out[16:19, 0, 0], xy[16:19, 0, 0])  # interior of the gap: kept


@pytest.mark.parametrize("method", ["gaussian", "savgol"])
def test_long_videos_are_filtered_in_slices_with_the_same_result(monkeypatch, method):
    """The windowed filters run on time slices (bounded memory): slicing changes nothing."""
    import pose_animate.clean.filters as filters

    rng = np.random.default_rng(3)
    seq = moving_person(300, seed=3)
    seq[..., :2] += rng.normal(0, 3, seq[..., :2].shape)
    seq[rng.random(seq.shape[:2]) < 0.05, 2] = 0.0  # dropped points: gaps to fill
    seq[100:104, J["RWrist"], :2] += 300  # outliers near a slice boundary
    options = dict(filters={group: {"method": method} for group in ("body", "face", "hands")})
    whole, whole_counts = clean_sequence(seq, **options)
    monkeypatch.setattr(filters, "CHUNK", 37)
    sliced, sliced_counts = clean_sequence(seq, **options)
    np.testing.assert_array_equal(sliced, whole)
    assert sliced_counts == whole_counts and whole_counts["outliers"] >= 4
