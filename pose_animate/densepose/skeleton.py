"""The default IUV backend: DensePose-style body-part coordinates from keypoints and a mask.

No weights, CPU only. Each body part is a shape around its bone: a capsule for limbs, hands
and feet, the shoulder-hip quadrilateral (extended down over the pelvis) for the torso, an
ellipse plus a neck for the head. Each foreground pixel goes to the front-most shape holding
it (arms and hands over head, head over torso, torso over legs and feet, as a body usually
overlaps itself), ties and pixels outside every shape to the smallest distance normalised by
the shape's size. Widths come from the person mask where there is one (its distance
transform along the bone), otherwise from body proportions, and then the foreground is the
union of the shapes. Hips out of view (a speaker seen from the waist up) are placed from the
shoulders by the body's proportions, so the torso reaches down out of the frame as it does.

Charts (U, V in 0..1), the convention of DensePose-style bone charts that the demo figure
(pose_animate.synth) is painted with:
- limbs, hands, feet: U along the bone from the joint nearer the torso, including the
  rounded ends (U = (s + r) / (L + 2 r)); V across it, 0.5 on the axis, 0 / 1 at the two
  edges, increasing along the bone direction turned by +90 degrees in the image (mirrored for
  back parts, so a physical side keeps its V);
- torso: U from below the hip joints (the pelvis, TORSO_U[0] torso lengths) to the shoulder
  tops (TORSO_U[1]), V across as for limbs;
- head: two halves split at the face's midline (the nose's line), U from the Neck keypoint
  to the crown, V from 0 on the midline to 1 at the head's side.
Front or back parts are chosen from the body's facing (shoulder and hip order, face
visibility) with hysteresis across frames, so labels do not flicker in side views; U and V
are continuous functions of the keypoints, so they move smoothly with them.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..core.body import BODY, HAND_LEFT, HAND_RIGHT, J, PART

MIN_CONF = 0.05

# Limb half-widths as fractions of the torso length (MidHip to Neck), used without a mask
# and to bound the widths measured on a mask.
RADIUS = {"upper_arm": 0.1, "lower_arm": 0.08, "hand": 0.09, "upper_leg": 0.15,
          "lower_leg": 0.11, "foot": 0.085}
TORSO_U = (-0.14, 1.04)       # torso chart: crotch to shoulder tops, in torso lengths
TORSO_EDGE = 0.12             # torso flesh beyond the shoulder-hip quadrilateral, ditto
# Head, in head heights (chin to crown), measured from the Neck keypoint along the head's
# axis: the nose is NOSE_UP above the Neck keypoint, the head's centre HEAD_CENTRE and the
# crown HEAD_TOP; half sizes HEAD_SEMI (along, across); the neck is a capsule of NECK_RADIUS.
NOSE_UP, HEAD_CENTRE, HEAD_TOP = 0.72, 0.91, 1.44
# Hips out of view (a speaker seen from the waist up): placed from the shoulders, below the
# neck, by the body's proportions in shoulder widths (medians on the real dancer's 288 and
# the dribbler's 40 fully seen frames: neck to mid-hip 1.56 and 1.72, hip width 0.56, 0.63).
HIDDEN_TORSO, HIDDEN_HIP_WIDTH = 1.6, 0.6
HEAD_SEMI = (0.55, 0.42)
HEAD_CHART_HALF = 0.46        # V = 1 this far from the midline
NECK_RADIUS = 0.24
# Drawing layers: a pixel inside several shapes goes to the highest layer. Along a limb the
# far part lies over the near one, so the rounded end of a forearm covers the elbow.
LAYER = {"upper_arm": 3, "lower_arm": 3.1, "hand": 3.2, "head": 2, "torso": 1,
         "upper_leg": 0, "lower_leg": 0.1, "foot": 0.2}
FACING_HYSTERESIS = 0.15


@dataclass(frozen=True)
class Bone:
    name: str
    kind: str             # key of RADIUS and LAYER
    front: int            # DensePose part seen from the front
    back: int             # ... and from the back (same as front for hands and feet)


def _side_bones(limb: str, kind: str) -> list[Bone]:
    """The right and left bone of one limb; hands and feet look the same from both sides."""
    bones = []
    for side in ("right", "left"):
        name = f"{side}_{limb}"
        front, back = (name, name) if name in PART else (f"{name}_front", f"{name}_back")
        bones.append(Bone(name, kind, PART[front], PART[back]))
    return bones


BONES = [bone for limb, kind in (("upper_arm", "upper_arm"), ("lower_arm", "lower_arm"),
                                 ("hand", "hand"), ("upper_leg", "upper_leg"),
                                 ("lower_leg", "lower_leg"), ("foot", "foot"))
         for bone in _side_bones(limb, kind)]


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

    Keys: the BONES' names, 'torso' (mid-hip, neck), 'head' (neck, nose or where the nose
    would be), plus 'torso_polygon' (R shoulder, L shoulder, L hip, R hip) when all four
    exist.
    """
    body = person[BODY]
    p = {name: _point(body, name) for name in
         ("Neck", "MidHip", "RShoulder", "LShoulder", "RElbow", "LElbow", "RWrist", "LWrist",
          "RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle")}
    neck = p["Neck"] if p["Neck"] is not None else _mean([p["RShoulder"], p["LShoulder"]])
    midhip = p["MidHip"] if p["MidHip"] is not None else _mean([p["RHip"], p["LHip"]])
    nose = _face_point(body)
    if midhip is None and neck is not None:
        hidden = _hidden_hips(neck, p["RShoulder"], p["LShoulder"], nose)
        if hidden is not None:
            midhip, p["RHip"], p["LHip"] = hidden
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
    if nose is not None and neck is not None and np.linalg.norm(nose - neck) > 1:
        seg["head"] = (neck, nose)
    elif "torso" in seg:                     # no face points: the head above the torso
        seg["head"] = (neck, neck + 0.31 * (neck - midhip))
    return seg


