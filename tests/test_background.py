import cv2
import numpy as np
import pytest

from pose_animate.appearance.background import (build_plate, inpaint_holes, masked_median,
                                                plate_picture, write_plate)
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_image, write_image


def scene(size=96, seed=0):
    """A textured background with corner-like detail that feature tracking can follow."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size // 6, size // 6, 3), np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST)


def write_clip(root, n=12, size=96, pan=0.0, person_leaves=(), travel=66):
    """A disc 'person' crossing a background; the camera pans `pan` px per frame."""
    wide = scene(size * 2)
    (root / "frames").mkdir(parents=True)
    (root / "mask").mkdir()
    for t in range(n):
        x0 = int(round(pan * t))
        frame = wide[:size, x0:x0 + size].copy()
        mask = np.zeros((size, size), np.uint8)
        if t not in person_leaves:
            cv2.circle(mask, (int(15 + travel * t / (n - 1)), size // 2), 14, 255, -1)
        frame[mask > 0] = (40, 200, 40)
        write_image(root / "frames" / f"{t:06d}.png", frame)
        write_image(root / "mask" / f"{t:06d}.png", mask)
    return root / "frames", root / "mask", wide[:size, :size]


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / max(mse, 1e-10))


def test_masked_median_ignores_covered_samples():
    stack = np.array([10, 20, 200, 30, 250], np.uint8).reshape(5, 1, 1, 1).repeat(3, 3)
    covered = np.array([False, False, True, False, True]).reshape(5, 1, 1)
    median, count = masked_median(stack, covered)
    assert count[0, 0] == 3 and median[0, 0, 0] == 20
    median, count = masked_median(stack[:2], covered[:2])  # even count: mean of the middle two
    assert median[0, 0, 0] == 15


def test_static_camera_gives_a_clean_plate(tmp_path):
    frames, masks, truth = write_clip(tmp_path)
    summary = write_plate(frames, masks, tmp_path / "bg.jpg", tmp_path / "hole.png",
                          settings("background", dilate=0.02, jpeg_quality=100))
    assert summary["clean_plate"] and summary["camera_motion_px"] < 0.5
    plate = read_image(tmp_path / "bg.jpg")
    assert psnr(plate, truth) > 25  # JPEG on hard colour edges
    assert summary["inpainted_fraction"] == 0
    plate, _, _ = build_plate(frames, masks)
    assert psnr(plate, truth) > 45  # every pixel was uncovered in some frame
    assert summary["method"] == "masked temporal median"
    picture = plate_picture(frames, tmp_path / "bg.jpg", tmp_path / "hole.png", summary)
    assert picture.shape == (256, 3 * 256, 3)


def test_never_uncovered_pixels_are_inpainted_and_counted(tmp_path):
    frames, masks, truth = write_clip(tmp_path, n=4, travel=10)  # always covers x 25..29
    plate, hole, summary = build_plate(frames, masks, max_samples=3)
    assert 0 < summary["inpainted_fraction"] == pytest.approx(hole.mean(), abs=1e-4)
    assert psnr(plate[~hole], truth[~hole]) > 35
    assert not (plate[hole] == (40, 200, 40)).all(-1).any()  # no person colour left in it


def test_a_panning_camera_is_detected_not_smeared(tmp_path):
    frames, masks, _ = write_clip(tmp_path, n=12, pan=1.0)
    plate, hole, summary = build_plate(frames, masks)
    assert not summary["clean_plate"]
    assert summary["camera_motion_px"] == pytest.approx(11, abs=1.5)
    assert "camera moves" in summary["method"]
    with pytest.raises(PoseAnimateError, match="camera moves.*no clean plate"):
        build_plate(frames, masks, on_camera_motion="error")


def test_person_leaving_the_frame_and_bad_mask_count(tmp_path):
    frames, masks, truth = write_clip(tmp_path, n=8, person_leaves=(3, 4))
    plate, hole, summary = build_plate(frames, masks)
    assert summary["clean_plate"] and summary["inpainted_fraction"] == 0
    (masks / "000007.png").unlink()
    with pytest.raises(PoseAnimateError, match="7 masks for 8 frames"):
        build_plate(frames, masks)


@pytest.mark.parametrize("method", ["telea", "ns", "fsr"])
def test_inpainting_methods_fill_the_hole(method):
    image = np.full((40, 40, 3), 120, np.uint8)
    hole = np.zeros((40, 40), bool)
    hole[15:25, 15:25] = True
    image[hole] = 0
    out = inpaint_holes(image, hole, method)
    assert np.abs(out[hole].astype(int) - 120).max() <= 3


def test_synth_plate_against_the_true_background(synth_clip):
    truth = synth_clip.truth
    plate, hole, summary = build_plate(truth / "frames", truth / "mask")
    background = read_image(truth / "background.png")
    assert summary["clean_plate"] and summary["camera_motion_px"] < 1
    assert 0 < summary["inpainted_fraction"] < 0.3  # the figure dances in place
    assert psnr(plate[~hole], background[~hole]) > 40


def test_synth_slow_pan_is_flagged(tmp_path):
    from pose_animate.synth import write_demo

    write_demo(tmp_path, seed=0, n_frames=12, size=128, fps=12, pan=[0.5, 0.0])
    _, _, summary = build_plate(tmp_path / "truth" / "frames", tmp_path / "truth" / "mask")
    assert not summary["clean_plate"]
    assert summary["camera_motion_px"] == pytest.approx(5.5, abs=1.5)


def test_blank_background_cannot_measure_motion_but_still_builds(tmp_path, caplog):
    (tmp_path / "frames").mkdir()
    (tmp_path / "mask").mkdir()
    for t in range(4):
        frame = np.full((64, 64, 3), 128, np.uint8)
        mask = np.zeros((64, 64), np.uint8)
        cv2.rectangle(mask, (8 + 12 * t, 20), (18 + 12 * t, 40), 255, -1)
        frame[mask > 0] = 0
        write_image(tmp_path / "frames" / f"{t:06d}.png", frame)
        write_image(tmp_path / "mask" / f"{t:06d}.png", mask)
    with caplog.at_level("WARNING", logger="pose_animate"):
        plate, _, summary = build_plate(tmp_path / "frames", tmp_path / "mask")
    assert summary["motion_pairs_unmeasured"] == 3 and summary["clean_plate"]
    assert "could not be measured" in caplog.text
    assert (plate == 128).all()
