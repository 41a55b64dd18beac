"""Index tables from other keypoint layouts to OpenPose's (137, 3) BODY_25 + face 70 + hands.

Every function takes points as (N, 3) arrays of [x, y, confidence] in pixels (confidence 0
means missing) and returns one (137, 3) float32 person (see pose_animate.body).

Derived points (documented because they are not in the source layouts):
- Neck = midpoint of the two shoulders, MidHip = midpoint of the two hips; confidence is the
  smaller of the two, and missing when either is missing.
- mediapipe pose has one toe point per foot ("foot index", the tip of the foot between the big
  and second toe) and a heel: BigToe and SmallToe both take the foot-index point, Heel the heel.
- OpenPose's 70 face points are the 68-point iBUG layout (jaw 0-16, brows 17-26, nose 27-35,
  eyes 36-47, lips 48-67) plus the pupils 68 (the subject's right eye, on the image's left in
  a frontal view) and 69. From mediapipe's 468/478-point face mesh they are the mesh points of
  FACE_MESH_TO_IBUG68; the pupils are the iris centres (mesh points 468 and 473, present when
  the iris model ran), else the mean of the eye's six contour points.
- mediapipe hands and OpenPose hands share one layout (wrist, then four points per finger from
  thumb to little finger), so the hand table is the identity.
"""

import numpy as np

from ..core.body import FACE, HAND_LEFT, HAND_RIGHT, J, empty_person

# ---- mediapipe pose (33 landmarks) ---------------------------------------------------------
# BODY_25 name -> mediapipe pose landmark index.
MEDIAPIPE_POSE_TO_BODY25 = {
    "Nose": 0, "REye": 5, "LEye": 2, "REar": 8, "LEar": 7,
    "RShoulder": 12, "RElbow": 14, "RWrist": 16, "LShoulder": 11, "LElbow": 13, "LWrist": 15,
    "RHip": 24, "RKnee": 26, "RAnkle": 28, "LHip": 23, "LKnee": 25, "LAnkle": 27,
    "LBigToe": 31, "LSmallToe": 31, "LHeel": 29, "RBigToe": 32, "RSmallToe": 32, "RHeel": 30,
}

# ---- COCO-17 and Halpe-26 (AlphaPose) ------------------------------------------------------
COCO17_TO_BODY25 = {
    "Nose": 0, "LEye": 1, "REye": 2, "LEar": 3, "REar": 4, "LShoulder": 5, "RShoulder": 6,
    "LElbow": 7, "RElbow": 8, "LWrist": 9, "RWrist": 10, "LHip": 11, "RHip": 12,
    "LKnee": 13, "RKnee": 14, "LAnkle": 15, "RAnkle": 16,
}
# Halpe-26 = COCO-17 + head top 17, neck 18, hip 19, then the feet. Neck and MidHip are taken
# from Halpe's own points 18 and 19 (as AlphaPose's OpenPose-style output does).
HALPE26_TO_BODY25 = {
    **COCO17_TO_BODY25, "Neck": 18, "MidHip": 19,
    "LBigToe": 20, "RBigToe": 21, "LSmallToe": 22, "RSmallToe": 23, "LHeel": 24, "RHeel": 25,
}

# ---- COCO-WholeBody (133 points: body 17, feet 6, face 68, left hand 21, right hand 21) ------
WHOLEBODY_TO_BODY25 = {
    **COCO17_TO_BODY25,
    "LBigToe": 17, "LSmallToe": 18, "LHeel": 19, "RBigToe": 20, "RSmallToe": 21, "RHeel": 22,
}
WHOLEBODY_FACE = slice(23, 91)
WHOLEBODY_HAND_LEFT = slice(91, 112)
WHOLEBODY_HAND_RIGHT = slice(112, 133)

# ---- mediapipe face mesh -> iBUG 68 ----------------------------------------------------------
# Picked from the mesh's contours (FACEMESH_FACE_OVAL, _LIPS, _LEFT/RIGHT_EYE, _EYEBROW) so
# that each point sits where the iBUG annotation puts it and left/right pairs are mirror points
# of the mesh. "Right" is the subject's right (the image's left in a frontal view).
FACE_MESH_TO_IBUG68 = [
    # jaw 0-16: right ear level -> chin (8) -> left ear level
    234, 93, 132, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 361, 323, 454,
    # right brow 17-21 (outer -> inner), left brow 22-26 (inner -> outer)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # nose bridge 27-30 (between the eyes -> tip), nostrils 31-35 (right -> left)
    168, 197, 5, 4, 98, 97, 2, 326, 327,
    # right eye 36-41 (outer corner, upper lid x2, inner corner, lower lid x2)
    33, 160, 158, 133, 153, 144,
    # left eye 42-47 (inner corner, upper lid x2, outer corner, lower lid x2)
    362, 385, 387, 263, 373, 380,
    # outer lips 48-59 (right corner, upper lip -> left corner, lower lip back)
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    # inner lips 60-67 (right corner, upper -> left corner, lower back)
    78, 81, 13, 311, 308, 402, 14, 178,
]
IRIS_CENTRES = (468, 473)  # the subject's right and left iris centres (refined mesh only)
IBUG_RIGHT_EYE = slice(36, 42)
IBUG_LEFT_EYE = slice(42, 48)


