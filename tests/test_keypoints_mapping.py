"""Index tables from mediapipe, COCO-17, Halpe-26 and COCO-WholeBody to OpenPose 137 points."""

import json

import numpy as np
import pytest

from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J, N_POINTS
from pose_animate.keypoints.mapping import (
    BODY_LAYOUTS, FACE_MESH_TO_IBUG68, coco17_to_body25, face_mesh_to_face70,
    halpe26_to_body25, mediapipe_pose_to_body25, wholebody_to_openpose)


def _numbered(n):
    """Point k at (k + 1, 100 + k) with confidence 0.9: a mapped point names its source."""
    return np.array([[k + 1, 100 + k, 0.9] for k in range(n)], np.float32)


def _source(person, name):
    return int(person[J[name], 0]) - 1


def test_mediapipe_pose_names_and_derived_points():
    pts = _numbered(33)
    pts[12] = [10, 20, 0.8]  # right shoulder
    pts[11] = [30, 40, 0.6]  # left shoulder
    person = mediapipe_pose_to_body25(pts)
    assert person.shape == (N_POINTS, 3) and person.dtype == np.float32
    expected = {"Nose": 0, "REye": 5, "LEye": 2, "RWrist": 16, "LWrist": 15, "RHip": 24,
                "LAnkle": 27, "LHeel": 29, "RHeel": 30, "LBigToe": 31, "LSmallToe": 31,
                "RBigToe": 32, "RSmallToe": 32}
    for name, k in expected.items():
        assert _source(person, name) == k, name
    np.testing.assert_allclose(person[J["Neck"]], [20, 30, 0.6])
    np.testing.assert_allclose(person[J["MidHip"]], [(24 + 25) / 2, (123 + 124) / 2, 0.9])
    assert not person[25:].any()


def test_missing_shoulder_means_missing_neck_and_zeroed_coordinates():
    pts = _numbered(33)
    pts[11, 2] = 0  # left shoulder unseen
    person = mediapipe_pose_to_body25(pts)
    assert person[J["Neck"]].tolist() == [0, 0, 0]
    assert person[J["LShoulder"]].tolist() == [0, 0, 0]


def test_coco17_and_halpe26():
    coco = coco17_to_body25(_numbered(17))
    assert _source(coco, "LShoulder") == 5 and _source(coco, "RAnkle") == 16
    assert _source(coco, "REye") == 2 and _source(coco, "LEar") == 3
    np.testing.assert_allclose(coco[J["Neck"], :2], [(6 + 7) / 2, (105 + 106) / 2])
    assert coco[J["LBigToe"], 2] == 0  # COCO-17 has no feet
    halpe = halpe26_to_body25(_numbered(26))
    assert _source(halpe, "Neck") == 18 and _source(halpe, "MidHip") == 19
    assert [_source(halpe, n) for n in ("LBigToe", "RBigToe", "LSmallToe", "RSmallToe",
                                        "LHeel", "RHeel")] == [20, 21, 22, 23, 24, 25]
    assert set(BODY_LAYOUTS) == {17, 26, 133}
    with pytest.raises(ValueError):
        coco17_to_body25(_numbered(18))


def test_face_mesh_table_is_a_valid_68_point_table():
    assert len(FACE_MESH_TO_IBUG68) == 68 == len(set(FACE_MESH_TO_IBUG68))
    assert all(0 <= k < 468 for k in FACE_MESH_TO_IBUG68)
    mesh = _numbered(468)
    face = face_mesh_to_face70(mesh)
    assert face.shape == (70, 3)
    assert [int(x) - 1 for x in face[:68, 0]] == FACE_MESH_TO_IBUG68
    # Without the iris model the pupils are the eye contours' centres.
    np.testing.assert_allclose(face[68, :2], face[36:42, :2].mean(0))
    np.testing.assert_allclose(face[69, :2], face[42:48, :2].mean(0))
    refined = face_mesh_to_face70(_numbered(478))
    assert [int(refined[68, 0]) - 1, int(refined[69, 0]) - 1] == [468, 473]


def _wholebody_people(realdata):
    data = json.loads((realdata / "keypoints_gt/coco/test_coco_wholebody.json").read_text())
    for ann in data["annotations"]:
        parts = [ann["keypoints"], ann["foot_kpts"], ann["face_kpts"], ann["lefthand_kpts"],
                 ann["righthand_kpts"]]
        yield ann, np.concatenate([np.asarray(p, np.float32).reshape(-1, 3) for p in parts])


def test_wholebody_mapping_on_coco_wholebody_annotations(realdata):
    people = list(_wholebody_people(realdata))
    assert len(people) == 14
    n_faces = n_hands = 0
    for ann, points in people:
        assert points.shape == (133, 3)
        person = wholebody_to_openpose(points)
        body = np.asarray(ann["keypoints"], np.float32).reshape(17, 3)
        foot = np.asarray(ann["foot_kpts"], np.float32).reshape(6, 3)
        for name, k in (("Nose", 0), ("LShoulder", 5), ("RWrist", 10), ("RAnkle", 16)):
            if body[k, 2] > 0:
                np.testing.assert_allclose(person[J[name], :2], body[k, :2])
        for name, k in (("LBigToe", 0), ("LHeel", 2), ("RBigToe", 3), ("RHeel", 5)):
            if foot[k, 2] > 0:
                np.testing.assert_allclose(person[J[name], :2], foot[k, :2])
        if body[5, 2] > 0 and body[6, 2] > 0:
            np.testing.assert_allclose(person[J["Neck"], :2], (body[5, :2] + body[6, :2]) / 2)
        if ann["face_valid"]:
            n_faces += 1
            face = np.asarray(ann["face_kpts"], np.float32).reshape(68, 3)
            seen = face[:, 2] > 0
            np.testing.assert_allclose(person[FACE][:68][seen, :2], face[seen, :2])
            # iBUG layout check on real annotations: jaw runs across the face, the pupils lie
            # between their eye corners.
            f = person[FACE]
            if f[[0, 16, 36, 39, 42, 45], 2].min() > 0:
                assert abs(f[16, 0] - f[0, 0]) > abs(f[39, 0] - f[36, 0])
                assert min(f[36, 0], f[39, 0]) <= f[68, 0] <= max(f[36, 0], f[39, 0])
                assert min(f[42, 0], f[45, 0]) <= f[69, 0] <= max(f[42, 0], f[45, 0])
        for valid, key, where in ((ann["lefthand_valid"], "lefthand_kpts", HAND_LEFT),
                                  (ann["righthand_valid"], "righthand_kpts", HAND_RIGHT)):
            if valid:
                n_hands += 1
                hand = np.asarray(ann[key], np.float32).reshape(21, 3)
                seen = hand[:, 2] > 0
                np.testing.assert_allclose(person[where][seen, :2], hand[seen, :2])
                assert not person[where][~seen].any()
    assert n_faces >= 4 and n_hands >= 6
