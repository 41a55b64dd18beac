"""Checks against real maps: the four Human3.6M frames with body-frame IUV (BF_IUV_gt).

Those maps hold, per pixel, blue = foreground (0/1) and green/red = continuous coordinates of
the body surface in a flattened canonical body (green across it, the person's right side low;
red down it, raised hands at the top, feet at the bottom). They carry no DensePose part
labels, so parts are compared at a coarse level: each canonical position is given the region
of the nearest canonical bone (joints placed in the canonical plane where the annotated 2D
joints land in the maps, robustly over the frames), the band between shoulders and crotch is
torso, and front/back is not compared. This reference is itself approximate (its region
borders are straight cuts in the canonical plane), so the agreement is a lower bound.

H36M's 17 joints (mmpose order): 0 pelvis, 1-3 right hip/knee/ankle, 4-6 left hip/knee/ankle,
7 spine, 8 thorax, 9 neck base, 10 head top, 11-13 left shoulder/elbow/wrist, 14-16 right.
"""

import numpy as np

from ..core.body import J, N_POINTS, PART

H36M_TO_BODY25 = {"MidHip": 0, "RHip": 1, "RKnee": 2, "RAnkle": 3, "LHip": 4, "LKnee": 5,
                  "LAnkle": 6, "Neck": 8, "LShoulder": 11, "LElbow": 12, "LWrist": 13,
                  "RShoulder": 14, "RElbow": 15, "RWrist": 16}
HEAD_TOP = 10

# Coarse regions: (name, canonical bone as two H36M joints, DensePose parts it gathers).
REGIONS = [
    ("head", (9, 10), ("head_right", "head_left")),
    ("torso", (0, 8), ("torso_front", "torso_back")),
    ("right_upper_arm", (14, 15), ("right_upper_arm_front", "right_upper_arm_back")),
    ("right_lower_arm", (15, 16), ("right_lower_arm_front", "right_lower_arm_back",
                                   "right_hand")),
    ("left_upper_arm", (11, 12), ("left_upper_arm_front", "left_upper_arm_back")),
    ("left_lower_arm", (12, 13), ("left_lower_arm_front", "left_lower_arm_back",
                                  "left_hand")),
    ("right_upper_leg", (1, 2), ("right_upper_leg_front", "right_upper_leg_back")),
    ("right_lower_leg", (2, 3), ("right_lower_leg_front", "right_lower_leg_back",
                                 "right_foot")),
    ("left_upper_leg", (4, 5), ("left_upper_leg_front", "left_upper_leg_back")),
    ("left_lower_leg", (5, 6), ("left_lower_leg_front", "left_lower_leg_back", "left_foot")),
]
PART_TO_REGION = np.zeros(25, np.int64)            # DensePose part -> region index + 1
for _k, (_, _, _parts) in enumerate(REGIONS):
    for _p in _parts:
        PART_TO_REGION[PART[_p]] = _k + 1


def h36m_to_body25(joints: np.ndarray) -> np.ndarray:
    """(17, 3) H36M joints -> a (137, 3) OpenPose person. H36M has no face points: the nose is
    put half-way from the thorax to the head top (where the skeleton backend's head model
    has it)."""
    person = np.zeros((N_POINTS, 3), np.float32)
    for name, k in H36M_TO_BODY25.items():
        person[J[name]] = joints[k]
    person[J["Nose"], :2] = 0.5 * (joints[8, :2] + joints[HEAD_TOP, :2])
    person[J["Nose"], 2] = min(joints[8, 2], joints[HEAD_TOP, 2])
    return person


def canonical_joints(maps: list[np.ndarray], joints: list[np.ndarray]) -> np.ndarray:
    """(17, 2) canonical (green, red) of each joint: where its 2D position lands in the maps,
    taking the value most frames agree on (an occluded joint lands on another body part)."""
    out = np.zeros((17, 2))
    for j in range(17):
        values = []
        for bf, kp in zip(maps, joints):
            x, y = np.rint(kp[j, :2]).astype(int)
            if 0 <= y < bf.shape[0] and 0 <= x < bf.shape[1] and bf[y, x, 0] > 0:
                values.append(bf[y, x, 1:3].astype(float))
        values = np.array(values)
        support = [(np.linalg.norm(values - v, axis=1) < 30).sum() for v in values]
        best = values[np.array(support) == max(support)]
        out[j] = np.median(best, axis=0)
    return out


def _segment_distance(points, a, b):
    d = b - a
    t = np.clip(((points - a) @ d) / max(float(d @ d), 1e-9), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * d), axis=1)


def region_map(bf: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Coarse region index + 1 (0 background) of each pixel of a body-frame map."""
    fg = bf[..., 0] > 0
    coords = bf[fg][:, 1:3].astype(float)
    dist = np.stack([_segment_distance(coords, anchors[a], anchors[b])
                     for _, (a, b), _ in REGIONS])
    region = dist.argmin(axis=0) + 1
    # The flattened torso is wide: between the shoulders' and just below the hips' height
    # (a third of the torso, where the legs part) it is torso whatever the bones say.
    shoulder_r = anchors[[11, 14], 1].mean()
    hip_r = anchors[[1, 4], 1].mean()
    band = (coords[:, 1] > shoulder_r) & (coords[:, 1] < hip_r + (hip_r - shoulder_r) / 3)
    region[band] = 2
    out = np.zeros(bf.shape[:2], np.int64)
    out[fg] = region
    return out


def region_agreement(parts: np.ndarray, regions: np.ndarray) -> float:
    """Share of pixels that both call foreground whose DensePose part falls in the map's
    coarse region."""
    both = (parts > 0) & (regions > 0)
    if not both.any():
        return float("nan")
    return float(np.mean(PART_TO_REGION[parts[both]] == regions[both]))