def _fill_body(out: np.ndarray, points: np.ndarray, table: dict) -> None:
    names = list(table)
    out[[J[n] for n in names]] = points[[table[n] for n in names]]


def _body25_from(points, count: int, layout: str, table: dict, derive_neck_midhip=True):
    """(137, 3) with the BODY_25 points of `table` filled from `points` (count, 3)."""
    pts = _as_points(points, count, layout)
    out = empty_person()
    _fill_body(out, pts, table)
    if derive_neck_midhip:
        _derive_neck_midhip(out)
    return pts, out


def _midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a[2] <= 0 or b[2] <= 0:
        return np.zeros(3, np.float32)
    return np.array([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, min(a[2], b[2])], np.float32)


def _derive_neck_midhip(out: np.ndarray) -> None:
    out[J["Neck"]] = _midpoint(out[J["RShoulder"]], out[J["LShoulder"]])
    out[J["MidHip"]] = _midpoint(out[J["RHip"]], out[J["LHip"]])


def _zero_missing(person: np.ndarray) -> np.ndarray:
    """OpenPose writes a missing point as 0, 0, 0: clear coordinates where confidence is 0."""
    person[person[:, 2] <= 0] = 0
    return person


def _as_points(points, count: int, layout: str) -> np.ndarray:
    pts = np.asarray(points, np.float32)
    if pts.shape != (count, 3):
        raise ValueError(f"{layout} needs ({count}, 3) points, got {pts.shape}")
    return pts


def mediapipe_pose_to_body25(landmarks) -> np.ndarray:
    """mediapipe pose (33, 3) [x_px, y_px, visibility] -> (137, 3) with the body filled."""
    _, out = _body25_from(landmarks, 33, "mediapipe pose", MEDIAPIPE_POSE_TO_BODY25)
    return _zero_missing(out)


def face_mesh_to_face70(mesh) -> np.ndarray:
    """mediapipe face mesh (468 or 478, 3) -> OpenPose face (70, 3)."""
    mesh = np.asarray(mesh, np.float32)
    if mesh.ndim != 2 or mesh.shape[0] not in (468, 478) or mesh.shape[1] != 3:
        raise ValueError(f"a face mesh has 468 or 478 points of 3 values, got {mesh.shape}")
    face = np.zeros((70, 3), np.float32)
    face[:68] = mesh[FACE_MESH_TO_IBUG68]
    if mesh.shape[0] == 478:
        face[68:] = mesh[list(IRIS_CENTRES)]
    else:
        face[68:] = [_eye_centre(face[IBUG_RIGHT_EYE]), _eye_centre(face[IBUG_LEFT_EYE])]
    return _zero_missing(face)


def _eye_centre(contour: np.ndarray) -> np.ndarray:
    if np.any(contour[:, 2] <= 0):
        return np.zeros(3, np.float32)
    return np.array([*contour[:, :2].mean(0), contour[:, 2].min()], np.float32)


def coco17_to_body25(points) -> np.ndarray:
    """COCO-17 (17, 3) -> (137, 3): neck and mid-hip derived, no feet."""
    _, out = _body25_from(points, 17, "COCO-17", COCO17_TO_BODY25)
    return _zero_missing(out)


def halpe26_to_body25(points) -> np.ndarray:
    """Halpe-26 (26, 3) -> (137, 3): Halpe's own neck, hip and foot points."""
    _, out = _body25_from(points, 26, "Halpe-26", HALPE26_TO_BODY25, derive_neck_midhip=False)
    return _zero_missing(out)


def wholebody_to_openpose(points) -> np.ndarray:
    """COCO-WholeBody (133, 3) -> (137, 3): body and feet, face 68 + pupils, both hands.

    The pupils (not in COCO-WholeBody) are the mean of each eye's six contour points.
    """
    pts, out = _body25_from(points, 133, "COCO-WholeBody", WHOLEBODY_TO_BODY25)
    face = np.zeros((70, 3), np.float32)
    face[:68] = pts[WHOLEBODY_FACE]
    face[68:] = [_eye_centre(face[IBUG_RIGHT_EYE]), _eye_centre(face[IBUG_LEFT_EYE])]
    out[FACE] = face
    out[HAND_LEFT] = pts[WHOLEBODY_HAND_LEFT]
    out[HAND_RIGHT] = pts[WHOLEBODY_HAND_RIGHT]
    return _zero_missing(out)


# Layouts an importer can meet, by point count.
BODY_LAYOUTS = {17: coco17_to_body25, 26: halpe26_to_body25, 133: wholebody_to_openpose}
