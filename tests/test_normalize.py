"""Tests of pose_animate.normalize: EDN global normalization and bone-length retargeting."""

import cv2
import numpy as np
import pytest

from pose_animate.clean.normalize import (ankle_statistics, bone_ratios, foot_positions,
                                          normalize_pair, normalize_pose, retarget_bones)
from pose_animate.clean.qa import normalization_plot
from pose_animate.core.body import BODY_25_LIMBS, J, N_POINTS, body_height_px
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_openpose_folder, write_openpose_folder


def synth_keypoints(n_frames, **params) -> np.ndarray:
    """Exact keypoints of a demo figure (no rendering): (T, 137, 3)."""
    from pose_animate.synth.pose import keypoints
    from pose_animate.synth.sequence import Scene

    scene = Scene(n_frames=n_frames, **params)
    return np.stack([keypoints(scene.body, scene.parts, frames, sk)
                     for sk, frames in (scene.pose_at(t) for t in range(n_frames))])


@pytest.fixture(scope="module")
def demo_pair():
    target = synth_keypoints(48, seed=1, size=256, style="groove")
    driving = synth_keypoints(48, seed=2, size=256, style="wave", scale=0.6, offset=[0.15, -0.1],
                              leg_length=1.12, build=0.85)
    return target, driving


def test_demo_driving_feet_land_on_the_target_floor(demo_pair):
    target, driving = demo_pair
    out, record = normalize_pair(driving, target)
    floor = foot_positions(target).max()
    feet = foot_positions(out)
    standing = foot_positions(driving) >= foot_positions(driving).max() - 1.0
    assert standing.sum() >= 5
    assert np.abs(feet[standing] - floor).max() < 3.0
    # Sizes match too: the nose-to-ankle heights agree within 3 %.
    h_out = np.median([body_height_px(p) for p in out])
    h_target = np.median([body_height_px(p) for p in target])
    assert abs(h_out / h_target - 1) < 0.03
    assert not record["depth_mapping"]  # the demo figures dance in place


def test_demo_clip_on_disk(synth_clip, tmp_path, demo_pair):
    """Through the folder function, on the synth_clip fixture's truth keypoints."""
    target = read_openpose_folder(synth_clip.truth / "keypoints")
    write_openpose_folder(tmp_path, demo_pair[1][:len(target)] * [192 / 256, 192 / 256, 1])
    record = normalize_pose(tmp_path, synth_clip.truth / "keypoints", tmp_path / "out",
                            settings("normalize"), driving_name="d", target_name="t")
    raw, goal = read_openpose_folder(tmp_path), target
    out = read_openpose_folder(tmp_path / "out")
    standing = foot_positions(raw) >= foot_positions(raw).max() - 1.0
    assert np.abs(foot_positions(out)[standing] - foot_positions(goal).max()).max() < 3.0
    assert record["target_subject"] == "t"
    assert len(list((tmp_path / "out").glob("*_keypoints.json"))) == len(target)
    plot = normalization_plot(tmp_path, synth_clip.truth / "keypoints", tmp_path / "out", record)
    assert plot.shape == (405, 1080, 3)  # 12 x 4.5 in at 90 dpi
    assert len(cv2.imencode(".png", plot)[1]) > 10_000


def depth_walk(n_frames=60) -> np.ndarray:
    """A stick figure walking away from the camera: feet rise from y=450 to 300 while its
    height shrinks from 300 to 150 px (perspective)."""
    t = np.linspace(0, 1, n_frames)
    foot = 450 - 150 * t
    height = 300 - 150 * t
    seq = np.zeros((n_frames, N_POINTS, 3), np.float32)
    rel = {"Nose": (0, -1.0), "Neck": (0, -0.85), "MidHip": (0, -0.5), "RHip": (-0.06, -0.5),
           "LHip": (0.06, -0.5), "RKnee": (-0.07, -0.25), "LKnee": (0.07, -0.25),
           "RAnkle": (-0.08, 0.0), "LAnkle": (0.08, -0.01), "RShoulder": (-0.12, -0.85),
           "LShoulder": (0.12, -0.85), "RWrist": (-0.2, -0.5), "LWrist": (0.2, -0.5)}
    for name, (dx, dy) in rel.items():
        seq[:, J[name], 0] = 320 + dx * height + 40 * np.sin(6 * t)
        seq[:, J[name], 1] = foot + dy * height
        seq[:, J[name], 2] = 0.9
    return seq


@pytest.mark.parametrize("walk", [False, True])
def test_a_scaled_copy_of_the_target_is_mapped_back_onto_it(walk):
    target = depth_walk() if walk else synth_keypoints(30, seed=3, size=256)
    driving = target.copy()
    driving[..., 0] = 0.5 * target[..., 0] + 37
    driving[..., 1] = 0.5 * target[..., 1] - 12
    out, record = normalize_pair(driving, target)
    assert record["depth_mapping"] == walk
    seen = target[..., 2] > 0
    np.testing.assert_allclose(out[seen][:, :2], target[seen][:, :2], atol=0.05)
    assert (out[~seen] == 0).all()


