"""Skeleton conversions, checked on points with known positions (each joint's x is its BODY_25
index, so every output names where it came from)."""

import numpy as np
import pytest

from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J, N_POINTS
from pose_animate.core.skeletons import (COCO17, H36M17, OPENPOSE18, pose137_to_pose122,
                                         to_coco17, to_h36m17, to_openpose18, to_pose137)


def labelled():
    """Point i at (i, 1000 + i), confidence 0.5: its position says its index."""
    person = np.zeros((N_POINTS, 3), np.float32)
    person[:, 0] = np.arange(N_POINTS)
    person[:, 1] = 1000 + np.arange(N_POINTS)
    person[:, 2] = 0.5
    return person


def test_openpose18_is_body25_without_midhip_and_feet():
    out = to_openpose18(labelled())
    assert out.shape == (18, 3)
    # OpenPose-18: nose, neck, right arm, left arm, right leg, left leg, eyes, ears
    assert out[:, 0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert OPENPOSE18[8] == "RHip" and OPENPOSE18[14] == "REye"


def test_coco17_order():
    out = to_coco17(labelled())
    # nose, left eye, right eye, left ear, right ear, then shoulders... left before right
    assert out[:, 0].tolist() == [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11]
    assert len(COCO17) == 17


def test_h36m17_joints_and_derived_points():
    person = labelled()
    out = to_h36m17(person)
    direct = {0: "MidHip", 1: "RHip", 2: "RKnee", 3: "RAnkle", 4: "LHip", 5: "LKnee",
              6: "LAnkle", 8: "Neck", 9: "Nose", 11: "LShoulder", 12: "LElbow", 13: "LWrist",
              14: "RShoulder", 15: "RElbow", 16: "RWrist"}
    for k, name in direct.items():
        assert out[k, 0] == J[name] and H36M17[k] == name
    # spine half-way from pelvis (MidHip) to thorax (Neck)
    assert out[7, :2] == pytest.approx((person[J["MidHip"], :2] + person[J["Neck"], :2]) / 2)
    # head top above the eyes, half the eyes-to-neck span further
    eyes = (person[J["REye"], :2] + person[J["LEye"], :2]) / 2
    assert out[10, :2] == pytest.approx(eyes + 0.5 * (eyes - person[J["Neck"], :2]))


def test_missing_points_stay_missing():
    person = labelled()
    person[J["MidHip"], 2] = 0
    person[J["Neck"]] = 0
    out = to_h36m17(person)
    assert out[0, 2] == 0 and out[7, 2] == 0 and out[8, 2] == 0 and out[10, 2] == 0


def test_pose137_and_the_seeds_122_points():
    person = labelled()
    arr = to_pose137(person)
    assert arr.shape == (3, 137) and arr[0, 30] == 30 and arr[1, 30] == 1030 and arr[2, 30] == 0.5
    sub = pose137_to_pose122(arr)
    assert sub.shape == (3, 122)
    # body 0-7, the eyes 15 and 16, then face 70 and the left and right hands
    assert sub[0, :10].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 15, 16]
    assert sub[0, 10] == FACE.start and sub[0, 80] == HAND_LEFT.start
    assert sub[0, 101] == HAND_RIGHT.start and sub[0, 121] == 136


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError):
        to_openpose18(np.zeros((25, 3)))
    with pytest.raises(ValueError):
        pose137_to_pose122(np.zeros((137, 3)))
