"""The speech-driven Pose2Img seed's files (pose_animate/keypoints/gestures.py): gesture npz
and (3, 137) arrays, on made files and on the real ones of ../shared/realdata/upper_body."""

import numpy as np
import pytest

from pose_animate.clean.normalize import normalize_pair
from pose_animate.core.body import J, N_POINTS
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.skeletons import POSE122_FROM
from pose_animate.keypoints.gestures import read_gestures, read_pose137


def _people(n=6, seed=0):
    rng = np.random.default_rng(seed)
    people = np.zeros((n, N_POINTS, 3), np.float32)
    people[:, POSE122_FROM, :2] = rng.uniform(100, 500, (n, len(POSE122_FROM), 2))
    people[:, POSE122_FROM, 2] = 1
    return people


def _gesture_file(path, people, scale=1.0, **extra):
    """What the seed's speech model writes for `people`: the 122 points less the neck,
    relative to it, times its scale, (1, T, 2, 121)."""
    points = people[:, POSE122_FROM, :2].astype(np.float64)
    neck = people[:, [J["Neck"]], :2]
    offsets = np.delete((points - neck) * scale, POSE122_FROM.index(J["Neck"]), axis=1)
    np.savez(path, poses_pred_batch=offsets.transpose(0, 2, 1)[None], **extra)
    return path


def test_a_gesture_file_comes_back_at_the_speakers_neck(tmp_path):
    people = _people()
    people[:, J["Neck"], :2] = (300, 200)  # the seed adds one mean neck for all frames
    path = _gesture_file(tmp_path / "g.npz", people, scale=2.0,
                         code_sequence_gen=np.zeros((1, 32, 6)))
    read = read_gestures(path, neck=(300, 200), scale=2.0)
    assert read.people.shape == (6, N_POINTS, 3) and read.invalid == 0
    assert np.allclose(read.people[:, POSE122_FROM], people[:, POSE122_FROM], atol=1e-3)
    others = [i for i in range(N_POINTS) if i not in POSE122_FROM]  # hips, legs, feet, ears
    assert (read.people[:, others] == 0).all()
    assert J["MidHip"] in others and J["REar"] in others


def test_nan_points_are_missing_and_counted(tmp_path):
    people = _people()
    path = _gesture_file(tmp_path / "g.npz", people)
    with np.load(path) as archive:
        poses = archive["poses_pred_batch"].copy()
    poses[0, 2, :, 5] = np.nan  # one point of frame 2
    poses[0, 3, 0, 7] = np.inf
    np.savez(path, poses_pred_batch=poses)
    read = read_gestures(path)
    assert read.invalid == 2
    assert (read.people[2, POSE122_FROM[6]] == 0).all()  # index 5 of 121 is 6 of 122
    np.savez(path, poses_pred_batch=np.full_like(poses, np.nan))
    with pytest.raises(PoseAnimateError, match="every point .* NaN"):
        read_gestures(path)


@pytest.mark.parametrize("content, message", [
    ({"other": np.zeros((1, 4, 2, 121))}, "no 'poses_pred_batch' .*other"),
    ({"poses_pred_batch": np.zeros((1, 4, 2, 122))}, r"shape \(1, 4, 2, 122\).*\(1, T, 2, 121\)"),
    ({"poses_pred_batch": np.zeros((4, 2, 121))}, r"shape \(4, 2, 121\)"),
    ({"poses_pred_batch": np.zeros((2, 4, 2, 121))}, r"shape \(2, 4, 2, 121\)"),
])
def test_a_gesture_file_of_another_shape_or_key_is_refused(tmp_path, content, message):
    np.savez(tmp_path / "g.npz", **content)
    with pytest.raises(PoseAnimateError, match=message) as err:
        read_gestures(tmp_path / "g.npz")
    assert "g.npz" in str(err.value) and "Fix:" in str(err.value)


def test_a_file_that_is_no_npz_is_refused(tmp_path):
    (tmp_path / "g.npz").write_text("not numpy")
    with pytest.raises(PoseAnimateError, match="cannot read the gesture file"):
        read_gestures(tmp_path / "g.npz")
    np.save(tmp_path / "one.npy", np.zeros((3, N_POINTS)))  # a (3, 137) frame, not gestures
    with pytest.raises(PoseAnimateError, match="single array .*not an .npz"):
        read_gestures(tmp_path / "one.npy")


def test_a_pose137_array_of_another_layout_is_refused(tmp_path):
    person = _people(1)[0]
    np.save(tmp_path / "ok.npy", person.T)
    assert np.allclose(read_pose137(tmp_path / "ok.npy").people[0], person)
    for shape in ((N_POINTS, 3), (3, 135), (2, N_POINTS)):
        np.save(tmp_path / "bad.npy", np.zeros(shape))
        with pytest.raises(PoseAnimateError, match=r"shape .*\(3, 137\)"):
            read_pose137(tmp_path / "bad.npy")


def test_the_real_gestures_drive_the_real_speaker(realdata):
    """The seed's own files: its gesture npz around its source frame's neck lands on the
    source image, and moves its hands; normalized onto a speaker by the shoulders."""
    folder = realdata / "upper_body"
    source = read_pose137(folder / "pose2img_source_keypoints137.npy").people[0]
    assert source[J["Neck"], 2] > 0 and source[J["RWrist"], 2] > 0
    gestures = read_gestures(folder / "pose2img_driving_gestures.npz",
                             neck=source[J["Neck"], :2])
    people = gestures.people
    assert people.shape == (304, N_POINTS, 3) and gestures.invalid == 0
    seen = people[people[..., 2] > 0][:, :2]
    inside = (seen[:, 0] >= 0) & (seen[:, 0] < 1280) & (seen[:, 1] >= 0) & (seen[:, 1] < 720)
    assert inside.mean() > 0.95  # the 1280 x 720 TV frame the seed's speaker is in
    assert people[:, J["RWrist"], :2].std(axis=0).max() > 5  # the hands gesture
    speaker = np.repeat(source[None], 8, axis=0)
    out, record = normalize_pair(people, speaker)
    assert record["mode"] == "shoulders"
    assert np.median(out[:, J["Neck"], :2], axis=0) == pytest.approx(source[J["Neck"], :2],
                                                                     abs=1e-2)
