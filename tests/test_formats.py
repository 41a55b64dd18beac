import json

import numpy as np
import pytest

from pose_animate.core import formats
from pose_animate.core.body import N_POINTS
from pose_animate.core.errors import PoseAnimateError


def _person(seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(1, 500, (N_POINTS, 3)).astype(np.float32)
    p[:, 2] = rng.uniform(0.1, 1, N_POINTS)
    p[30] = 0  # a missing face point stays (0, 0, 0)
    return p


def test_openpose_roundtrip_keeps_points_and_layout(tmp_path):
    people = [_person(0), _person(1)]
    path = tmp_path / formats.keypoints_name(7)
    formats.write_openpose(path, people)
    data = json.loads(path.read_text())
    assert path.name == "000007_keypoints.json"
    assert len(data["people"][0]["pose_keypoints_2d"]) == 75
    assert len(data["people"][0]["face_keypoints_2d"]) == 210
    assert len(data["people"][0]["hand_right_keypoints_2d"]) == 63
    back = formats.read_openpose(path)
    assert len(back) == 2
    np.testing.assert_allclose(back[1], people[1], atol=1e-3)


def test_openpose_without_face_and_hands_reads_as_missing(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 75}]}))
    (person,) = formats.read_openpose(path)
    assert person[:25, 0].tolist() == [1.0] * 25 and not person[25:].any()


@pytest.mark.parametrize("text, needle", [
    ("{not json", "not a readable OpenPose JSON"),
    (json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 74}]}), "74 values, expected 75"),
    (json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 54}]}), "COCO-18"),
    (json.dumps({"frames": []}), "no 'people' list"),
])
def test_openpose_bad_files_name_the_file_and_problem(tmp_path, text, needle):
    path = tmp_path / "000000_keypoints.json"
    path.write_text(text)
    with pytest.raises(PoseAnimateError, match=needle) as err:
        formats.read_openpose(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_openpose_folder_roundtrip_and_empty_frames(tmp_path):
    seq = np.stack([_person(i) for i in range(4)])
    seq[2] = 0  # nobody in frame 2
    formats.write_openpose_folder(tmp_path, seq)
    assert json.loads((tmp_path / "000002_keypoints.json").read_text())["people"] == []
    back = formats.read_openpose_folder(tmp_path, n_frames=4)
    np.testing.assert_allclose(back, seq, atol=1e-3)
    with pytest.raises(PoseAnimateError, match="4 keypoint files for 5 frames"):
        formats.read_openpose_folder(tmp_path, n_frames=5)
    (tmp_path / "000001_keypoints.json").unlink()
    with pytest.raises(PoseAnimateError, match="not dense"):
        formats.read_openpose_folder(tmp_path)


def test_flo_roundtrip_and_bad_headers(tmp_path):
    flow = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
    path = tmp_path / "000000.flo"
    formats.write_flo(path, flow)
    assert path.read_bytes()[:4] == b"PIEH"
    np.testing.assert_array_equal(formats.read_flo(path), flow)
    bad = tmp_path / "bad.flo"
    bad.write_bytes(b"XXXX" + path.read_bytes()[4:])
    with pytest.raises(PoseAnimateError, match="PIEH"):
        formats.read_flo(bad)
    bad.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(PoseAnimateError, match="truncated"):
        formats.read_flo(bad)


def test_iuv_roundtrip_follows_the_densepose_channel_convention(tmp_path):
    import cv2

    parts = np.array([[0, 1], [24, 13]], np.uint8)
    u = np.array([[0.5, 0.0], [1.0, 0.25]], np.float32)
    v = np.array([[0.5, 1.0], [0.0, 0.75]], np.float32)
    path = tmp_path / "000000.png"
    formats.write_iuv(path, parts, u, v)
    raw = cv2.imread(str(path))
    assert raw[1, 0].tolist() == [24, 255, 0]  # I, U*255, V*255 as cv2 reads it
    assert raw[0, 0].tolist() == [0, 0, 0]  # background carries no U/V
    i, u2, v2 = formats.read_iuv(path)
    np.testing.assert_array_equal(i, parts)
    np.testing.assert_allclose(u2[parts > 0], u[parts > 0], atol=1 / 255)
    np.testing.assert_allclose(v2[parts > 0], v[parts > 0], atol=1 / 255)


def test_list_frames_requires_dense_zero_based_names(tmp_path):
    for i in (0, 1, 3):
        (tmp_path / formats.frame_name(i)).write_bytes(b"")
    with pytest.raises(PoseAnimateError, match="expected 000002.png, found 000003.png"):
        formats.list_frames(tmp_path)


def test_natural_sort_orders_numbers_by_value(tmp_path):
    for name in ("img10.png", "img2.png", "img1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in formats.list_images(tmp_path)] == ["img1.png", "img2.png", "img10.png"]
