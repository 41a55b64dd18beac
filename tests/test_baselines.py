"""The renderers' baselines (pose_animate/renderers/baselines.py): the piecewise-affine warp on
made poses and on the demo figure's exact parts and keypoints."""

import numpy as np
import pytest

from pose_animate.core.body import J, N_POINTS, PART
from pose_animate.renderers.baselines import bone_transform, inpainted_plate, piecewise_affine
from pose_animate.renderers.metrics import image_metrics


def _person(**points):
    p = np.zeros((N_POINTS, 3), np.float32)
    for name, (x, y) in points.items():
        p[J[name]] = (x, y, 1)
    return p


def test_a_bone_moves_by_the_similarity_that_takes_its_joints_along():
    a = _person(RShoulder=(10, 10), RElbow=(10, 30))
    b = _person(RShoulder=(50, 40), RElbow=(90, 40))  # turned 90 degrees, twice as long
    m = bone_transform(a, b, ("RShoulder", "RElbow"))
    for name in ("RShoulder", "RElbow"):
        assert m @ np.append(a[J[name], :2], 1) == pytest.approx(b[J[name], :2])
    assert np.linalg.det(m[:, :2]) == pytest.approx(4.0)  # a similarity: scale 2, no shear
    three = ("RShoulder", "LShoulder", "MidHip")
    a3 = _person(RShoulder=(0, 0), LShoulder=(20, 0), MidHip=(10, 30))
    b3 = _person(RShoulder=(5, 5), LShoulder=(30, 8), MidHip=(12, 40))
    m3 = bone_transform(a3, b3, three)
    for name in three:
        assert m3 @ np.append(a3[J[name], :2], 1) == pytest.approx(b3[J[name], :2], abs=1e-4)
    assert bone_transform(a, _person(RShoulder=(1, 1)), ("RShoulder", "RElbow")) is None


def test_the_same_pose_gives_the_frame_back_and_a_shifted_pose_a_shifted_frame():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (80, 80, 3), np.uint8)
    background = np.zeros_like(image)
    parts = np.zeros((80, 80), np.uint8)
    parts[20:50, 30:50] = PART["torso_front"]
    parts[20:45, 50:56] = PART["left_upper_arm_front"]
    pose = _person(RShoulder=(30, 20), LShoulder=(50, 20), MidHip=(40, 50), LElbow=(53, 44))
    same = piecewise_affine(image, parts, pose, pose, background)
    assert np.array_equal(same[parts > 0], image[parts > 0]) and not same[parts == 0].any()
    moved = pose.copy()
    moved[:, :2] += (7, 3)
    shifted = piecewise_affine(image, parts, pose, moved, background)
    assert np.array_equal(shifted[23:53, 37:57], image[20:50, 30:50])
    # a part whose bone the target lacks is left out
    no_arm = moved.copy()
    no_arm[J["LElbow"]] = 0
    assert not piecewise_affine(image, parts, pose, no_arm, background)[30, 60].any()


def test_on_the_demo_figure_it_beats_copying_the_first_frame():
    """Each demo frame from frame 0 (exact parts and keypoints, the true background)."""
    from pose_animate.synth import render_sequence

    frames = list(render_sequence(seed=1, n_frames=12, size=160, style="groove"))
    first = frames[0]
    copy, warp = [], []
    for frame in frames[4:]:
        warped = piecewise_affine(first.image, first.iuv[0], first.keypoints, frame.keypoints,
                                  frame.background)
        copy.append(image_metrics(first.image, frame.image)["l1"])
        warp.append(image_metrics(warped, frame.image)["l1"])
    assert np.mean(warp) < 0.8 * np.mean(copy), (np.mean(warp), np.mean(copy))


def test_the_inpainted_plate_fills_the_person_from_the_scene_and_keeps_the_rest():
    """A grey-gradient scene with a red 'person': the plate has no red where the person was
    and is the image itself away from it; the image is not modified."""
    scene = np.repeat(np.linspace(40, 200, 64, dtype=np.float32)[None, :, None], 64, 0)
    image = np.repeat(scene, 3, 2).astype(np.uint8)
    parts = np.zeros((64, 64), np.uint8)
    parts[20:44, 26:38] = PART["torso_front"]
    image[parts > 0] = (0, 0, 255)
    before = image.copy()
    plate = inpainted_plate(image, parts)
    assert np.array_equal(image, before)
    inside = plate[parts > 0].astype(int)
    assert (inside[:, 2] - inside[:, 1]).max() < 40  # grey, not red
    assert np.abs(inside[:, 0] - scene[parts > 0][:, 0]).mean() < 25  # the gradient continued
    far = np.ones((64, 64), bool)
    far[14:50, 20:44] = False
    assert np.array_equal(plate[far], image[far])
    assert np.array_equal(inpainted_plate(image, np.zeros_like(parts)), image)  # nobody
