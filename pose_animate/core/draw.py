"""Drawing skeletons (OpenPose style) and contact sheets, for QA pictures and pose label maps.

- `draw_skeleton(img, person)` draws one (137, 3) person onto a BGR image in place: BODY_25
  bones in OpenPose's colours, face points, and hand bones coloured per finger.
- `contact_sheet(images, cols, labels)` tiles images into one picture with a label on each.
- `evenly_spaced(n_total, n)` picks the frames a sheet shows.
"""

import colorsys

import cv2
import numpy as np

from .body import (BODY, BODY_25_COLORS, BODY_25_LIMBS, FACE, FACE_LIMBS, HAND_LEFT, HAND_LIMBS,
                   HAND_RIGHT)

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
