"""pose_animate.renderers.evaluate (and metrics, baselines): held-out reconstruction metrics
against the nearest-neighbour baseline, in the eval JSON every family shares."""

import json

import cv2
import numpy as np
import pytest

from pose_animate.core.body import J, N_POINTS, body_height_px
from pose_animate.core.config import settings
from pose_animate.core.formats import frame_name, write_flo, write_image
from pose_animate.renderers import evaluate as evaluate_module
from pose_animate.renderers.baselines import nearest_neighbour
from pose_animate.renderers.engine import train
from pose_animate.renderers.evaluate import evaluate
from pose_animate.renderers.metrics import (METRICS, image_metrics, keypoint_error, pose_distance,
                                            resize_flow, warping_error)
from pose_animate.renderers.qa import eval_frames, eval_table
from stick_figure import make_subject_folder, stick_pose


class FixedDetector:
    """Stands in for the keypoint stage's detector: always 'finds' the same pose."""

    def __init__(self, person):
        self.person, self.calls = person, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def detect(self, image):
        self.calls += 1
        return self.person


def test_nearest_neighbour_picks_the_closest_pose():
    poses = np.stack([stick_pose(t, 8, 64) for t in range(8)])
    assert nearest_neighbour(poses, poses[5], penalty=50) == 5
    query = poses[2].copy()
    query[:, :2] += 0.5
    assert nearest_neighbour(poses, query, penalty=50) == 2
    assert pose_distance(poses[0], poses[0], 50) == 0
    half = poses[0].copy()
    half[J["RWrist"]] = 0  # seen in one pose only: costs the penalty
    assert pose_distance(poses[0], half, 50) == pytest.approx(50 / 17)  # 17 points seen
    assert pose_distance(poses[0], np.zeros((N_POINTS, 3), np.float32), 50) == float("inf")


def test_image_metrics_and_keypoint_error():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    same = image_metrics(real, real)
    assert same["ssim"] == pytest.approx(1) and same["l1"] == 0 and same["psnr"] == 100
    off = real.astype(int)
    off[:16] += 10
    noisy = np.clip(off, 0, 255).astype(np.uint8)
    mask = np.zeros((32, 32), np.float32)
    mask[16:] = 1
    m = image_metrics(noisy, real, mask)
    assert m["l1_mask"] == 0 and 0 < m["l1"] < 10 / 255 and 20 < m["psnr"] < 40
    wanted = stick_pose(0, 8, 64)
    moved = wanted.copy()
    moved[:, 0] += 3
    moved[:, 1] += 4
    px, frac = keypoint_error(moved, wanted)
    assert px == pytest.approx(5) and frac == pytest.approx(5 / body_height_px(wanted))
    assert keypoint_error(None, wanted) == (body_height_px(wanted), 1.0)


def test_warping_error_is_zero_for_a_frame_moved_by_its_flow():
    rng = np.random.default_rng(1)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8), (5, 5), 1)
    moved = np.roll(frame, 2, axis=1)  # frame t+1 = frame t moved 2 px right
    back = np.zeros((40, 40, 2), np.float32)
    back[..., 0] = -2  # flow t+1 -> t
    valid = np.ones((40, 40), bool)
    assert warping_error(frame, moved, back, valid) == pytest.approx(0, abs=1e-6)
    assert warping_error(frame, moved, np.zeros_like(back), valid) > 0.02
    assert warping_error(frame, moved, back, np.zeros_like(valid)) is None
    half = resize_flow(back, (20, 20))
    assert half.shape == (20, 20, 2) and np.allclose(half[..., 0], -1)


