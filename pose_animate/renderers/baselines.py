"""Baselines a renderer must beat: a model that does not is not learning."""

import cv2
import numpy as np

from ..core.body import J, PART
from .metrics import pose_distance


def nearest_neighbour(train_poses: np.ndarray, query: np.ndarray, penalty: float) -> int:
    """Index of the training pose closest to `query` (see metrics.pose_distance): the
    nearest-neighbour baseline returns that training frame for a wanted pose."""
    dists = [pose_distance(p, query, penalty) for p in train_poses]
    return int(np.argmin(dists))


# The piecewise-affine baseline: each DensePose part of a source frame moved by its bone's
# transform from the source to the target keypoints, composited over the background plate
# back to front as a body overlaps itself (legs, torso, head, arms, hands: the skeleton IUV
# backend's layers). A bone of two joints moves its part by the similarity (rotation, scale,
# shift) taking one onto the other; the torso, of three (the shoulders and the mid-hip), by
# the full affine. Hands move with their forearm, feet with their toes (or the shin).
_BONES = [  # (the parts' name stems, the joints, fallback joints)
    (("right_upper_leg",), ("RHip", "RKnee"), None),
    (("left_upper_leg",), ("LHip", "LKnee"), None),
    (("right_lower_leg",), ("RKnee", "RAnkle"), None),
    (("left_lower_leg",), ("LKnee", "LAnkle"), None),
    (("right_foot",), ("RAnkle", "RBigToe"), ("RKnee", "RAnkle")),
    (("left_foot",), ("LAnkle", "LBigToe"), ("LKnee", "LAnkle")),
    (("torso",), ("RShoulder", "LShoulder", "MidHip"), ("RShoulder", "LShoulder")),
    (("head_right", "head_left"), ("Neck", "Nose"), None),
    (("right_upper_arm",), ("RShoulder", "RElbow"), None),
    (("left_upper_arm",), ("LShoulder", "LElbow"), None),
    (("right_lower_arm", "right_hand"), ("RElbow", "RWrist"), None),
    (("left_lower_arm", "left_hand"), ("LElbow", "LWrist"), None),
]


def bone_transform(source: np.ndarray, target: np.ndarray, joints) -> np.ndarray | None:
    """The 2x3 transform taking `joints` of the source person to the target's (see above);
    None when a joint is missing in either or the bone has no length."""
    idx = [J[name] for name in joints]
    if (source[idx, 2] <= 0).any() or (target[idx, 2] <= 0).any():
        return None
    a, b = source[idx, :2].astype(np.float64), target[idx, :2].astype(np.float64)
    if len(idx) == 3:
        if abs(np.cross(a[1] - a[0], a[2] - a[0])) < 1:  # collinear: no affine
            return None
        return cv2.getAffineTransform(a.astype(np.float32), b.astype(np.float32))
    da, db = a[1] - a[0], b[1] - b[0]
    length = np.linalg.norm(da)
    if length < 1 or np.linalg.norm(db) < 1:
        return None
    scale = np.linalg.norm(db) / length
    angle = np.arctan2(db[1], db[0]) - np.arctan2(da[1], da[0])
    m = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([m, (b[0] - m @ a[0])[:, None]])


def piecewise_affine(image: np.ndarray, parts: np.ndarray, source: np.ndarray,
                     target: np.ndarray, background: np.ndarray) -> np.ndarray:
    """The source frame `image` (BGR) with its DensePose `parts` (H, W, 0..24) and keypoints
    `source` (137, 3) posed as `target`, over `background` (BGR, the frame's size). A part
    whose bone is missing in either pose is left out."""
    h, w = image.shape[:2]
    out = background.copy()
    for stems, joints, fallback in _BONES:
        matrix = bone_transform(source, target, joints)
        if matrix is None and fallback:
            matrix = bone_transform(source, target, fallback)
        if matrix is None:
            continue
        ids = [i for name, i in PART.items() if name.startswith(stems)]
        mask = np.isin(parts, ids).astype(np.uint8) * 255
        if not mask.any():
            continue
        moved = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR)
        where = cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_NEAREST) > 127
        out[where] = moved[where]
    return out


def inpainted_plate(image: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """A background plate made of one frame: `image` (BGR) with its person (the DensePose
    `parts`, widened by a few pixels for the soft edge) filled in from the scene around it.
    What the piecewise-affine warp goes over when there is no subject plate (a photo)."""
    body = (parts > 0).astype(np.uint8)
    if not body.any():
        return image.copy()
    radius = max(2, round(min(image.shape[:2]) / 64))
    hole = cv2.dilate(body, np.ones((2 * radius + 1,) * 2, np.uint8))
    return cv2.inpaint(image, hole * 255, radius, cv2.INPAINT_TELEA)