def test_statistics_are_robust_to_outliers_and_missing_ankles():
    seq = depth_walk()
    clean = ankle_statistics(seq)
    bad = seq.copy()
    bad[5, J["RAnkle"], 1] = 2000       # one wild ankle
    bad[10:20, [J["RAnkle"], J["LAnkle"]]] = 0  # ankles missing for 10 frames
    noisy = ankle_statistics(bad)
    for key in ("far", "close", "height_far", "height_close"):
        assert abs(noisy[key] - clean[key]) < 0.03 * clean["height_close"]


def test_no_visible_feet_is_a_clear_error():
    seq = depth_walk(20)
    seq[:, [J["RAnkle"], J["LAnkle"]]] = 0
    with pytest.raises(PoseAnimateError, match="subject 'bob'.*ankle.*Fix"):
        ankle_statistics(seq, name="bob")


LOWER_BODY = [J[n] for n in ("MidHip", "RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle",
                               "RBigToe", "LBigToe", "RSmallToe", "LSmallToe", "RHeel",
                               "LHeel")]


def test_an_upper_body_target_is_normalized_by_the_shoulders(demo_pair, tmp_path):
    """A speaker seen from the waist up has no feet: auto takes the shoulders (the speech
    seed's rescaling): shoulder width and median neck become the target's."""
    target, driving = demo_pair
    speaker = target.copy()
    speaker[:, LOWER_BODY] = 0
    out, record = normalize_pair(driving, speaker)
    assert record["mode"] == "shoulders" and "ankle" in record["why"]
    width = lambda seq: np.median(np.linalg.norm(seq[:, J["RShoulder"], :2]  # noqa: E731
                                                 - seq[:, J["LShoulder"], :2], axis=-1))
    assert width(out) == pytest.approx(width(speaker), rel=1e-4)
    assert np.median(out[:, J["Neck"], :2], axis=0) == pytest.approx(
        np.median(speaker[:, J["Neck"], :2], axis=0), abs=1e-3)
    assert record["scale_median"] == pytest.approx(width(speaker) / width(driving), rel=1e-4)
    missing = driving[..., 2] <= 0
    assert (out[missing] == 0).all()  # missing points stay missing
    # feet forced: the ankles' error; the full-body pair keeps the feet under auto
    with pytest.raises(PoseAnimateError, match="ankle"):
        normalize_pair(driving, speaker, mode="feet", target_name="speaker")
    assert normalize_pair(driving, target)[1]["mode"] == "feet"
    assert normalize_pair(driving, target, mode="shoulders")[1]["mode"] == "shoulders"
    # its QA plot follows the neck
    for name, seq in (("d", driving), ("t", speaker), ("n", out)):
        (tmp_path / name).mkdir()
        write_openpose_folder(tmp_path / name, seq)
    picture = normalization_plot(tmp_path / "d", tmp_path / "t", tmp_path / "n",
                                 {**record, "driving_subject": "d", "target_subject": "t"})
    assert picture.ndim == 3


def test_no_shoulders_is_a_clear_error(demo_pair):
    target, driving = demo_pair
    bare = target.copy()
    bare[:, LOWER_BODY + [J["RShoulder"]]] = 0
    with pytest.raises(PoseAnimateError, match="subject 'bob'.*shoulders.*Fix"):
        normalize_pair(driving, bare, target_name="bob")


def test_retargeting_gives_target_proportions_and_keeps_angles():
    target = synth_keypoints(20, seed=1, size=256)
    driving = synth_keypoints(20, seed=2, size=256, leg_length=1.3, arm_length=0.8)
    out = retarget_bones(driving, target)
    ratios = bone_ratios(out, target)
    # Every bone the two share now has the target's length relative to body size (within
    # the change of body size that retargeting itself causes).
    assert np.abs(ratios / np.median(ratios) - 1).max() < 0.03
    for a, b in BODY_25_LIMBS:
        ok = (driving[:, a, 2] > 0) & (driving[:, b, 2] > 0)
        u = driving[ok, b, :2] - driving[ok, a, :2]
        v = out[ok, b, :2] - out[ok, a, :2]
        cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1) + 1e-9)
        assert (cos[np.linalg.norm(u, axis=-1) > 1] > 0.9999).all()


def test_unreadable_keypoints_name_the_subject(tmp_path):
    (tmp_path / "t").mkdir()
    write_openpose_folder(tmp_path / "t", depth_walk(10))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "000000_keypoints.json").write_text("{not json")
    with pytest.raises(PoseAnimateError, match="subject 'drv'.*000000_keypoints.json.*Fix"):
        normalize_pose(tmp_path / "d", tmp_path / "t", tmp_path / "out", settings("normalize"),
                       driving_name="drv", target_name="tgt")
    assert not (tmp_path / "out").exists()