def test_evaluate_held_out_frames_against_the_baseline(tmp_path, monkeypatch):
    folder = make_subject_folder(tmp_path / "subject", n_frames=10, size=32)
    (folder / "flow_inv").mkdir()
    (tmp_path / "valid" / "bwd").mkdir(parents=True)
    for t in range(9):  # a still camera: zero flow, reliable everywhere but a corner
        write_flo(folder / "flow_inv" / frame_name(t, ".flo"), np.zeros((32, 32, 2), np.float32))
        valid = np.full((32, 32), 255, np.uint8)
        valid[:4, :4] = 0
        write_image(tmp_path / "valid" / "bwd" / frame_name(t), valid)
    cfg = settings("families.edn", size=16, steps=2, batch_size=1, workers=0,
                   use_background=True, device="cpu")
    train("edn", [folder], tmp_path / "model.pt", tmp_path / "run", cfg, name="subject")
    fixed = stick_pose(0, 10, 32)
    detectors = []

    def fixed_detector(keypoints_settings):
        assert keypoints_settings["backend"] == "mediapipe"
        detectors.append(FixedDetector(fixed))
        return detectors[-1]

    monkeypatch.setattr(evaluate_module, "keypoint_detector", fixed_detector)
    evaluation = evaluate(tmp_path / "model.pt", folder, tmp_path / "run" / "cache",
                          settings("keypoints"), valid_dir=tmp_path / "valid", device="cpu",
                          n_shown=1)
    result = evaluation.record
    assert result["family"] == "edn" and result["name"] == "subject"
    assert result["scope"] == "subject"
    assert result["heldout"]["subjects"] == {"subject": [9, 9]}  # the last 10%, never trained on
    assert [d.calls for d in detectors] == [1, 1]  # model, then baseline
    # the arms swing as sin(2 pi t / 10): training frame 6 holds frame 9's exact pose, and
    # the baseline finds it
    nn = result["baselines"]["nearest_neighbour"]
    assert nn["ssim"] == pytest.approx(1) and nn["l1"] == 0 and nn["psnr"] == 100
    assert result["heldout"]["nearest_pose_distance_body_fraction"] == 0
    assert 0 < result["model"]["ssim"] < 1 and result["model"]["l1_mask"] > 0
    wanted = stick_pose(9, 10, 32)
    expected_px = keypoint_error(fixed, wanted)[0]
    for metrics in (result["model"], nn):
        assert set(metrics) == set(METRICS)  # one set of names for the model and baselines
        assert metrics["keypoint_px"] == pytest.approx(expected_px, abs=1e-3)
        assert metrics["detected_fraction"] == 1
        assert metrics["warping_error"] is None  # one held-out frame: no pair
    assert set(result["beats_baselines"]["nearest_neighbour"]) == set(METRICS)
    assert set(result["metrics"]) == set(METRICS)
    json.dumps(result)  # plain JSON
    assert [item["frame"] for item in evaluation.shown] == [9]
    assert eval_table(result).ndim == 3 and eval_frames(evaluation.shown).ndim == 3


def test_warping_error_of_model_baseline_and_real_frames(tmp_path, monkeypatch):
    folder = make_subject_folder(tmp_path / "subject", n_frames=12, size=32)
    (folder / "flow_inv").mkdir()
    for t in range(11):
        write_flo(folder / "flow_inv" / frame_name(t, ".flo"), np.zeros((32, 32, 2), np.float32))
    cfg = settings("families.edn", size=16, steps=1, batch_size=1, workers=0, device="cpu",
                   heldout_fraction=0.34)
    train("edn", [folder], tmp_path / "model.pt", tmp_path / "run", cfg, name="subject")
    monkeypatch.setattr(evaluate_module, "keypoint_detector",
                        lambda cfg: FixedDetector(stick_pose(0, 12, 32)))
    result = evaluate(tmp_path / "model.pt", folder, tmp_path / "run" / "cache",
                      settings("keypoints"), device="cpu").record
    assert result["heldout"]["subjects"] == {"subject": [7, 11]}
    for metrics in (result["model"], result["baselines"]["nearest_neighbour"],
                    result["real_frames"]):
        assert 0 <= metrics["warping_error"] < 1
    assert result["real_frames"]["warping_error"] > 0  # the arms move; zero flow misses them


def test_an_upper_body_view_is_scaled_by_its_shoulders_and_nan_stays_out_of_the_json():
    from pose_animate.renderers.metrics import person_height_px, summary

    person = np.zeros((137, 3), np.float32)
    person[J["Nose"]] = (50, 20, 0.9)
    person[J["RShoulder"]], person[J["LShoulder"]] = (40, 40, 0.9), (64, 40, 0.9)
    assert person_height_px(person) == pytest.approx(4 * 24)  # no ankles: 4 shoulder widths
    assert keypoint_error(None, person) == (pytest.approx(96), 1.0)
    person[J["RAnkle"]] = (45, 200, 0.9)
    assert person_height_px(person) == pytest.approx(180)  # nose to ankle
    assert summary([{"ssim": float("nan")}, {"ssim": 0.5}])["ssim"] == 0.5
    assert summary([{"ssim": float("nan")}])["ssim"] is None
