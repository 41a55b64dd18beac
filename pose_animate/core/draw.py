"""Drawing skeletons (OpenPose style) and contact sheets, for QA pictures and pose label maps.

- `draw_skeleton(img, person)` draws one (137, 3) person onto a BGR image in place: BODY_25
  bones in OpenPose's colours, face points, and hand bones coloured per finger.
- `contact_sheet(images, cols, labels)` tiles images into one picture with a label on each.
- `evenly_spaced(n_total, n)` picks the frames a sheet shows.
- `draw_dwpose(shape, person)` makes the pose image animation trainers read (OpenPose /
  DWPose colours on black), for the exports' pose videos.
"""

import colorsys

import cv2
import numpy as np

from .body import (BODY, BODY_25_COLORS, BODY_25_LIMBS, FACE, FACE_LIMBS, HAND_LEFT, HAND_LIMBS,
                   HAND_RIGHT, J)
from .skeletons import to_openpose18

# body.py holds OpenPose's colours as RGB; images here are BGR, as cv2 reads them.
_BODY_BGR = [tuple(reversed(c)) for c in BODY_25_COLORS]
# OpenPose colours hand bones by finger: a hue per bone, going round the hand.
_HAND_BGR = [tuple(int(255 * v) for v in reversed(colorsys.hsv_to_rgb(k / len(HAND_LIMBS), 1, 1)))
             for k in range(len(HAND_LIMBS))]
_FACE_BGR = (255, 255, 255)


def line_width(shape) -> int:
    """A bone thickness that reads at this image size (4 px at 512)."""
    return max(1, round(min(shape[:2]) / 128))


def _pt(p) -> tuple[int, int]:
    # cv2 takes int32 coordinates and clips lines itself; keep far-off points in range.
    return tuple(int(round(min(max(float(v), -1e6), 1e6))) for v in p[:2])


def _bones(img, points, limbs, colors, min_conf, thickness) -> None:
    for (a, b), color in zip(limbs, colors):
        if points[a, 2] > min_conf and points[b, 2] > min_conf:
            cv2.line(img, _pt(points[a]), _pt(points[b]), color, thickness, cv2.LINE_AA)


