"""Wan2.2-Animate's preprocessed driving folder (Wan-Video/Wan2.2,
`wan/modules/animate/preprocess/`, read by `wan/animate.py`), one subject per export:

    src_pose.mp4   the pose on black: its 20-point body (OpenPose-18 and two toes), hands, no
                   face points; limbs at 0.6 of their colour, drawn at confidence >= min_conf
    src_face.mp4   512 x 512 face crops: the 68 landmarks' box grown to 1.3 x its area, the extra
                   height 3 : 1 above, stretched to 512 x 512 as it does
    src_bg.mp4     the frame with the person's region black (replacement mode)
    src_mask.mp4   255 in the person's region: the box of the mask dilated 7 x 7 three times
    src_ref.png    the reference frame (`reference_frame`), to swap for a character image

Its preprocessing resamples to `fps` (30; the nearest source frame for each output frame) and
sizes frames to the area of `resolution_area` with sides floored to multiples of 16, the
content letterboxed in black; all five files share that size (as its replacement mode has them)
and one frame count, which its generator never checks. A frame without face points reuses the
last face box.
"""

import contextlib
import math

import cv2
import numpy as np

from ..core.draw import draw_dwpose
from ..core.formats import read_image
from ..core.videoio import VideoWriter
from .face import face_boxes
from .source import Fit

SCOPE = "subject"
PARTS = ("frames", "fps", "openpose_json", "mask")
FACE_SIZE = 512


def area_size(h: int, w: int, area: int) -> tuple[int, int]:
    """(height, width) of its resize_by_area: the aspect's box of `area` pixels, sides floored
    to multiples of 16."""
    new_h = math.sqrt(area / (w / h))
    return int(new_h) // 16 * 16, int(area / new_h) // 16 * 16


def resampled(n: int, fps: float, target: float | None) -> list[int]:
    """The source frame of each output frame at `target` fps (its get_frame_indices)."""
    if not target:
        return list(range(n))
    count = int(n / fps * target)
    return [min(max(round(i / target * fps), 0), n - 1) for i in range(count)]


def person_region(mask: np.ndarray) -> np.ndarray:
    """255 in the box of the mask dilated 7 x 7 three times (its get_mask_body_img with
    w_len = h_len = 1); all 0 when nobody is masked."""
    grown = cv2.dilate((mask > 127).astype(np.uint8), np.ones((7, 7), np.uint8), iterations=3)
    out = np.zeros_like(grown)
    ys, xs = np.nonzero(grown)
    if len(ys):
        out[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = 255
    return out


def write(job, out, settings, placer) -> dict:
    (subject,) = job.train
    h, w = subject.size
    height, width = area_size(h, w, settings["resolution_area"][0] * settings["resolution_area"][1])
    fit = Fit(h, w, height, width)
    fps = settings["fps"] or subject.fps
    order = resampled(len(subject), subject.fps, settings["fps"])
    seq = subject.keypoints()
    boxes = face_boxes(subject, seq, fit)
    masks = subject.listed("mask", ".png")
    stick = max(int(min(height, width) / 200) - 1, 1)  # its draw_aapose_new stickwidth
    with contextlib.ExitStack() as stack:
        writers = {name: stack.enter_context(VideoWriter(out / f"src_{name}.mp4", fps))
                   for name in ("pose", "face", "bg", "mask")}
        for t in order:
            frame = fit.image(subject.image(t))
            person = fit.points(seq[t])
            writers["pose"].write(draw_dwpose(
                (height, width), person, min_conf=settings["min_conf"], stick=stick,
                face=False, toes=True, hand_point=max(stick // 2, 1)))
            x1, y1, x2, y2 = boxes[t]
            writers["face"].write(cv2.resize(frame[y1:y2, x1:x2], (FACE_SIZE, FACE_SIZE)))
            mask = read_image(masks[t], cv2.IMREAD_GRAYSCALE)
            region = person_region(fit.image(subject.check_size(masks[t], mask)))
            writers["bg"].write(frame * (region == 0)[..., None].astype(np.uint8))
            writers["mask"].write(region)
    placer.counts["written"] += len(writers)
    ref = min(settings["reference_frame"], len(subject) - 1)
    placer.image(out / "src_ref.png", fit.image(subject.image(ref)))
    return {"frames": len(order), "fps": fps, "size": [width, height],
            "reference_frame": ref, "warnings": []}
