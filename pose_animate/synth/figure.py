"""The demo figure's body: proportions, the shape of each body part in its bone's local
frame, and the landmarks (joints, face, hands, feet) placed on those shapes.

Every part is a region in a local metric frame (s along the bone, c across it, in pixels)
that moves rigidly with its bone: a frame is (origin, ex, ey) with ex, ey orthonormal in the
image (ey may be mirrored). The part's box [s0, s1] x [c0, c1] normalises (s, c) to the
DensePose (U, V) in 0..1. Image pixel (col x, row y) has its centre at (x, y), the coordinate
system of the keypoints.

Orientation: the figure faces the camera, so its right side is on the image's left.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.body import PART

# Lengths as fractions of the figure's height (sole to crown) before the multipliers; the
# body is rescaled afterwards so that sole to crown is exactly the requested height.
_BASE = dict(
    head=0.125,        # chin to top of skull (the face ellipse)
    neck=0.045,        # Neck keypoint (between the shoulders) to chin, along the head axis
    torso=0.29,        # MidHip to Neck
    thigh=0.245, shin=0.245,
    ankle=0.04,        # ankle joint above the sole
    upper_arm=0.172, forearm=0.148, hand=0.105,
    foot=0.07,         # heel to toe as seen from the front (foreshortened)
    shoulder_x=0.105,  # shoulder joint from the midline
    shoulder_drop=0.018,  # shoulder joint below the Neck keypoint
    hip_x=0.056,       # hip joint from the midline
    stance_x=0.075,    # ankle from the midline when standing
    r_upper_arm=(0.033, 0.026), r_forearm=(0.026, 0.019), r_thigh=(0.052, 0.037),
    r_shin=(0.035, 0.025), r_foot=(0.022, 0.026), r_neck=0.025,
    # torso half-width profile: (height above MidHip as a fraction of the torso, half-width)
    torso_profile=((-0.14, 0.096), (0.05, 0.1), (0.32, 0.086), (0.72, 0.108), (0.9, 0.125),
                   (1.05, 0.115)),
)
HAIR_TOP = 1.07     # top of the hair above the chin, in head heights
LEG_BEND = 0.985    # hip-to-ankle distance of the standing leg, as a fraction of its length


@dataclass(frozen=True)
class Body:
    """Lengths and radii in pixels (see _BASE for their meaning)."""
    height: float
    head: float
    neck: float
    torso: float
    thigh: float
    shin: float
    ankle: float
    upper_arm: float
    forearm: float
    hand: float
    foot: float
    shoulder_x: float
    shoulder_drop: float
    hip_x: float
    stance_x: float
    r_upper_arm: tuple
    r_forearm: tuple
    r_thigh: tuple
    r_shin: tuple
    r_foot: tuple
    r_neck: float
    torso_profile: tuple
    hair_style: str = "short"

    def standing_hip_height(self) -> float:
        """Hip joints above the soles when standing (legs slightly bent)."""
        dx = self.stance_x - self.hip_x
        return self.ankle + float(np.sqrt((LEG_BEND * (self.thigh + self.shin)) ** 2 - dx * dx))


def make_body(height_px: float, leg_length=1.0, arm_length=1.0, head_size=1.0, build=1.0,
              hair_style="short") -> Body:
    """Body dimensions in pixels for a figure `height_px` tall from sole to crown.

    Multipliers: leg_length (thigh, shin), arm_length (arm and hand), head_size, build (all
    widths and the shoulder and hip spans).
    """
    b = dict(_BASE)
    for k in ("thigh", "shin"):
        b[k] *= leg_length
    for k in ("upper_arm", "forearm", "hand"):
        b[k] *= arm_length
    b["head"] *= head_size
    for k in ("r_upper_arm", "r_forearm", "r_thigh", "r_shin", "r_foot"):
        b[k] = tuple(r * build for r in b[k])
    for k in ("r_neck", "shoulder_x", "hip_x", "stance_x"):
        b[k] *= build
    b["torso_profile"] = tuple((f, w * build) for f, w in b["torso_profile"])
    dx = b["stance_x"] - b["hip_x"]
    raw = (b["ankle"] + np.sqrt((LEG_BEND * (b["thigh"] + b["shin"])) ** 2 - dx * dx)
           + b["torso"] + b["neck"] + HAIR_TOP * b["head"])
    k = height_px / raw
    scaled = {}
    for key, value in b.items():
        if key == "torso_profile":
            scaled[key] = tuple((f, w * k) for f, w in value)
        elif isinstance(value, tuple):
            scaled[key] = tuple(v * k for v in value)
        else:
            scaled[key] = float(value * k)
    return Body(height=float(height_px), hair_style=hair_style, **scaled)


# ---- shape primitives in local (s, c) coordinates ---------------------------------------

def capsule(s, c, p0, p1, r0, r1):
    """Inside the tapered capsule around segment p0 -> p1 (radii r0 -> r1)."""
    d0, d1 = p1[0] - p0[0], p1[1] - p0[1]
    t = np.clip(((s - p0[0]) * d0 + (c - p0[1]) * d1) / (d0 * d0 + d1 * d1), 0.0, 1.0)
    r = r0 + (r1 - r0) * t
    return (s - p0[0] - t * d0) ** 2 + (c - p0[1] - t * d1) ** 2 <= r * r


def ellipse(s, c, centre, semi_s, semi_c):
    return ((s - centre[0]) / semi_s) ** 2 + ((c - centre[1]) / semi_c) ** 2 <= 1.0


@dataclass(frozen=True)
class PartShape:
    """One DensePose part of the figure: its box in local coordinates and its shape."""
    name: str            # a DensePose part name (pose_animate.core.body.DENSEPOSE_PARTS)
    box: tuple           # (s0, s1, c0, c1)
    inside: Callable     # inside(s, c) -> bool array
    kind: str            # torso, limb, head, hand, foot: how appearance paints it
    geometry: dict       # what the painter needs (radii, lengths, ...)

    @property
    def dp(self) -> int:
        return PART[self.name]


def _limb(name, length, radii, kind="limb", **extra):
    r0, r1 = radii
    return PartShape(
        name, (-r0, length + r1, -max(r0, r1), max(r0, r1)),
        lambda s, c: capsule(s, c, (0.0, 0.0), (length, 0.0), r0, r1),
        kind, dict(length=length, r0=r0, r1=r1, **extra))


def torso_half_width(body: Body, s):
    fracs, halves = zip(*body.torso_profile)
    return np.interp(s, np.array(fracs) * body.torso, halves)


def _torso(body: Body) -> PartShape:
    top = body.torso + 0.012 * body.height
    bottom = -0.14 * body.torso  # the crotch, a little below the hip joints
    shoulder = body.torso_profile[-2][1]

    def inside(s, c):
        ac = np.abs(c)
        # sloped, rounded shoulders from the neck to the shoulder tips
        slope = np.clip((ac - body.r_neck) / (shoulder - body.r_neck), 0, None)
        return ((ac <= torso_half_width(body, s)) & (s >= bottom)
                & (s <= top - 0.05 * body.height * slope ** 2))

    half_max = max(w for _, w in body.torso_profile)
    return PartShape("torso_front", (bottom, top, -half_max, half_max), inside, "torso",
                     dict(top=top, bottom=bottom))


# ---- the head: face coordinates ---------------------------------------------------------
# Face coordinates (x, y) in head heights: y up from the chin (0) to the top of the skull
# (1), x across from the midline towards the figure's left (image right). The two head
# parts are the two halves: each has c = |x| * head >= 0 in its own mirrored frame.
FACE_HALF_WIDTH = 0.37
EYE = dict(x=0.165, y=0.52, semi_x=0.08, semi_y=0.038, iris=0.032, pupil=0.015)
BROW_Y = 0.615
NOSE_TIP_Y, NOSTRIL_Y = 0.36, 0.335
MOUTH = dict(y=0.205, semi_x=0.105, semi_y=0.038)
EAR = dict(x=0.37, y=0.48, semi_x=0.05, semi_y=0.085)


def head_regions(body: Body, x, y):
    """Boolean regions of the head in face coordinates (x >= 0 is enough: symmetric)."""
    ax = np.abs(x)
    face = (ax / FACE_HALF_WIDTH) ** 2 + ((y - 0.5) / 0.5) ** 2 <= 1.0
    ear = ((ax - EAR["x"]) / EAR["semi_x"]) ** 2 + ((y - EAR["y"]) / EAR["semi_y"]) ** 2 <= 1.0
    skull_hair = ((ax / 0.41) ** 2 + ((y - 0.58) / 0.49) ** 2 <= 1.0) & (y >= 0.52)
    neck_r = body.r_neck / body.head
    neck = (ax <= neck_r) & (y <= 0.2)
    if body.hair_style == "long":
        hang = (ax <= 0.44) & (y >= -0.3) & (y <= 0.7)
        hang &= ((ax / 0.44) ** 2 + ((y + 0.1) / 0.2) ** 2 <= 1.0) | (y >= -0.1)
        skull_hair |= hang & ~face & ~(neck & (ax < neck_r * 0.9))
    hairline = 0.8 - 0.2 * (ax / FACE_HALF_WIDTH) ** 2
    hair = skull_hair & (~face | (y > hairline))
    return dict(face=face, ear=ear & ~hair, hair=hair, neck=neck & ~face & ~hair)


def _head_half(body: Body, name: str) -> PartShape:
    neck_len, head = body.neck, body.head
    width = 0.46 * head
    bottom = -0.3 * head + neck_len if body.hair_style == "long" else 0.0

    def inside(s, c):
        x, y = c / head, (s - neck_len) / head
        r = head_regions(body, x, y)
        return r["face"] | r["ear"] | r["hair"] | (r["neck"] & (s >= 0))

    return PartShape(name, (min(bottom, 0.0), neck_len + HAIR_TOP * head + 0.01 * head, 0.0,
                            width), inside, "head", dict(neck=neck_len, head=head))


# Face landmarks (OpenPose face 70 = iBUG 68 + pupils) in face coordinates.
def face_landmarks_xy() -> np.ndarray:
    pts = []
    for k in range(17):  # jaw from the figure's right (image left) round the chin
        th = np.pi - 0.12 + k * (np.pi + 0.24) / 16
        pts.append((0.9 * FACE_HALF_WIDTH * np.cos(th), 0.5 + 0.45 * np.sin(th)))
    for side in (-1, 1):  # brows, image left first; each from its outer end inwards or out
        xs = np.linspace(0.27, 0.06, 5) if side < 0 else np.linspace(0.06, 0.27, 5)
        for x in xs:
            pts.append((side * x, BROW_Y + 0.025 * (1 - ((x - 0.165) / 0.105) ** 2)))
    for y in np.linspace(0.55, NOSE_TIP_Y, 4):  # nose bridge down to the tip
        pts.append((0.0, y))
    for x in np.linspace(-0.06, 0.06, 5):  # lower nose
        pts.append((x, NOSTRIL_Y - 0.008 * (1 - (x / 0.06) ** 2)))
    for side in (-1, 1):  # eyes from the image-left corner: upper lid, other corner, lower lid
        cx, cy, a, b = side * EYE["x"], EYE["y"], EYE["semi_x"], EYE["semi_y"]
        for ang in (180, 120, 60, 0, 300, 240):
            t = np.radians(ang)
            pts.append((cx + a * np.cos(t), cy + b * np.sin(t)))
    m = MOUTH
    for ang in np.linspace(180, -150, 12):  # outer lips from the left corner, upper lip first
        t = np.radians(ang)
        pts.append((m["semi_x"] * np.cos(t), m["y"] + m["semi_y"] * np.sin(t)))
    for ang in [180, 135, 90, 45, 0, -45, -90, -135]:  # inner lips
        t = np.radians(ang)
        pts.append((0.8 * m["semi_x"] * np.cos(t), m["y"] + 0.35 * m["semi_y"] * np.sin(t)))
    pts += [(-EYE["x"], EYE["y"]), (EYE["x"], EYE["y"])]  # pupils
    return np.array(pts, np.float64)


# ---- hands ------------------------------------------------------------------------------
# Hand coordinates in hand lengths: s from the wrist towards the finger tips, c across with
# the thumb at c > 0 (each hand's frame is mirrored so that the thumb is on the outside when
# the arm hangs).
_FINGERS = dict(base_s=0.47, base_c=(0.13, 0.045, -0.04, -0.125), length=(0.47, 0.53, 0.5, 0.4),
                spread=(0.1, 0.02, -0.06, -0.15), radius=0.05)
_THUMB = dict(base=(0.08, 0.13), angle=0.75, joints=(0.0, 0.16, 0.29, 0.41), radius=0.06)
_PALM = dict(centre=0.25, semi_s=0.27, semi_c=0.21)


def hand_landmarks_sc() -> np.ndarray:
    """The 21 OpenPose hand points (wrist, thumb 4, then 4 per finger) in hand lengths."""
    pts = [(0.0, 0.0)]
    bs, bc = _THUMB["base"]
    a = _THUMB["angle"]
    pts += [(bs + d * np.cos(a), bc + d * np.sin(a)) for d in _THUMB["joints"]]
    f = _FINGERS
    for bc, length, ang in zip(f["base_c"], f["length"], f["spread"]):
        pts += [(f["base_s"] + d * length * np.cos(ang), bc + d * length * np.sin(ang))
                for d in (0.0, 0.45, 0.75, 1.0)]
    return np.array(pts, np.float64)


def _hand(body: Body, name: str) -> PartShape:
    L = body.hand
    pts = hand_landmarks_sc()
    p = _PALM

    def inside(s, c):
        hs, hc = s / L, c / L
        out = ((hs - p["centre"]) / p["semi_s"]) ** 4 + (hc / p["semi_c"]) ** 4 <= 1.0
        out |= capsule(hs, hc, pts[1], pts[4], _THUMB["radius"] * 1.3, _THUMB["radius"])
        r = _FINGERS["radius"]
        for k in range(4):
            out |= capsule(hs, hc, pts[5 + 4 * k], pts[8 + 4 * k], r * 1.1, r * 0.85)
        return out

    return PartShape(name, (-0.08 * L, 1.08 * L, -0.3 * L, 0.5 * L), inside, "hand",
                     dict(length=L))


# ---- feet -------------------------------------------------------------------------------
FOOT_ANGLE = 0.95  # toes turned out from straight down, radians (a front view of a foot)


def foot_points(body: Body) -> dict:
    """Heel, toes in the foot frame: origin at the ankle, s towards the toes, c medial.

    The frame is fixed to the foot; at rest its s axis points FOOT_ANGLE out from down.
    """
    drop = 0.75 * body.ankle  # heel centre below the ankle
    # world "down" in the foot frame at rest (s towards the toes, c medial)
    down = np.array([np.cos(FOOT_ANGLE), np.sin(FOOT_ANGLE)])
    heel = drop * down
    toe = heel + np.array([body.foot, 0.0])
    r_heel, r_toe = body.r_foot
    return dict(heel=heel, toe=toe, big_toe=toe + np.array([0.2 * r_toe, 0.45 * r_toe]),
                small_toe=toe + np.array([-0.25 * body.foot, -0.55 * r_toe]),
                r_heel=r_heel, r_toe=r_toe)


def _foot(body: Body, name: str) -> PartShape:
    f = foot_points(body)
    heel, toe, rh, rt = f["heel"], f["toe"], f["r_heel"], f["r_toe"]
    s0 = min(0.0, heel[0]) - rh
    c0, c1 = min(heel[1], toe[1]) - rt, max(heel[1], toe[1]) + rt

    def inside(s, c):
        return capsule(s, c, heel, toe, rh, rt)

    return PartShape(name, (s0, toe[0] + rt, c0, c1), inside, "foot", f)


def part_shapes(body: Body) -> list[PartShape]:
    """The figure's parts in drawing order, back to front."""
    parts = []
    for side in ("right", "left"):
        parts += [_limb(f"{side}_upper_leg_front", body.thigh, body.r_thigh, kind="leg"),
                  _limb(f"{side}_lower_leg_front", body.shin, body.r_shin, kind="leg"),
                  _foot(body, f"{side}_foot")]
    parts += [_torso(body), _head_half(body, "head_right"), _head_half(body, "head_left")]
    for side in ("right", "left"):
        parts += [_limb(f"{side}_upper_arm_front", body.upper_arm, body.r_upper_arm,
                        kind="upper_arm"),
                  _limb(f"{side}_lower_arm_front", body.forearm, body.r_forearm, kind="forearm"),
                  _hand(body, f"{side}_hand")]
    return parts