def _hidden_hips(neck, right_shoulder, left_shoulder, face):
    """(mid-hip, right hip, left hip) where the body's proportions put them when none of the
    hips is seen: HIDDEN_TORSO shoulder widths from the neck, across the shoulder line, away
    from the face (down the image without one). None without both shoulders."""
    if right_shoulder is None or left_shoulder is None:
        return None
    across = left_shoulder - right_shoulder
    width = float(np.linalg.norm(across))
    if width < 1:
        return None
    down = np.array([-across[1], across[0]]) / width
    away = (neck - face) if face is not None else np.array([0.0, 1.0])
    if down @ away < 0:
        down = -down
    midhip = neck + HIDDEN_TORSO * width * down
    half = 0.5 * HIDDEN_HIP_WIDTH * across
    return midhip, midhip - half, midhip + half


def _face_point(body):
    """The nose, or where it would be from the eyes or ears (their midpoints sit higher on
    the face: 0.52 and 0.48 head heights above the chin against the nose's 0.36)."""
    nose = _point(body, "Nose")
    if nose is not None:
        return nose
    neck = _point(body, "Neck")
    if neck is None:
        return None
    for pair, scale in ((("REye", "LEye"), 0.82), (("REar", "LEar"), 0.86)):
        mid = _mean([_point(body, n) for n in pair])
        if mid is not None:
            return neck + scale * (mid - neck)
    return None


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



