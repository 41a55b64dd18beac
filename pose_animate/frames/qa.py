"""The frames stage's QA picture: where the crop lies in the source, and what came out."""

import cv2
import numpy as np

from ..core.draw import contact_sheet, evenly_spaced
from ..core.formats import list_frames, read_image
from .probe import sample_frames


def crop_sheet(source, record: dict, frames_dir, n_frames: int = 4,
               height: int = 480) -> np.ndarray:
    """Left: a middle source frame on a grey margin with each sampled person box (yellow),
    their union (green) and the crop square (red; beyond the frame it is black in the output).
    Right: `n_frames` evenly spaced extracted frames. `record` is the frames stage's."""
    info = record["probe"]
    _, small = next(sample_frames(source, info, [info["frames"] // 2], long_side=height))
    x, y, side, _ = record["square"]
    x0, y0 = min(0, x), min(0, y)
    x1, y1 = max(info["width"], x + side), max(info["height"], y + side)
    scale = height / (y1 - y0)
    canvas = np.full((height, max(1, round((x1 - x0) * scale)), 3), 96, np.uint8)
    ox, oy = round(-x0 * scale), round(-y0 * scale)
    frame = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                       (round(info["width"] * scale), round(info["height"] * scale)),
                       interpolation=cv2.INTER_AREA)
    canvas[oy:oy + frame.shape[0], ox:ox + frame.shape[1]] = frame

    def box(b, color, thickness):
        p0 = (round(b[0] * scale) + ox, round(b[1] * scale) + oy)
        p1 = (round(b[2] * scale) + ox - 1, round(b[3] * scale) + oy - 1)
        cv2.rectangle(canvas, p0, p1, color, thickness, cv2.LINE_AA)

    person = record["person_pass"] or {"boxes": [], "box": None}
    for _, b in person["boxes"]:
        if b is not None:
            box(b, (0, 220, 255), 1)
    if person["box"] is not None:
        box(person["box"], (0, 200, 0), 2)
    box([x, y, x + side, y + side], (0, 0, 255), 2)
    label = f"crop {record['crop']}" + (f" -> {record['crop_fallback']} (nobody found)"
                                       if record["crop_fallback"] else "")
    if record["person_pass"]:
        label += f", person in {person['found']}/{person['sampled']} samples"
    cv2.putText(canvas, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    paths = list_frames(frames_dir)
    picks = evenly_spaced(len(paths), n_frames)
    sheet = contact_sheet([read_image(paths[t]) for t in picks], cols=2,
                          labels=[f"frame {t}" for t in picks])
    sheet = cv2.resize(sheet, (max(1, round(sheet.shape[1] * height / sheet.shape[0])), height),
                       interpolation=cv2.INTER_AREA)
    return np.hstack([canvas, np.full((height, 8, 3), 32, np.uint8), sheet])
