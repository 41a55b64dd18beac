"""From a skeleton (motion.skeleton) to the parts' rigid frames and the exact keypoints."""

import numpy as np

from ..core.body import FACE, HAND_LEFT, HAND_RIGHT, J, N_POINTS
from .figure import Body, PartShape, face_landmarks_xy, foot_points, hand_landmarks_sc
from .motion import rot90

_FACE_XY = face_landmarks_xy()
_HAND_SC = hand_landmarks_sc()


def _unit(v):
    return v / np.hypot(*v)


def part_frames(parts: list[PartShape], sk: dict) -> list[tuple]:
    """(origin, ex, ey) in image pixels for each part, in the order of `parts`.

    ex points along the bone; ey = rot90(ex) or its mirror, chosen so that the head halves
    have c >= 0 outwards from the midline, the thumbs are outside a hanging arm and the
    feet's c is medial.
    """
    frames = []
    for part in parts:
        side = "R" if part.name.startswith("right") else "L"
        n = part.name
        if n == "torso_front":
            o, ex, mirror = sk["midhip"], sk["up"], False
        elif n.startswith("head"):
            o, ex, mirror = sk["neck"], sk["head_up"], n == "head_right"
        elif "upper_leg" in n:
            o, ex, mirror = sk[f"{side}Hip"], _unit(sk[f"{side}Knee"] - sk[f"{side}Hip"]), False
        elif "lower_leg" in n:
            o, ex, mirror = sk[f"{side}Knee"], _unit(sk[f"{side}Ankle"] - sk[f"{side}Knee"]), False
        elif n.endswith("foot"):
            o, ex, mirror = sk[f"{side}Ankle"], sk[f"{side}FootDir"], side == "R"
        elif "upper_arm" in n:
            o, ex = sk[f"{side}Shoulder"], _unit(sk[f"{side}Elbow"] - sk[f"{side}Shoulder"])
            mirror = False
        elif "lower_arm" in n:
            o, ex = sk[f"{side}Elbow"], _unit(sk[f"{side}Wrist"] - sk[f"{side}Elbow"])
            mirror = False
        elif n.endswith("hand"):
            o, ex, mirror = sk[f"{side}Wrist"], sk[f"{side}HandDir"], side == "L"
        else:
            raise ValueError(f"no frame for part {n}")
        ey = rot90(ex)
        frames.append((np.asarray(o, np.float64), np.asarray(ex, np.float64),
                       -ey if mirror else ey))
    return frames


def _to_image(frame, s, c):
    o, ex, ey = frame
    return o + np.outer(s, ex) + np.outer(c, ey)


def keypoints(body: Body, parts: list[PartShape], frames: list[tuple], sk: dict) -> np.ndarray:
    """(137, 3) float32 OpenPose keypoints, exact, confidence 1 for every point.

    Body joints are the skeleton's joints; face points sit on the painted face features,
    hand points on the fingers' centre lines, feet points on the shoe shape.
    """
    kp = np.zeros((N_POINTS, 3), np.float32)
    by_name = {p.name: f for p, f in zip(parts, frames)}

    def put(index, xy):
        kp[index, :2] = xy
        kp[index, 2] = 1.0

    put(J["Neck"], sk["neck"])
    put(J["MidHip"], sk["midhip"])
    for name in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle"):
        for side in "RL":
            put(J[side + name], sk[side + name])

    head = by_name["head_left"]  # its ey points to the figure's left, the face x axis

    def face_xy(xy):
        xy = np.atleast_2d(xy)
        return _to_image(head, body.neck + xy[:, 1] * body.head, xy[:, 0] * body.head)

    face = face_xy(_FACE_XY)
    kp[FACE, :2] = face
    kp[FACE, 2] = 1.0
    put(J["Nose"], face[30])
    put(J["REye"], face[68])
    put(J["LEye"], face[69])
    put(J["REar"], face_xy((-0.36, 0.48))[0])
    put(J["LEar"], face_xy((0.36, 0.48))[0])

    for side, where in (("right", HAND_RIGHT), ("left", HAND_LEFT)):
        kp[where, :2] = _to_image(by_name[f"{side}_hand"], _HAND_SC[:, 0] * body.hand,
                                  _HAND_SC[:, 1] * body.hand)
        kp[where, 2] = 1.0

    f = foot_points(body)
    for side, prefix in (("right", "R"), ("left", "L")):
        frame = by_name[f"{side}_foot"]
        pts = _to_image(frame, *np.array([f["heel"], f["big_toe"], f["small_toe"]]).T)
        put(J[f"{prefix}Heel"], pts[0])
        put(J[f"{prefix}BigToe"], pts[1])
        put(J[f"{prefix}SmallToe"], pts[2])
    return kp