def _mask_half_width(dist_map, points, default):
    """Half-width of the body at `points` read from the mask's distance transform (median),
    bounded to [0.6, 1.6] x the proportional width (a limb over the torso reads too wide)."""
    h, w = dist_map.shape
    xi = np.clip(np.rint(points[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.rint(points[:, 1]).astype(int), 0, h - 1)
    values = dist_map[yi, xi]
    values = values[values > 0]
    if len(values) == 0:
        return default
    return float(np.clip(np.median(values), 0.6 * default, 1.6 * default))


def _along(a, b, ts):
    return a[None] + np.asarray(ts)[:, None] * (b - a)[None]


def _polygon_distance(poly, shape):
    """Distance (pixels) from each pixel to a polygon's convex hull, 0 inside it."""
    inside = np.zeros(shape, np.uint8)
    hull = cv2.convexHull(np.rint(poly).astype(np.int32))
    cv2.fillConvexPoly(inside, hull, 1)
    return cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)


class SkeletonIUV:
    """Stateful per-sequence converter: call it frame by frame (it carries the facing)."""

    def __init__(self):
        self.front = True          # facing state carried across frames (hysteresis)

    def update_facing(self, person) -> bool:
        score = facing_score(person)
        if abs(score) > 0.6:       # a clear view decides at once
            self.front = score > 0
        elif self.front and score < -FACING_HYSTERESIS:
            self.front = False
        elif not self.front and score > FACING_HYSTERESIS:
            self.front = True
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
        side = 1.0 if front else -1.0          # V orientation: mirrored for back parts
        torso_len = float(np.linalg.norm(seg["torso"][1] - seg["torso"][0]))
        dist_map = None
        if mask is not None:
            dist_map = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 3)
        window = self._window(seg, torso_len, mask, (h, w))
        if window is None:
            return parts, u, v
        y0, y1, x0, x1 = window
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        shapes = []                # (layer, normalised distance, part, U, V)

        for bone in BONES:
            if bone.name not in seg:
                continue
            a, b = seg[bone.name]
            radius = RADIUS[bone.kind] * torso_len
            if dist_map is not None:
                radius = _mask_half_width(dist_map, _along(a, b, np.linspace(0.3, 0.7, 9)),
                                          radius)
            t, perp, dist = _segment_coords(xs, ys, a, b)
            length = float(np.linalg.norm(b - a))
            shapes.append((LAYER[bone.kind], dist / radius, bone.front if front else bone.back,
                           (t * length + radius) / (length + 2 * radius),
                           0.5 + 0.5 * side * perp / radius))

        shapes.append(self._torso(seg, torso_len, xs, ys, side, front, (x0, y0)))
        shapes += self._head(seg, dist_map, xs, ys, front)

        # Inside a shape (distance <= 1): the highest layer wins, then the nearest; outside
        # all of them (mask pixels only): the nearest.
        order = np.stack([np.where(d <= 1, -10.0 * layer + d, 100.0 + d)
                          for layer, d, _, _, _ in shapes])
        best = order.argmin(axis=0)
        best_order = np.take_along_axis(order, best[None], 0)[0]
        fg = (mask[y0:y1, x0:x1] > 0) if mask is not None else best_order < 100
        crop = (slice(y0, y1), slice(x0, x1))
        for k, (_, _, part, u_map, v_map) in enumerate(shapes):
            sel = fg & (best == k)
            parts[crop][sel] = part if np.isscalar(part) else part[sel]
            u[crop][sel] = np.clip(u_map[sel], 0, 1)
            v[crop][sel] = np.clip(v_map[sel], 0, 1)
        return parts, u, v

    @staticmethod
    def _window(seg, torso_len, mask, shape):
        """(y0, y1, x0, x1) of the pixels that can be labelled: the mask's box, or the
        skeleton's box grown by a torso length (wider than any part); None when empty."""
        h, w = shape
        if mask is not None:
            ys, xs = np.nonzero(mask)
            if len(ys) == 0:
                return None
            return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        pts = np.vstack([np.atleast_2d(p) for key, value in seg.items()
                         for p in (value if key != "torso_polygon" else [value])])
        pts = pts.reshape(-1, 2)
        lo = np.floor(pts.min(axis=0) - torso_len).astype(int)
        hi = np.ceil(pts.max(axis=0) + torso_len).astype(int) + 1
        x0, y0 = max(lo[0], 0), max(lo[1], 0)
        x1, y1 = min(hi[0], w), min(hi[1], h)
        if x1 <= x0 or y1 <= y0:
            return None
        return y0, y1, x0, x1

    @staticmethod
    def _torso(seg, torso_len, xs, ys, side, front, origin):
        """The shoulder-hip quadrilateral extended over the pelvis, plus a band of flesh."""
        midhip, neck = seg["torso"]
        t, perp, dist = _segment_coords(xs, ys, midhip, neck)
        edge = TORSO_EDGE * torso_len
        if "torso_polygon" in seg:
            q = seg["torso_polygon"]
            pelvis = TORSO_U[0] * (neck - midhip)       # TORSO_U[0] < 0: downwards
            poly = np.array([q[0], q[1], q[2] + pelvis, q[3] + pelvis])
            out = _polygon_distance(poly - np.asarray(origin), xs.shape)
            half = 0.5 * max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])) + edge
        else:
            half = 0.3 * torso_len + edge
            out = np.maximum(dist - half + edge, 0)
        return (LAYER["torso"], out / edge, PART["torso_front"] if front else PART["torso_back"],
                (t - TORSO_U[0]) / (TORSO_U[1] - TORSO_U[0]), 0.5 + 0.5 * side * perp / half)

    @staticmethod
    def _head(seg, dist_map, xs, ys, front):
        """Head ellipse and neck capsule, split into the right and left halves at the face's
        midline, the line from the Neck keypoint through the nose."""
        if "head" not in seg:
            return []
        neck, nose = seg["head"]
        head = float(np.linalg.norm(nose - neck)) / NOSE_UP        # chin to crown, pixels
        axis = (nose - neck) / (NOSE_UP * head)
        t, perp, _ = _segment_coords(xs, ys, neck, neck + axis * head)
        along = t * head                                            # pixels above the neck
        semi_along, semi_across = HEAD_SEMI[0] * head, HEAD_SEMI[1] * head
        if dist_map is not None:
            centre = neck + axis * HEAD_CENTRE * head
            semi_across = _mask_half_width(dist_map, centre[None], semi_across)
        inside = np.hypot((along - HEAD_CENTRE * head) / semi_along, perp / semi_across)
        neck_top = neck + axis * (HEAD_CENTRE - HEAD_SEMI[0] + 0.1) * head
        _, _, neck_dist = _segment_coords(xs, ys, neck, neck_top)
        score = np.minimum(inside, neck_dist / (NECK_RADIUS * head))
        # Signed distance from the midline (the neck-nose line), positive on the person's
        # left: the image's +90-degree side of the axis when they face the camera.
        across = perp * (1.0 if front else -1.0)
        u_map = along / (HEAD_TOP * head)
        v_map = np.abs(across) / (HEAD_CHART_HALF * head)
        part = np.where(across > 0, PART["head_left"], PART["head_right"]).astype(np.uint8)
        return [(LAYER["head"], score, part, u_map, v_map)]


def skeleton_iuv(person: np.ndarray, shape, mask: np.ndarray | None = None):
    """IUV of one frame without temporal context (facing decided from this frame alone)."""
    converter = SkeletonIUV()
    converter.front = facing_score(person) >= 0
    return converter(person, shape, mask)
