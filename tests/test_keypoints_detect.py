"""mediapipe detection over frame folders: found rates, following one subject among two,
the synthetic clip's ground truth, and frames with nobody."""

import json

import av
import cv2
import numpy as np
import pytest

from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J, body_height_px
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import keypoints_name, read_openpose, read_openpose_folder
from pose_animate.keypoints.detect import SubjectFollower, detect_folder
from pose_animate.keypoints.mediapipe_backend import MediapipeBackend
from pose_animate.keypoints.stage import find_keypoints
from pose_animate.keypoints.track import keypoint_box

POSE = settings("keypoints", backend="mediapipe", face_hands=False, model_complexity=1,
                min_confidence=0.5)


def decode(video, n_frames, step=1, long_side=512):
    """The first frames of a video, every `step`-th, resized to `long_side` (BGR)."""
    frames = []
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if len(frames) == n_frames:
                break
            if i % step == 0:
                img = frame.to_ndarray(format="bgr24")
                scale = long_side / max(img.shape[:2])
                frames.append(cv2.resize(img, None, fx=scale, fy=scale,
                                         interpolation=cv2.INTER_AREA))
    return frames


def write_frames(folder, frames):
    folder.mkdir(parents=True)
    for t, img in enumerate(frames):
        cv2.imwrite(str(folder / f"{t:06d}.png"), img)
    return folder


@pytest.fixture(scope="module")
def dance(realdata, tmp_path_factory):
    frames = decode(realdata / "videos" / "musepose_dance.mp4", 48, step=6)
    return write_frames(tmp_path_factory.mktemp("dance") / "frames", frames)


def test_dancer_found_in_nearly_every_frame(dance, tmp_path):
    record = detect_folder(dance, tmp_path / "raw", POSE)
    assert record["frames"] == 48 and record["frames_with_person"] >= 0.95 * 48
    assert record["backend"] == "mediapipe pose" and record["mean_confidence"] > 0.6
    # mediapipe cannot count people: the record says so rather than claiming zero.
    assert record["frames_with_two_or_more_people"] is None
    assert record["frames_other_person_seen"] == 0
    seq = read_openpose_folder(tmp_path / "raw", 48)
    heights = [body_height_px(p) for p in seq if p[:, 2].any()]
    # A full-body dancer fills most of the 512 px frame height.
    assert np.nanmedian(heights) > 250
    assert not seq[:, 25:, 2].any()  # pose only: no face or hands


def test_single_person_ball_video(realdata, tmp_path):
    frames = decode(realdata / "videos" / "mmhuman3d_single_person_demo.mp4", 40)
    folder = write_frames(tmp_path / "frames", frames)
    record = detect_folder(folder, tmp_path / "raw", POSE)
    assert record["frames_with_person"] >= 0.95 * 40


def test_two_person_video_follows_one_person(realdata, tmp_path):
    frames = decode(realdata / "videos" / "mmhuman3d_multi_person_demo.mp4", 40)
    folder = write_frames(tmp_path / "frames", frames)
    record = detect_folder(folder, tmp_path / "raw", POSE)
    assert record["frames_with_person"] == 40
    boxes = [keypoint_box(p) for p in read_openpose_folder(tmp_path / "raw", 40)]
    steps = [np.hypot(b.cx - a.cx, b.cy - a.cy) / a.size for a, b in zip(boxes, boxes[1:])]
    assert max(steps) < 0.15  # box centre continuity: never a jump to the other person


def _two_figures():
    """Demo figure A alone (frames 0-7), hidden while a larger figure B appears (8-9), then
    both, side by side on a grey canvas."""
    from pose_animate.synth import render_sequence

    a = [f.image for f in render_sequence(seed=1, n_frames=18, size=192)]
    b = [f.image for f in render_sequence(seed=2, n_frames=18, size=288)]
    frames = []
    for t in range(18):
        canvas = np.full((320, 480, 3), 90, np.uint8)
        if t < 8 or t >= 10:
            canvas[120:312, 10:202] = a[t]
        if t >= 8:
            canvas[16:304, 190:478] = b[t]
        frames.append(canvas)
    return frames


