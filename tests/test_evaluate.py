"""pose_animate.evaluate: held-out reconstruction metrics against the nearest-neighbour baseline."""

import json

import numpy as np
import pytest

from pose_animate.core.body import J, N_POINTS, body_height_px
from pose_animate.core.config import validate_config
from pose_animate.renderers.evaluate import (evaluate, image_metrics, keypoint_error, nearest_neighbour,
                                   pose_distance)
from pose_animate.renderers.engine import train
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


def test_evaluate_held_out_frames_against_the_baseline(tmp_path):
    folder = make_subject_folder(tmp_path / "subject", n_frames=10, size=32)
    cfg = validate_config({"train": {"size": 16, "steps": 2, "batch_size": 1, "workers": 0,
                                     "use_background": True, "device": "cpu"}})["train"]
    train(folder, tmp_path / "model.pt", tmp_path / "run", cfg)
    fixed = stick_pose(0, 10, 32)
    detectors = []

    def factory():
        detectors.append(FixedDetector(fixed))
        return detectors[-1]

    result = evaluate(tmp_path / "model.pt", folder, tmp_path / "run" / "cache", factory,
                      subject="stick", device="cpu", frames_path=tmp_path / "frames.jpg",
                      table_path=tmp_path / "table.png")
    assert result["heldout_frames"] == [9, 9]  # the last 10%, never trained on
    assert [d.calls for d in detectors] == [1, 1]  # model, then baseline
    # the arms swing as sin(2 pi t / 10): training frame 6 holds frame 9's exact pose, and
    # the baseline finds it
    nn = result["nearest_neighbour"]
    assert nn["ssim"] == pytest.approx(1) and nn["l1"] == 0 and nn["psnr"] == 100
    assert result["nearest_pose_distance_body_fraction"] == 0
    assert 0 < result["model"]["ssim"] < 1 and result["model"]["l1_mask"] > 0
    wanted = stick_pose(9, 10, 32)
    expected_px = keypoint_error(fixed, wanted)[0]
    for name in ("model", "nearest_neighbour"):
        assert result[name]["keypoint_px"] == pytest.approx(expected_px, abs=1e-3)
        assert result[name]["detected_fraction"] == 1
    assert set(result["beats_baseline"]) == {"ssim", "psnr", "l1", "keypoints"}
    json.dumps(result)  # plain JSON
    assert (tmp_path / "frames.jpg").exists() and (tmp_path / "table.png").exists()
