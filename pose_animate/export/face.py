"""The face box of the trainers that crop or mask the face (Wan2.2-Animate's `get_face_bboxes`):
the box of the 68 face landmarks grown to 1.3 x its area, aspect kept, the extra height put
3 : 1 above the face, clamped to the image."""

import math

import numpy as np

from ..core.body import FACE
from ..core.errors import PoseAnimateError

SCALE = 1.3


def face_box(person: np.ndarray, h: int, w: int, scale: float = SCALE):
    """(x1, y1, x2, y2) ints, or None when no face point is seen."""
    pts = np.asarray(person)[FACE][:68]
    pts = pts[pts[:, 2] > 0]
    if len(pts) < 2:
        return None
    x0, y0 = pts[:, :2].min(axis=0)
    x1, y1 = pts[:, :2].max(axis=0)
    grow = math.sqrt(scale)
    dw, dh = (x1 - x0) * (grow - 1) / 2, (y1 - y0) * (grow - 1) / 4
    box = (int(max(x0 - dw, 0)), int(max(y0 - 3 * dh, 0)), int(min(x1 + dw, w)),
           int(min(y1 + dh, h)))
    return box if box[2] > box[0] and box[3] > box[1] else None


def face_boxes(subject, seq: np.ndarray, fit) -> list:
    """The face box of every frame in the export's pixels (`fit`); a frame without a face keeps
    the last box seen (the first seen, before it). Stops when the subject shows no face."""
    boxes = [face_box(fit.points(p), fit.height, fit.width) for p in seq]
    first = next((b for b in boxes if b is not None), None)
    if first is None:
        raise PoseAnimateError(
            "no frame shows face points, which this layout crops or masks.",
            subject=subject.name, path=subject.part("openpose_json"),
            fix="set keypoints.face_hands: true (the holistic path) and rerun.")
    last, out = first, []
    for box in boxes:
        last = box or last
        out.append(last)
    return out
