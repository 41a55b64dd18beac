"""The default IUV backend: DensePose-style body-part coordinates from keypoints and a mask.

No weights, CPU only. The body is a set of bones (capsules around keypoint segments) plus a
torso polygon; each foreground pixel goes to the part with the smallest distance normalised by
that part's width (limbs are drawn over the torso, as they usually are in front of it). Widths
come from the person mask where there is one (the mask's distance transform along the bone),
otherwise from body proportions, and then the foreground is the union of the capsules.

Coordinates: U runs along the bone (0 at the joint nearer the torso, 1 at the far one; torso
and head: 0 at the bottom, 1 at the top). V runs around the limb across the visible half:
V = 0.5 on the bone's axis and 0 / 1 at the two silhouette edges, oriented by the body's own
left/right so that the same physical side keeps the same V whichever way the person faces.
Front or back parts are chosen from the body's facing (shoulder and hip order, face
visibility) with hysteresis across frames, so labels do not flicker in side views.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..body import BODY, HAND_LEFT, HAND_RIGHT, J, PART

MIN_CONF = 0.05

# Widths (capsule radius) as fractions of the torso length, used without a mask and to bound
# the widths measured on a mask.
RADIUS = {"upper_arm": 0.15, "lower_arm": 0.12, "hand": 0.11, "upper_leg": 0.22,
          "lower_leg": 0.16, "foot": 0.1, "torso_edge": 0.12}
HEAD_RADIUS = 0.45  # of the head segment's length (chin to crown minus the two radii)
# Limbs win over the torso unless their normalised distance exceeds this (in torso-edge units
# the torso interior scores TORSO_BIAS).
TORSO_BIAS = 0.8
FACING_HYSTERESIS = 0.15


@dataclass(frozen=True)
class Bone:
    name: str
    kind: str             # key of RADIUS
    front: int            # DensePose part seen from the front
    back: int             # ... and from the back (same as front for hands and feet)


BONES = [
    Bone("right_upper_arm", "upper_arm", PART["right_upper_arm_front"],
         PART["right_upper_arm_back"]),
    Bone("left_upper_arm", "upper_arm", PART["left_upper_arm_front"],
         PART["left_upper_arm_back"]),
    Bone("right_lower_arm", "lower_arm", PART["right_lower_arm_front"],
         PART["right_lower_arm_back"]),
    Bone("left_lower_arm", "lower_arm", PART["left_lower_arm_front"],
         PART["left_lower_arm_back"]),
    Bone("right_hand", "hand", PART["right_hand"], PART["right_hand"]),
    Bone("left_hand", "hand", PART["left_hand"], PART["left_hand"]),
    Bone("right_upper_leg", "upper_leg", PART["right_upper_leg_front"],
         PART["right_upper_leg_back"]),
    Bone("left_upper_leg", "upper_leg", PART["left_upper_leg_front"],
         PART["left_upper_leg_back"]),
    Bone("right_lower_leg", "lower_leg", PART["right_lower_leg_front"],
         PART["right_lower_leg_back"]),
    Bone("left_lower_leg", "lower_leg", PART["left_lower_leg_front"],
         PART["left_lower_leg_back"]),
    Bone("right_foot", "foot", PART["right_foot"], PART["right_foot"]),
    Bone("left_foot", "foot", PART["left_foot"], PART["left_foot"]),
]


def _point(body, name):
    p = body[J[name]]
    return p[:2].astype(np.float64) if p[2] > MIN_CONF else None


def _mean(points):
    points = [p for p in points if p is not None]
    return np.mean(points, axis=0) if points else None


def _hand_end(person, side, wrist, elbow):
    """Far end of the hand: past the finger knuckles when hand points exist, else along the
    forearm (a hand is about 0.7 forearm long)."""
    hand = person[HAND_LEFT if side > 0 else HAND_RIGHT]
    knuckles = hand[[5, 9, 13, 17]]
    ok = knuckles[:, 2] > MIN_CONF
    if ok.sum() >= 2 and hand[0, 2] > MIN_CONF:
        mid = knuckles[ok, :2].mean(axis=0)
        return wrist + 1.6 * (mid - hand[0, :2])
    if elbow is not None:
        return wrist + 0.7 * (wrist - elbow)
    return None


def _foot_ends(body, side, ankle, knee):
    """(start, end) of the foot: heel to toes when foot points exist, else a stub below the
    ankle."""
    prefix = "L" if side > 0 else "R"
    toes = _mean([_point(body, f"{prefix}BigToe"), _point(body, f"{prefix}SmallToe")])
    heel = _point(body, f"{prefix}Heel")
    if toes is not None:
        return (heel if heel is not None else ankle), toes
    if knee is not None:
        return ankle, ankle + 0.25 * (ankle - knee)
    return None, None


def skeleton_segments(person: np.ndarray) -> dict:
    """Named segments (a, b) in pixels of one person's (137, 3) keypoints; missing ones absent.

    Keys: the BONES' names, 'torso' (bottom, top = mid-hip, neck), 'head' (bottom, top),
    plus 'torso_polygon' (R shoulder, L shoulder, L hip, R hip) when all four exist.
    """
    body = person[BODY]
    p = {name: _point(body, name) for name in
         ("Neck", "MidHip", "RShoulder", "LShoulder", "RElbow", "LElbow", "RWrist", "LWrist",
          "RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle", "Nose")}
    neck = p["Neck"] if p["Neck"] is not None else _mean([p["RShoulder"], p["LShoulder"]])
    midhip = p["MidHip"] if p["MidHip"] is not None else _mean([p["RHip"], p["LHip"]])
    seg = {}
    if neck is not None and midhip is not None and np.linalg.norm(neck - midhip) > 1:
        seg["torso"] = (midhip, neck)
    quad = [p["RShoulder"], p["LShoulder"], p["LHip"], p["RHip"]]
    if all(q is not None for q in quad):
        seg["torso_polygon"] = np.array(quad)
    for side, prefix in ((-1, "R"), (+1, "L")):
        name = "left" if side > 0 else "right"
        sh, el, wr = p[f"{prefix}Shoulder"], p[f"{prefix}Elbow"], p[f"{prefix}Wrist"]
        hip, kn, an = p[f"{prefix}Hip"], p[f"{prefix}Knee"], p[f"{prefix}Ankle"]
        if sh is not None and el is not None:
            seg[f"{name}_upper_arm"] = (sh, el)
        if el is not None and wr is not None:
            seg[f"{name}_lower_arm"] = (el, wr)
        if wr is not None:
            end = _hand_end(person, side, wr, el)
            if end is not None:
                seg[f"{name}_hand"] = (wr, end)
        if hip is not None and kn is not None:
            seg[f"{name}_upper_leg"] = (hip, kn)
        if kn is not None and an is not None:
            seg[f"{name}_lower_leg"] = (kn, an)
        if an is not None:
            a, b = _foot_ends(body, side, an, kn)
            if a is not None:
                seg[f"{name}_foot"] = (a, b)
    face = _mean([_point(body, n) for n in ("Nose", "REye", "LEye", "REar", "LEar")])
    if face is not None and neck is not None and np.linalg.norm(face - neck) > 1:
        up = face - neck
        seg["head"] = (neck + 0.45 * up, face + 0.35 * up)
    elif "torso" in seg and neck is not None:
        up = neck - midhip
        seg["head"] = (neck + 0.08 * up, neck + 0.55 * up)
    return seg


def facing_score(person: np.ndarray) -> float:
    """> 0 when the body faces the camera, < 0 when it turns its back, near 0 in profile.

    Shoulder and hip order relative to the body's up direction (the person's left shoulder
    is on the image right when they face the camera), plus whether the face is visible.
    """
    body = person[BODY]
    neck = _mean([_point(body, "Neck")]) if _point(body, "Neck") is not None else \
        _mean([_point(body, "RShoulder"), _point(body, "LShoulder")])
    midhip = _point(body, "MidHip")
    if midhip is None:
        midhip = _mean([_point(body, "RHip"), _point(body, "LHip")])
    score = 0.0
    if neck is not None and midhip is not None:
        up = neck - midhip
        length = np.linalg.norm(up) + 1e-6
        for r, l, weight in (("RShoulder", "LShoulder", 1.0), ("RHip", "LHip", 0.7)):
            pr, pl = _point(body, r), _point(body, l)
            if pr is not None and pl is not None:
                across = pl - pr
                score += weight * float(up[0] * across[1] - up[1] * across[0]) / length ** 2
    nose, eyes = body[J["Nose"], 2], body[[J["REye"], J["LEye"]], 2]
    ears = body[[J["REar"], J["LEar"]], 2]
    if nose > MIN_CONF and (eyes > MIN_CONF).any():
        score += 0.15
    elif (ears > MIN_CONF).any():
        score -= 0.15
    return score


def _segment_coords(xs, ys, a, b):
    """Per pixel: t along a->b (unclipped), perpendicular signed distance, distance to the
    segment."""
    d = b - a
    length2 = float(d @ d) + 1e-9
    px, py = xs - a[0], ys - a[1]
    t = (px * d[0] + py * d[1]) / length2
    length = np.sqrt(length2)
    perp = (px * -d[1] + py * d[0]) / length      # + is d rotated by +90 deg (image coords)
    tc = np.clip(t, 0, 1)
    dist = np.hypot(px - tc * d[0], py - tc * d[1])
    return t, perp, dist


def _radius_from_mask(dist_map, a, b, default):
    """The limb's half-width: the mask's distance transform along the middle of the bone,
    bounded to [0.6, 1.6] x the proportional width (a limb over the torso reads too wide)."""
    h, w = dist_map.shape
    ts = np.linspace(0.3, 0.7, 9)
    pts = a[None] + ts[:, None] * (b - a)[None]
    xi = np.clip(np.rint(pts[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.rint(pts[:, 1]).astype(int), 0, h - 1)
    values = dist_map[yi, xi]
    values = values[values > 0]
    if len(values) == 0:
        return default
    return float(np.clip(np.median(values), 0.6 * default, 1.6 * default))


def _polygon_distance(poly, shape):
    """Distance (pixels) from each pixel to the torso polygon, 0 inside it."""
    inside = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(inside, np.rint(cv2.convexHull(poly.astype(np.float32))).astype(np.int32),
                       1)
    return cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)


class SkeletonIUV:
    """Stateful per-sequence converter: call it frame by frame (it carries the facing)."""

    def __init__(self):
        self.front = True          # facing state carried across frames (hysteresis)

    def update_facing(self, person) -> bool:
        score = facing_score(person)
        if self.front and score < -FACING_HYSTERESIS:
            self.front = False
        elif not self.front and score > FACING_HYSTERESIS:
            self.front = True
        elif abs(score) > 0.6:     # a clear view decides at once
            self.front = score > 0
        return self.front

    def __call__(self, person: np.ndarray, shape, mask: np.ndarray | None = None):
        """(I uint8, U float32, V float32) of one frame of `shape` (H, W)."""
        h, w = shape[:2]
        parts = np.zeros((h, w), np.uint8)
        u = np.zeros((h, w), np.float32)
        v = np.zeros((h, w), np.float32)
        seg = skeleton_segments(person)
        if "torso" not in seg:
            return parts, u, v
        front = self.update_facing(person)
        torso_len = float(np.linalg.norm(seg["torso"][1] - seg["torso"][0]))
        if mask is not None:
            fg = mask > 0
            dist_map = cv2.distanceTransform(fg.astype(np.uint8), cv2.DIST_L2, 3)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)

        # The body's left as an image direction: +90 deg from the torso's up axis when facing
        # the camera (the person's left is on the image right), -90 deg from behind.
        up = seg["torso"][1] - seg["torso"][0]
        body_left = np.array([-up[1], up[0]]) * (1 if front else -1)

        candidates = []            # (score map, part, U map, V map)
        for bone in BONES:
            if bone.name not in seg:
                continue
            a, b = seg[bone.name]
            radius = RADIUS[bone.kind] * torso_len
            if mask is not None:
                radius = _radius_from_mask(dist_map, a, b, radius)
            t, perp, dist = _segment_coords(xs, ys, a, b)
            candidates.append((dist / radius, bone.front if front else bone.back,
                               t, self._around(perp, radius, b - a, body_left)))

        # Torso: interior of the shoulder-hip polygon plus an edge band; U along the spine.
        a, b = seg["torso"]
        edge = RADIUS["torso_edge"] * torso_len
        half_width = self._torso_half_width(seg, torso_len)
        t, perp, dist = _segment_coords(xs, ys, a, b)
        if "torso_polygon" in seg:
            out = _polygon_distance(seg["torso_polygon"], (h, w))
        else:
            out = np.maximum(dist - half_width, 0)
        candidates.append((TORSO_BIAS + out / edge,
                           PART["torso_front"] if front else PART["torso_back"],
                           t, self._around(perp, half_width + edge, b - a, body_left)))

        # Head: split into its right and left halves at the nose's line.
        if "head" in seg:
            a, b = seg["head"]
            radius = HEAD_RADIUS * float(np.linalg.norm(b - a))
            if mask is not None:
                radius = _radius_from_mask(dist_map, a, b, radius)
            t, perp, dist = _segment_coords(xs, ys, a, b)
            v_head = self._around(perp, radius, b - a, body_left)
            score = dist / radius
            # Seen from the front the person's right half is on the body_left's opposite side.
            right_side = (v_head < 0.5)
            candidates.append((np.where(right_side, score, np.inf), PART["head_right"], t,
                               v_head))
            candidates.append((np.where(right_side, np.inf, score), PART["head_left"], t,
                               v_head))

        scores = np.stack([c[0] for c in candidates])
        best = scores.argmin(axis=0)
        best_score = np.take_along_axis(scores, best[None], 0)[0]
        fg = (mask > 0) if mask is not None else best_score <= 1.0
        for k, (_, part, t_map, v_map) in enumerate(candidates):
            sel = fg & (best == k)
            parts[sel] = part
            u[sel] = np.clip(t_map[sel], 0, 1)
            v[sel] = np.clip(v_map[sel], 0, 1)
        # U of the head and torso runs bottom to top already (segments point upwards).
        return parts, u, v

    @staticmethod
    def _torso_half_width(seg, torso_len):
        if "torso_polygon" in seg:
            q = seg["torso_polygon"]
            return 0.5 * max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
        return 0.3 * torso_len

    @staticmethod
    def _around(perp, radius, direction, body_left):
        """V across the visible half: 0.5 on the axis, rising towards the body's left.

        `perp` is measured along `direction` rotated by +90 deg; it is flipped when that
        rotation points to the body's right, so V follows the body, not the image.
        """
        rotated = np.array([-direction[1], direction[0]])
        sign = 1.0 if rotated @ body_left >= 0 else -1.0
        return (0.5 + 0.5 * sign * perp / radius).astype(np.float32)


def skeleton_iuv(person: np.ndarray, shape, mask: np.ndarray | None = None):
    """IUV of one frame without temporal context (facing decided from this frame alone)."""
    converter = SkeletonIUV()
    converter.front = facing_score(person) >= 0
    return converter(person, shape, mask)
