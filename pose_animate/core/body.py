"""Skeleton and body-part definitions shared by every stage (one place, used everywhere).

Keypoints of one person are a (137, 3) float32 array of [x, y, confidence] in pixels of the
extracted frame, in OpenPose order: BODY_25 (25), face (70), left hand (21), right hand (21).
A missing point is (0, 0, 0), as OpenPose writes it.
"""

import numpy as np

BODY_25 = [
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye",
    "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
]
J = {name: i for i, name in enumerate(BODY_25)}

N_BODY, N_FACE, N_HAND = 25, 70, 21
N_POINTS = N_BODY + N_FACE + 2 * N_HAND
BODY = slice(0, N_BODY)
FACE = slice(N_BODY, N_BODY + N_FACE)
HAND_LEFT = slice(N_BODY + N_FACE, N_BODY + N_FACE + N_HAND)
HAND_RIGHT = slice(N_BODY + N_FACE + N_HAND, N_POINTS)
GROUPS = {"body": BODY, "face": FACE, "hand_left": HAND_LEFT, "hand_right": HAND_RIGHT}

# Bones of BODY_25 in OpenPose's drawing order, with OpenPose's colours (RGB).
BODY_25_LIMBS = [
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11),
    (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18),
    (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
]
BODY_25_COLORS = [
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0),
    (85, 255, 0), (0, 255, 0), (255, 0, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255),
    (0, 170, 255), (0, 85, 255), (0, 0, 255), (255, 0, 170), (170, 0, 255), (255, 0, 255),
    (85, 0, 255), (0, 0, 255), (0, 0, 255), (0, 0, 255), (0, 255, 255), (0, 255, 255),
    (0, 255, 255),
]

# Left/right mirror of BODY_25 (index i swaps with BODY_25_FLIP[i]).
BODY_25_FLIP = [0, 1, 5, 6, 7, 2, 3, 4, 8, 12, 13, 14, 9, 10, 11, 16, 15, 18, 17, 22, 23, 24,
                19, 20, 21]

# Hand: wrist 0, then four points per finger from thumb to little finger.
HAND_LIMBS = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9),
              (9, 10), (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17),
              (17, 18), (18, 19), (19, 20)]

# Face (OpenPose 70 = the 68-point iBUG layout plus the two pupils 68, 69).
FACE_LIMBS = ([(i, i + 1) for i in range(0, 16)] + [(i, i + 1) for i in range(17, 21)]
              + [(i, i + 1) for i in range(22, 26)] + [(i, i + 1) for i in range(27, 30)]
              + [(i, i + 1) for i in range(31, 35)]
              + [(i, i + 1) for i in range(36, 41)] + [(41, 36)]
              + [(i, i + 1) for i in range(42, 47)] + [(47, 42)]
              + [(i, i + 1) for i in range(48, 59)] + [(59, 48)]
              + [(i, i + 1) for i in range(60, 67)] + [(67, 60)])

# DensePose's 24 body parts (I channel of an IUV image; 0 is background). Front/back follow
# the names used with DensePose-COCO; the pairs (a, b) below are the same limb seen from
# the two sides.
DENSEPOSE_PARTS = [
    "background",
    "torso_back", "torso_front", "right_hand", "left_hand", "left_foot", "right_foot",
    "right_upper_leg_back", "left_upper_leg_back", "right_upper_leg_front",
    "left_upper_leg_front", "right_lower_leg_back", "left_lower_leg_back",
    "right_lower_leg_front", "left_lower_leg_front", "left_upper_arm_front",
    "right_upper_arm_front", "left_upper_arm_back", "right_upper_arm_back",
    "left_lower_arm_back", "right_lower_arm_back", "left_lower_arm_front",
    "right_lower_arm_front", "head_right", "head_left",
]
PART = {name: i for i, name in enumerate(DENSEPOSE_PARTS)}
N_PARTS = 24


def empty_person() -> np.ndarray:
    """Keypoints of one person with every point missing."""
    return np.zeros((N_POINTS, 3), np.float32)


def body_height_px(person: np.ndarray, min_conf: float = 0.05) -> float:
    """Nose-to-ankle height of one person in pixels (nan when those points are missing).

    Used as the scale for errors "as a fraction of body height" everywhere in the project.
    """
    body = person[BODY]
    ok = body[:, 2] > min_conf
    top = [J["Nose"], J["Neck"], J["REye"], J["LEye"]]
    bottom = [J["RAnkle"], J["LAnkle"], J["RHeel"], J["LHeel"]]
    ys_top = body[top][ok[top], 1]
    ys_bot = body[bottom][ok[bottom], 1]
    if len(ys_top) == 0 or len(ys_bot) == 0:
        return float("nan")
    return float(ys_bot.max() - ys_top.min())