def draw_skeleton(img: np.ndarray, person: np.ndarray, min_conf: float = 0.05,
                  thickness: int | None = None, face: bool = True, hands: bool = True,
                  joints: bool = True) -> np.ndarray:
    """Draw one person's skeleton onto `img` (BGR uint8, changed in place) and return it.

    Points at or below `min_conf` are not drawn. `thickness` defaults to `line_width(img)`;
    on a black canvas this makes the pose label maps a renderer is trained on.
    """
    person = np.asarray(person, np.float32)
    thickness = thickness or line_width(img.shape)
    body = person[BODY]
    _bones(img, body, BODY_25_LIMBS, [_BODY_BGR[b] for _, b in BODY_25_LIMBS], min_conf,
           thickness)
    if joints:
        for j, p in enumerate(body):
            if p[2] > min_conf:
                cv2.circle(img, _pt(p), thickness + 1, _BODY_BGR[j], -1, cv2.LINE_AA)
    small = max(1, thickness // 2)
    if face:
        pts = person[FACE]
        _bones(img, pts, FACE_LIMBS, [_FACE_BGR] * len(FACE_LIMBS), min_conf, max(1, small // 2))
        for p in pts[68:]:
            if p[2] > min_conf:
                cv2.circle(img, _pt(p), small, _FACE_BGR, -1, cv2.LINE_AA)
    if hands:
        for where in (HAND_LEFT, HAND_RIGHT):
            _bones(img, person[where], HAND_LIMBS, _HAND_BGR, min_conf, small)
    return img


def evenly_spaced(n_total: int, n: int) -> list[int]:
    """`n` frame indices spread over `n_total` frames, first and last included."""
    if n_total <= 0:
        return []
    return sorted(set(np.linspace(0, n_total - 1, min(n, n_total)).round().astype(int).tolist()))


def contact_sheet(images, cols: int, labels=None, tile_width: int | None = None,
                  gap: int = 4) -> np.ndarray:
    """Tile BGR images (resized to the first one's aspect, `tile_width` wide) in `cols` columns,
    each with its label written in the top-left corner."""
    images = list(images)
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    labels = list(labels) if labels is not None else [None] * len(images)
    h0, w0 = images[0].shape[:2]
    tile_w = tile_width or w0
    tile_h = max(1, round(h0 * tile_w / w0))
    cols = max(1, min(cols, len(images)))
    rows = -(-len(images) // cols)
    sheet = np.full((rows * tile_h + (rows + 1) * gap, cols * tile_w + (cols + 1) * gap, 3), 32,
                    np.uint8)
    scale = max(0.35, min(tile_w, tile_h) / 400)  # wide strips (render stills) too
    for k, (image, label) in enumerate(zip(images, labels)):
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        tile = cv2.resize(image, (tile_w, tile_h), interpolation=cv2.INTER_AREA)
        if label is not None:
            text = str(label)
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            cv2.rectangle(tile, (0, 0), (tw + 6, th + base + 6), (0, 0, 0), -1)
            cv2.putText(tile, text, (3, th + 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (255, 255, 255), 1, cv2.LINE_AA)
        r, c = divmod(k, cols)
        y, x = gap + r * (tile_h + gap), gap + c * (tile_w + gap)
        sheet[y:y + tile_h, x:x + tile_w] = tile
    return sheet


# ---- pose images as animation trainers were trained on them (OpenPose / DWPose style) ----
# The 18-point body (to_openpose18's order), 1-based limb pairs and RGB colours of OpenPose's
# COCO model as DWPose and ControlNet draw them; only the first 17 limbs are drawn there.
_DW_LIMBS = [(2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12),
             (12, 13), (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18)]
_DW_RGB = [(255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
           (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
           (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85)]
# Wan2.2-Animate's two toe points (left, right) and their colours after the 18.
_WAN_TOE_LIMBS = [(14, 19), (11, 20)]
_WAN_TOE_RGB = [(200, 200, 0), (100, 100, 0)]
# Hand bones: a hue per bone (float colours, not rounded, as matplotlib's hsv_to_rgb gives).
_DW_HAND_RGB = [tuple(255 * v for v in colorsys.hsv_to_rgb(k / len(HAND_LIMBS), 1, 1))
                for k in range(len(HAND_LIMBS))]


def _bgr(rgb, gain: float = 1.0) -> tuple:
    return tuple(gain * c for c in reversed(rgb))


def _limb(canvas, a, b, width: int, color) -> None:
    """One limb as DWPose fills it: an ellipse along the bone, `width` its half-thickness."""
    (xa, ya), (xb, yb) = a[:2], b[:2]
    length = float(np.hypot(xa - xb, ya - yb))
    angle = int(np.degrees(np.arctan2(ya - yb, xa - xb)))
    poly = cv2.ellipse2Poly((int((xa + xb) / 2), int((ya + yb) / 2)), (int(length / 2), width),
                            angle, 0, 360, 1)
    cv2.fillConvexPoly(canvas, poly, color)


def draw_dwpose(shape, person: np.ndarray, *, min_conf: float = 0.3, stick: int = 4,
                face: bool = True, hands: bool = True, toes: bool = False,
                hand_point: int | None = None, dim: bool = False,
                smart_width: bool = False) -> np.ndarray:
    """One person's pose image in the OpenPose / DWPose convention, as the trainers that read
    pose videos were trained on it: a BGR image of `shape` (H, W) whose colours are those
    conventions' RGB colours. Body: 17 limbs filled as ellipses `stick` px thick at 0.6 of
    their colour, joints (radius `stick`) at full colour; hands: bones in a hue per bone,
    points blue; face: white points. `toes` adds Wan2.2-Animate's two toe limbs (its 20-point
    body, which draws no face); `hand_point` is the hand points' radius (default `stick`);
    `dim` scales each colour by the points' confidence, as StableAnimator's skeletons do;
    `smart_width` sizes each limb and hand bone by its length, as MusePose draws them."""
    canvas = np.zeros((*shape[:2], 3), np.uint8)
    person = np.asarray(person, np.float32)
    body = to_openpose18(person)
    limbs, colors = list(_DW_LIMBS), list(_DW_RGB[:17])
    if toes:
        feet = person[[J["LBigToe"], J["LSmallToe"], J["RBigToe"], J["RSmallToe"]]]
        toe = [_mean_point(feet[0], feet[1]), _mean_point(feet[2], feet[3])]
        body = np.concatenate([body, np.stack(toe)])
        limbs += _WAN_TOE_LIMBS
        colors += _WAN_TOE_RGB
    seen = body[:, 2] > min_conf
    conf = np.clip(person[:, 2], 0, 1) if dim else np.ones(len(person), np.float32)
    body_conf = np.clip(body[:, 2], 0, 1) if dim else np.ones(len(body), np.float32)
    for (a, b), color in zip(limbs, colors):
        if seen[a - 1] and seen[b - 1]:
            width = _smart(body[a - 1], body[b - 1]) if smart_width else stick
            _limb(canvas, body[a - 1], body[b - 1], width,
                  _bgr(color, 0.6 * body_conf[a - 1] * body_conf[b - 1]))
    joint_colors = _DW_RGB + (_WAN_TOE_RGB if toes else [])
    for p, ok, c, color in zip(body, seen, body_conf, joint_colors):
        if ok:
            cv2.circle(canvas, _pt(p), stick, _bgr(color, c), -1)
    small = max(1, stick // 2)
    if hands:
        for where in (HAND_LEFT, HAND_RIGHT):
            pts, c = person[where], conf[where]
            ok = pts[:, 2] > min_conf
            for (a, b), color in zip(HAND_LIMBS, _DW_HAND_RGB):
                if ok[a] and ok[b]:
                    width = _smart(pts[a], pts[b]) if smart_width else small
                    cv2.line(canvas, _pt(pts[a]), _pt(pts[b]), _bgr(color, c[a] * c[b]), width)
            for p, pc in zip(pts[ok], c[ok]):
                cv2.circle(canvas, _pt(p), hand_point or stick, _bgr((0, 0, 255), pc), -1)
    if face:
        for p, pc in zip(person[FACE][:68], conf[FACE][:68]):
            if p[2] > min_conf:
                cv2.circle(canvas, _pt(p), max(1, stick - 1), _bgr((255, 255, 255), pc), -1)
    return canvas


def _smart(a: np.ndarray, b: np.ndarray) -> int:
    """MusePose's smart_width: 1 px under 5 px of length, one more per doubling, 8 at most."""
    length = float(np.hypot(*(a[:2] - b[:2])))
    return next((w for w, limit in enumerate((5, 10, 20, 40, 80, 160, 320), 1) if length < limit), 8)


def _mean_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two points' mean as Wan averages its toes (x, y and confidence alike); missing when
    either is."""
    if a[2] <= 0 or b[2] <= 0:
        return np.zeros(3, np.float32)
    return (a + b) / 2
