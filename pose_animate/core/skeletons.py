"""Other codebases' skeleton orders, made from the pipeline's (137, 3) people.

Every function takes one person (137, 3) [x, y, confidence] in pixels (BODY_25, face 70, left
hand 21, right hand 21; a missing point is 0, 0, 0) and returns that person in the other order,
missing points kept as zero confidence. Layouts that mark missing points otherwise (-1) do so
where they write.

- `to_openpose18`: OpenPose's COCO-18 body (nose, neck, right arm, left arm, right leg, left
  leg, eyes, ears): BODY_25 without MidHip and the feet.
- `to_coco17`: the COCO / mmpose 17 body points (no neck).
- `to_h36m17`: Human3.6M's 17 joints as VideoPose3D and mmpose order them.
- `to_pose137`: the (3, 137) array of the Pose2Img seed (x, y, confidence rows).
- `pose137_to_pose122`: the seed's 122-point subset of a (3, 137) array.
"""

import numpy as np

from .body import FACE, J, N_POINTS

OPENPOSE18 = ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
              "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar"]
COCO17 = ["Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow",
          "LWrist", "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle"]
# Human3.6M: 0 pelvis, 1-3 right hip/knee/ankle, 4-6 left, 7 spine, 8 thorax, 9 nose (neck
# base in mmpose's names), 10 head top, 11-13 left shoulder/elbow/wrist, 14-16 right.
H36M17 = ["MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "spine", "Neck",
          "Nose", "head_top", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"]

_OPENPOSE18_FROM = [J[name] for name in OPENPOSE18]
_COCO17_FROM = [J[name] for name in COCO17]
# The seed's pose137_to_pose122: body 0-7, the eyes 15 and 16, then face and both hands.
POSE122_FROM = list(range(8)) + [15, 16] + list(range(FACE.start, N_POINTS))
assert len(POSE122_FROM) == 122
# Its oliver.yaml's sigmas, in pixels of its 640 px crop: per point cluster (kp_var_root) and
# per limb across the limb (mask_sigma_perp); the export writes them scaled, pose2img scales
# them to its model size.
POSE2IMG_SIZE = 640
POSE2IMG_KP_VAR_ROOT = [10, 10, 10, 10, 10, 10, 10, 4, 2, 3, 2, 4, 4]
POSE2IMG_MASK_SIGMA_PERP = [35, 25, 25, 20, 25, 20, 10, 10]


def _points(person) -> np.ndarray:
    person = np.asarray(person, np.float32)
    if person.shape != (N_POINTS, 3):
        raise ValueError(f"a person is ({N_POINTS}, 3) [x, y, c]; got {person.shape}")
    return person


def to_openpose18(person) -> np.ndarray:
    """(18, 3) OpenPose COCO-18 body."""
    return _points(person)[_OPENPOSE18_FROM].copy()


def to_coco17(person) -> np.ndarray:
    """(17, 3) COCO body."""
    return _points(person)[_COCO17_FROM].copy()


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The midpoint of two points, missing when either is."""
    if a[2] <= 0 or b[2] <= 0:
        return np.zeros(3, np.float32)
    return np.array([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, min(a[2], b[2])], np.float32)


def to_h36m17(person) -> np.ndarray:
    """(17, 3) Human3.6M joints. Those BODY_25 lacks are placed as 2D detectors trained for
    H36M place them: spine half-way from pelvis to thorax (OpenPose's neck, the shoulders'
    midpoint), the nose joint at the nose, and the head top one eye-to-chin span above the
    eyes (the nose-to-neck span when no eye is seen)."""
    p = _points(person)
    out = np.zeros((17, 3), np.float32)
    for k, name in enumerate(H36M17):
        if name in J:
            out[k] = p[J[name]]
    out[7] = _mid(p[J["MidHip"]], p[J["Neck"]])
    nose, neck = p[J["Nose"]], p[J["Neck"]]
    eyes = [p[J[e]] for e in ("REye", "LEye") if p[J[e]][2] > 0]
    if nose[2] > 0 and neck[2] > 0:
        top = np.mean([e[:2] for e in eyes], axis=0) if eyes else nose[:2]
        out[10] = [*(top + (top - neck[:2]) * 0.5), min(nose[2], neck[2])]
    return out


def to_pose137(person) -> np.ndarray:
    """(3, 137): rows x, y, confidence in frame pixels, points in OpenPose order."""
    return np.ascontiguousarray(_points(person).T)


def pose137_to_pose122(pose137) -> np.ndarray:
    """(3, 122) from a (3, 137) array, as the Pose2Img seed selects its points."""
    pose137 = np.asarray(pose137)
    if pose137.shape != (3, N_POINTS):
        raise ValueError(f"expected a (3, {N_POINTS}) array, got {pose137.shape}")
    return pose137[:, POSE122_FROM]