def test_roi_redetection_keeps_the_subject_when_the_tracker_jumps():
    frames = _two_figures()
    with MediapipeBackend(face_hands=False) as bare:
        raw = [bare.detect(img) for img in frames]
    # The bare tracker moves to B once A is hidden, and stays there when A is back.
    assert all(keypoint_box(p).cx > 250 for p in raw[9:])
    with MediapipeBackend(face_hands=False) as backend:
        follower = SubjectFollower(backend)
        followed = [follower.step(img) for img in frames]
    for t, (person, _) in enumerate(followed):
        if 8 <= t < 10:
            assert person is None, t
        else:
            assert keypoint_box(person).cx < 200, t
    assert follower.stats["roi_redetections"] >= 1
    assert follower.stats["frames_other_person_seen"] == sum(o for _, o in followed) >= 2


def test_holistic_face_and_hands(dance, tmp_path):
    folder = write_frames(tmp_path / "frames", [cv2.imread(str(p))
                                                for p in sorted(dance.glob("*.png"))[:6]])
    cfg = dict(POSE, face_hands=True)
    record = detect_folder(folder, tmp_path / "raw", cfg)
    assert record["backend"] == "mediapipe holistic" and record["frames_with_person"] == 6
    person = read_openpose(tmp_path / "raw" / keypoints_name(0))[0]
    face = person[FACE]
    assert (face[:, 2] > 0).all()
    # The 68-point layout lands on the face: jaw from the image's left to its right, brows
    # above the eyes above the nose tip above the mouth, pupils between their eye corners,
    # all near the pose's nose.
    assert face[0, 0] < face[8, 0] < face[16, 0]
    assert face[19, 1] < face[37, 1] < face[30, 1] < face[51, 1] < face[57, 1] < face[8, 1]
    assert face[36, 0] < face[68, 0] < face[39, 0] and face[42, 0] < face[69, 0] < face[45, 0]
    assert np.hypot(*(face[30, :2] - person[J["Nose"], :2])) < 0.3 * (face[16, 0] - face[0, 0])
    hands = [person[HAND_LEFT], person[HAND_RIGHT]]
    assert any((h[:, 2] > 0).all() for h in hands)
    for hand, wrist in zip(hands, ("LWrist", "RWrist")):
        if hand[0, 2] > 0:  # the subject's left hand sits at the pose's left wrist
            assert np.hypot(*(hand[0, :2] - person[J[wrist], :2])) < 25


def test_frames_with_nobody_are_an_error_and_write_nothing(tmp_path):
    rng = np.random.default_rng(0)
    folder = write_frames(tmp_path / "frames",
                          [rng.integers(0, 40, (128, 128, 3), np.uint8) for _ in range(4)])
    with pytest.raises(PoseAnimateError) as err:
        detect_folder(folder, tmp_path / "raw", POSE)
    assert "no person found in any of the 4 frames" in str(err.value)
    assert not (tmp_path / "raw").exists() and not list(tmp_path.glob(".raw*"))


def test_frames_without_a_person_get_empty_people_and_are_counted(dance, tmp_path):
    paths = sorted(dance.glob("*.png"))[:6]
    frames = [cv2.imread(str(p)) for p in paths]
    frames[3] = np.full_like(frames[3], 128)
    folder = write_frames(tmp_path / "frames", frames)
    record = find_keypoints(folder, None, tmp_path / "raw", POSE)
    assert record["frames_with_person"] == 5 and record["frames_without_person_first"] == [3]
    assert json.loads((tmp_path / "raw" / keypoints_name(3)).read_text())["people"] == []
    assert json.loads(json.dumps(record))["frames_without_person"] == 1  # a JSON record


def test_synthetic_clip_detected_within_3_percent_of_height(synth_clip, tmp_path):
    frames = decode(synth_clip.video, 1000, long_side=max(_size(synth_clip.video)))
    folder = write_frames(tmp_path / "frames", frames)
    record = detect_folder(folder, tmp_path / "raw", POSE)
    n = len(frames)
    assert record["frames_with_person"] >= 0.95 * n
    truth = read_openpose_folder(synth_clip.truth / "keypoints", n)
    found = read_openpose_folder(tmp_path / "raw", n)
    errors = []
    for gt, det in zip(truth, found):
        both = (gt[:25, 2] > 0) & (det[:25, 2] > 0.5)
        height = body_height_px(gt)
        errors += list(np.hypot(*(gt[:25][both, :2] - det[:25][both, :2]).T) / height)
    assert np.median(errors) < 0.03


def _size(video):
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return stream.width, stream.height
