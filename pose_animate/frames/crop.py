"""The frames' geometry: the crop square, how ffmpeg makes frames of it, and the maps between
source pixels and frame pixels (and source frames and frames) that keypoint imports use.

"Source pixels" are pixels of the upright source frame (see `probe`); frame pixels are those
of the extracted frames. Pixel centres are at integers on both sides, as in OpenPose JSON.

Crops (the frames stage's `crop`):
- person: ONE square for the whole video (never one that jitters per frame) around the union
  of the person boxes (`person.find_person`), padded on each side by `person_padding` x the
  union's long side, centred on the person and shifted to stay inside the frame. It is never
  shrunk to fit: where it is larger than the frame (a full-body dancer in a portrait video)
  the part outside the frame is black (`padded`), so the whole person stays in view.
- center: the largest centred square. none: the whole frame.
`size` is the square side (the long side with crop none); None keeps the native size.
"""

import math
from fractions import Fraction

import numpy as np


def person_square(box, width: int, height: int, padding: float) -> list[int]:
    """[x, y, side, side]: the square around `box` (x0, y0, x1, y1) padded by `padding` x its
    long side, in source pixels.

    Padding never reaches past the frame (it would only add black); the square is centred on
    the padded box and shifted to stay inside the frame where it fits, else it covers the whole
    frame along that axis with black beyond it (never shrunk: the whole person stays in view).
    """
    x0, y0, x1, y1 = box
    pad = padding * max(x1 - x0, y1 - y0)
    x0, x1 = max(x0 - pad, 0), min(x1 + pad, width)
    y0, y1 = max(y0 - pad, 0), min(y1 + pad, height)
    side = max(1, math.ceil(max(x1 - x0, y1 - y0)))
    x = _place(round((x0 + x1 - side) / 2), side, width)
    y = _place(round((y0 + y1 - side) / 2), side, height)
    return [x, y, side, side]


def fills_frame(box, width: int, height: int, padding: float) -> bool:
    """Whether `box`, padded as person_square pads it, reaches every edge of the frame: then
    any box holding it makes the same square (the whole frame, centred), so the person pass
    may stop sampling."""
    x0, y0, x1, y1 = box
    pad = padding * max(x1 - x0, y1 - y0)
    return x0 - pad <= 0 and y0 - pad <= 0 and x1 + pad >= width and y1 + pad >= height


def _place(start: int, side: int, limit: int) -> int:
    if side <= limit:
        return min(max(start, 0), limit - side)
    return min(max(start, limit - side), 0)


def center_square(width: int, height: int) -> list[int]:
    side = min(width, height)
    return [(width - side) // 2, (height - side) // 2, side, side]


def output_size(box_w: int, box_h: int, size: int | None) -> tuple[int, int]:
    """(width, height) of the frames: `size` on the long side of the crop box."""
    if size is None:
        return box_w, box_h
    scale = size / max(box_w, box_h)
    return max(1, round(box_w * scale)), max(1, round(box_h * scale))


def crop_plan(box, width: int, height: int, size: int | None) -> dict:
    """How ffmpeg makes frames of `box` ([x, y, w, h] in source pixels, possibly reaching
    past the frame): crop the part inside the frame, scale it, pad it with black to the
    output size (padding the small output is far cheaper than padding the source).

    Returns the ffmpeg steps (`inside` [x, y, w, h] in source pixels, `content` [x, y, w, h]
    in frame pixels, `size` [w, h]) and the exact map they make: `scale` [sx, sy] and
    `crop_box`, the source region the frames show (fractional where padding and whole-pixel
    sizes disagree by a fraction of a pixel).
    """
    x, y, w, h = box
    out_w, out_h = output_size(w, h, size)
    ix0, iy0 = max(x, 0), max(y, 0)
    ix1, iy1 = min(x + w, width), min(y + h, height)
    inside = [ix0, iy0, ix1 - ix0, iy1 - iy0]
    content_w = min(out_w, max(1, round(inside[2] * out_w / w)))
    content_h = min(out_h, max(1, round(inside[3] * out_h / h)))
    left = min(out_w - content_w, round((ix0 - x) * out_w / w))
    top = min(out_h - content_h, round((iy0 - y) * out_h / h))
    sx, sy = content_w / inside[2], content_h / inside[3]
    return {"inside": inside, "content": [left, top, content_w, content_h],
            "size": [out_w, out_h], "scale": [sx, sy],
            "crop_box": [ix0 - left / sx, iy0 - top / sy, out_w / sx, out_h / sy],
            "padded": inside != [x, y, w, h]}


def source_to_frame(points, record: dict) -> np.ndarray:
    """Map source-video pixel coordinates to extracted-frame pixels (through crop and resize).

    `points` is (..., 2) [x, y] or (..., 3) [x, y, confidence]; with a confidence, missing
    points (confidence 0, stored as 0, 0, 0) stay (0, 0, 0). Points outside the crop keep
    their (outside) coordinates. Pixel centres are at integers on both sides, so the map is
    x_frame = (x_source - crop_x + 0.5) * scale_x - 0.5.
    """
    points = np.array(points, np.float32, copy=True)
    x, y = record["crop_box"][:2]
    sx, sy = record["scale"]
    out = points.copy()
    out[..., 0] = (points[..., 0] - x + 0.5) * sx - 0.5
    out[..., 1] = (points[..., 1] - y + 0.5) * sy - 0.5
    if points.shape[-1] == 3:
        out[points[..., 2] <= 0] = 0
    return out


def frame_source_indices(record: dict) -> np.ndarray:
    """For each extracted frame, the index of the source frame it shows.

    Without fps resampling frame i is source frame i. With it, ffmpeg's fps filter rounds each
    source frame j to the nearest output tick, round(j * fps_out / fps_in) (halves up), and
    tick i shows the LAST source frame rounded to it or before it (ticks that no frame reaches
    repeat the previous one): j = ceil((i + 1/2) * fps_in / fps_out) - 1. Measured exact in
    tests/test_frames.py for 25 -> 10, 12, 24 and 30 fps.
    """
    n = record["frames"]
    if not record["resampled"]:
        return np.arange(n)
    ratio = _fraction(record["probe"]["fps"]) / _fraction(record["fps"])
    ticks = [math.ceil((Fraction(2 * i + 1, 2)) * ratio) - 1 for i in range(n)]
    return np.clip(np.array(ticks, int), 0, record["probe"]["frames"] - 1)


def _fraction(rate: float) -> Fraction:
    return Fraction(rate).limit_denominator(1001000)
