"""Importing OpenPose JSON folders and AlphaPose results: renumbering, mapping into frame
pixels, following the subject, and the bad inputs users hand us."""

import json

import cv2
import numpy as np
import pytest

from pose_animate.core.body import J, N_BODY, empty_person
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import keypoints_name, openpose_dict, read_openpose
from pose_animate.frames.crop import frame_source_indices
from pose_animate.keypoints.import_alphapose import import_alphapose_file, read_alphapose
from pose_animate.keypoints.import_openpose import import_openpose_folder
from pose_animate.keypoints.stage import find_keypoints
from stick_figure import standing_person


def figure(cx, cy, height, conf=0.8):
    """A standing person, nose at x = cx, mid-hip at (cx, cy)."""
    return standing_person(cx, cy, height, conf)


def write_openpose_source(folder, frames, name="frame{}_keypoints.json"):
    """OpenPose-style files numbered without padding, so only a natural sort orders them."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, people in enumerate(frames):
        (folder / name.format(t)).write_text(json.dumps(openpose_dict(people)))
    return folder


def subject_frames(n=12):
    """The subject walks right; frame 5 has nobody, frame 7 a second (smaller) person."""
    frames = [[figure(100 + 10 * t, 300, 200)] for t in range(n)]
    if n > 7:
        frames[5] = []
        frames[7].append(figure(900, 300, 120))
    return frames


def halve(points):
    return np.asarray(points) * 0.5


def test_openpose_folder_is_renumbered_mapped_and_followed(tmp_path):
    source = write_openpose_source(tmp_path / "op", subject_frames())
    out = tmp_path / "raw"
    record = import_openpose_folder(source, out, n_source_frames=12, frame_size=(512, 512),
                                    to_frame=halve)
    assert sorted(p.name for p in out.iterdir()) == [keypoints_name(t) for t in range(12)]
    for t in range(12):
        people = read_openpose(out / keypoints_name(t))
        if t == 5:
            assert people == []
            continue
        assert len(people) == 1
        np.testing.assert_allclose(people[0][J["Neck"], :2], [(100 + 10 * t) / 2, (300 - 60) / 2],
                                   atol=0.01)
    assert record["frames"] == 12 and record["frames_with_person"] == 11
    assert record["frames_without_person_first"] == [5]
    assert record["frames_with_two_or_more_people"] == 1
    assert record["mean_confidence"] == pytest.approx(0.8)


def test_openpose_points_outside_the_frame_become_missing(tmp_path):
    person = figure(100, 300, 200)
    person[J["RWrist"]] = [1500, 300, 0.9]  # outside the crop once mapped
    source = write_openpose_source(tmp_path / "op", [[person]])
    import_openpose_folder(source, tmp_path / "raw", 1, (512, 512), to_frame=halve)
    imported = read_openpose(tmp_path / "raw" / keypoints_name(0))[0]
    assert imported[J["RWrist"]].tolist() == [0, 0, 0]
    assert imported[J["Nose"], 2] == pytest.approx(0.8)


def test_openpose_resampled_frames_take_their_source_frames(tmp_path):
    source = write_openpose_source(tmp_path / "op", subject_frames())
    import_openpose_folder(source, tmp_path / "raw", 12, (1024, 1024),
                           source_frames=[0, 3, 6, 9])
    xs = [read_openpose(tmp_path / "raw" / keypoints_name(t))[0][J["Nose"], 0] for t in range(4)]
    assert xs == [100, 130, 160, 190]


def test_openpose_count_mismatch_is_a_clear_error(tmp_path):
    source = write_openpose_source(tmp_path / "op", subject_frames(11))
    with pytest.raises(PoseAnimateError) as err:
        import_openpose_folder(source, tmp_path / "raw", 12, (512, 512))
    message = str(err.value)
    assert str(source) in message
    assert "frames 11 are missing" in message and "Fix:" in message
    assert not (tmp_path / "raw").exists()


def test_openpose_files_are_placed_by_their_frame_numbers_gaps_and_extras_named(tmp_path):
    source = write_openpose_source(tmp_path / "op", subject_frames())
    (source / "frame4_keypoints.json").unlink()  # one file missing...
    (source / "frame12_keypoints.json").write_text(json.dumps(openpose_dict([])))  # ...one extra
    with pytest.raises(PoseAnimateError, match="frames 4 are missing; frames 12 are past the "
                                               "video's 12 frames"):
        import_openpose_folder(source, tmp_path / "raw", 12, (512, 512))
    (source / "frame12_keypoints.json").unlink()
    (source / "frame4_keypoints.json").write_text(json.dumps(openpose_dict([])))
    (source / "other_0004_keypoints.json").write_text(json.dumps(openpose_dict([])))
    with pytest.raises(PoseAnimateError, match="frame numbers 4 appear in two files"):
        import_openpose_folder(source, tmp_path / "raw", 12, (512, 512))


def test_openpose_files_numbered_from_one_are_frames_from_zero(tmp_path):
    frames = subject_frames()
    source = tmp_path / "op"
    source.mkdir()
    for t, people in enumerate(frames):
        (source / f"img_{t + 1:04d}_keypoints.json").write_text(json.dumps(openpose_dict(people)))
    import_openpose_folder(source, tmp_path / "raw", 12, (1024, 1024))
    xs = [read_openpose(tmp_path / "raw" / keypoints_name(t))
          for t in (0, 11)]
    assert xs[0][0][J["Nose"], 0] == 100 and xs[1][0][J["Nose"], 0] == 210


@pytest.mark.parametrize("content, problem", [
    ('{"version": 1.3, "people": [{"pose_keypoints_2d": [1, 2', "not a readable OpenPose"),
    (json.dumps({"people": [{"pose_keypoints_2d": [0.5] * 74}]}), "has 74 values"),
    (json.dumps({"people": [{"pose_keypoints_2d": [0.5] * 54}]}), "18 pose points"),
])
def test_corrupt_or_wrong_sized_openpose_file_names_subject_file_and_fix(tmp_path, content,
                                                                          problem):
    source = write_openpose_source(tmp_path / "op", subject_frames(4))
    bad = source / "frame2_keypoints.json"
    bad.write_text(content)
    with pytest.raises(PoseAnimateError) as err:
        import_openpose_folder(source, tmp_path / "raw", 4, (512, 512))
    message = str(err.value)
    assert str(bad) in message and problem in message
    assert "Fix:" in message
    assert not (tmp_path / "raw").exists() and not list(tmp_path.glob(".raw*"))
    assert bad.read_text() == content  # inputs are never touched


def test_real_openpose_output_imports(realdata, tmp_path):
    source = realdata / "keypoint_sequences" / "openpose_body25_real"
    record = import_openpose_folder(source, tmp_path / "raw", 100, (1920, 1920))
    assert record["frames_with_person"] == 100
    first_src = read_openpose(source / "frame00000_keypoints.json")[0]
    first = read_openpose(tmp_path / "raw" / keypoints_name(0))[0]
    np.testing.assert_allclose(first, first_src, atol=0.001)
    assert (first[25:95, 2] > 0).sum() > 60  # the face came along


# ---- AlphaPose -----------------------------------------------------------------------------

def alphapose_entry(image_id, cx, height, n_points=17, score=2.5):
    pts = np.zeros((n_points, 3))
    pts[:, 0] = cx
    pts[:, 1] = np.linspace(300 - height / 2, 300 + height / 2, n_points)
    pts[:, 2] = 0.7
    return {"image_id": image_id, "category_id": 1, "keypoints": pts.reshape(-1).tolist(),
            "score": score, "idx": [1.0]}


def write_alphapose(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_alphapose_coco17_frames_from_image_ids(tmp_path):
    entries = [alphapose_entry(f"{t}.jpg", 100 + 10 * t, 200) for t in range(10) if t != 4]
    entries.append(alphapose_entry("6.jpg", 800, 100))  # a second, smaller person
    path = write_alphapose(tmp_path / "alphapose-results.json", entries)
    record = import_alphapose_file(path, tmp_path / "raw", 10, (1024, 1024))
    assert record["frames_with_person"] == 9 and record["frames_with_two_or_more_people"] == 1
    assert read_openpose(tmp_path / "raw" / keypoints_name(4)) == []
    six = read_openpose(tmp_path / "raw" / keypoints_name(6))
    assert len(six) == 1 and six[0][J["Nose"], 0] == 160
    assert six[0][J["Neck"], 2] == pytest.approx(0.7)  # derived from the shoulders
    assert six[0][J["LBigToe"], 2] == 0  # COCO-17 has no feet


def test_alphapose_halpe26_and_one_based_names(tmp_path):
    entries = [alphapose_entry(f"frame_{t:04d}.png", 200, 200, n_points=26)
               for t in range(1, 6)]
    frames = read_alphapose(write_alphapose(tmp_path / "a.json", entries), 5)
    assert all(len(people) == 1 for people in frames)
    person = frames[0][0]
    assert person[J["LHeel"], 2] == pytest.approx(0.7)
    assert person[J["Neck"], 1] == pytest.approx(np.linspace(200, 400, 26)[18])


def test_alphapose_for_another_frame_count_is_a_clear_error(tmp_path):
    entries = [alphapose_entry(f"{t}.jpg", 200, 200) for t in range(40)]
    path = write_alphapose(tmp_path / "alphapose-results.json", entries)
    with pytest.raises(PoseAnimateError) as err:
        import_alphapose_file(path, tmp_path / "raw", 24, (512, 512))
    message = str(err.value)
    assert str(path) in message
    assert "frame 39" in message and "24 frames" in message and "Fix:" in message
    assert not (tmp_path / "raw").exists()


def test_alphapose_for_a_shorter_video_is_an_error_unless_accepted(tmp_path):
    entries = [alphapose_entry(f"{t}.jpg", 100 + 10 * t, 200) for t in range(20)]
    path = write_alphapose(tmp_path / "alphapose-results.json", entries)
    with pytest.raises(PoseAnimateError) as err:
        import_alphapose_file(path, tmp_path / "raw", 40, (1024, 1024))
    assert "results end at frame 19, but the video has 40 frames" in str(err.value)
    assert "keypoints.accept_short_alphapose" in str(err.value) and str(path) in str(err.value)
    assert not (tmp_path / "raw").exists()
    record = import_alphapose_file(path, tmp_path / "raw", 40, (1024, 1024), accept_short=True)
    assert record["frames_with_person"] == 20
    assert read_openpose(tmp_path / "raw" / keypoints_name(39)) == []
    assert settings("keypoints")["accept_short_alphapose"] is False


@pytest.mark.parametrize("content, problem", [
    ("[{", "not a readable AlphaPose"),
    (json.dumps({"people": []}), "JSON list"),
    (json.dumps([{"image_id": "0.jpg", "keypoints": [1.0] * 50}]), "50 keypoint values"),
    (json.dumps([{"image_id": "cat.jpg", "keypoints": [1.0] * 51}]), "no frame number"),
])
def test_bad_alphapose_files(tmp_path, content, problem):
    path = tmp_path / "a.json"
    path.write_text(content)
    with pytest.raises(PoseAnimateError, match=problem):
        read_alphapose(path, 10)


# ---- through the frames stage's record -----------------------------------------------------

def test_stage_imports_through_the_frames_record(tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for t in range(6):
        cv2.imwrite(str(frames_dir / f"{t:06d}.png"), np.zeros((256, 256, 3), np.uint8))
    # A 12-frame source at 24 fps resampled to 12 fps, cropped at x=50 and halved.
    frames_record = {"frames": 6, "fps": 12.0, "resampled": True, "crop_box": [50, 0, 512, 512],
                     "scale": [0.5, 0.5], "probe": {"frames": 12, "fps": 24.0}}
    (tmp_path / "frames.json").write_text(json.dumps(frames_record))
    source = write_openpose_source(tmp_path / "op", subject_frames())
    record = find_keypoints(frames_dir, tmp_path / "frames.json", tmp_path / "raw",
                            settings("keypoints"), source=source)
    assert json.loads(json.dumps(record)) == record  # a JSON record, as the stage shell writes
    assert record["backend"] == "import openpose" and record["frames"] == 6
    picked = frame_source_indices(frames_record)
    for t, s in enumerate(picked):
        people = read_openpose(tmp_path / "raw" / keypoints_name(t))
        if s == 5:
            assert people == []
        else:
            assert people[0][J["Nose"], 0] == pytest.approx((100 + 10 * s - 50 + 0.5) * 0.5 - 0.5)


def test_hand_labelled_real_motion_survives_import_and_cleaning(realdata, tmp_path):
    """Penn Action clips (partial visibility) with detector noise and spurious joints, through
    the OpenPose import and the clean stage: at least 98 % of the visible joints stay."""
    from dataclasses import replace

    from scipy.io import loadmat

    from pose_animate.clean.motion_data import read_penn_action
    from pose_animate.clean.motion_net import PENN_JOINTS
    from pose_animate.clean.noise import NoiseModel, apply_noise
    from pose_animate.clean.stage import clean_keypoints
    from pose_animate.core.body import N_POINTS
    from pose_animate.core.formats import read_openpose_folder, write_openpose

    rng = np.random.default_rng(0)
    noise = replace(NoiseModel(), drop_rate=0.0, outlier_rate=0.004)
    kept = visible_total = 0
    for path in sorted((realdata / "keypoint_sequences" / "penn_action_train").glob("*.mat"))[:24]:
        labels = read_penn_action(path)
        n = len(labels)
        noisy = apply_noise(labels, rng, noise, joints=PENN_JOINTS)
        work = tmp_path / path.stem
        (work / "op").mkdir(parents=True)
        for t in range(n):
            person = np.zeros((N_POINTS, 3), np.float32)
            person[PENN_JOINTS] = noisy[t]
            write_openpose(work / "op" / f"{path.stem}_{t:012d}_keypoints.json",
                           [person] if person[:, 2].any() else [])
        height, width = (int(v) for v in loadmat(path)["dimensions"].ravel()[:2])
        import_openpose_folder(work / "op", work / "raw", n, (width, height))
        clean_keypoints(work / "raw", work / "clean", settings("clean"))
        present = read_openpose_folder(work / "clean", n)[:, PENN_JOINTS, 2] > 0
        visible = labels[..., 2] > 0
        kept += (present & visible).sum()
        visible_total += visible.sum()
    assert kept / visible_total >= 0.98, kept / visible_total
