"""The training samples of StableAnimator (Francis-Rings/StableAnimator, its
`animation/dataset/animation_dataset.py` and `DWPose/training_skeleton_extraction.py`), a
subject or a dataset's subjects, one numbered sample each:

    rec/00001/images/frame_0.png ...   the frames at width x height ("rec" for square samples,
                                       "vec" otherwise, as its two path lists split them)
    rec/00001/poses/frame_0.png ...    the skeleton, DWPose style with colours dimmed by
                                       confidence, drawn at short side 2160 and resized down
    rec/00001/faces/frame_0.png ...    1-channel, 255 in the face box (all 255 without a face)
    video_rec_path.txt                 one absolute sample folder per line

Its loader sorts frames by the number after `frame_`, resizes without keeping the aspect (the
frames are written at the training size here), and draws its reference frame from frames outside
the 16 it samples: a sample needs at least 17 frames. The face masks here are the landmark box
grown as Wan2.2-Animate grows it (its own script uses a face detector's box).
"""

import cv2
import numpy as np

from ..core.draw import draw_dwpose
from ..core.errors import PoseAnimateError
from .face import face_box
from .source import Fit

SCOPE = "any"
PARTS = ("frames", "openpose_json")
MIN_FRAMES = 17
DRAW_SHORT_SIDE = 2160  # its skeletons are drawn at this short side, then resized to the frame


def write(job, out, settings, placer) -> dict:
    width, height = settings["width"], settings["height"]
    kind = "rec" if width == height else "vec"
    folders = []
    for k, subject in enumerate(job.train + job.test, start=1):
        if len(subject) < MIN_FRAMES:
            raise PoseAnimateError(
                f"{len(subject)} frames: a StableAnimator sample needs at least {MIN_FRAMES} "
                f"(its reference frame is drawn from outside the 16 it samples).",
                subject=subject.name, path=subject.part("frames"),
                fix="use a longer video, or leave this subject out of the dataset.")
        h, w = subject.size
        fit = Fit(h, w, height, width)
        k_draw = DRAW_SHORT_SIDE / min(height, width)
        big = Fit(h, w, round(height * k_draw), round(width * k_draw))
        sample = out / kind / f"{k:05d}"
        for t, person in enumerate(subject.keypoints()):
            name = f"frame_{t}.png"
            placer.image(sample / "images" / name, fit.image(subject.image(t)))
            pose = draw_dwpose((big.height, big.width), big.points(person),
                               min_conf=settings["min_conf"], dim=True)
            placer.image(sample / "poses" / name,
                         cv2.resize(pose, (width, height), interpolation=cv2.INTER_LINEAR))
            box = face_box(fit.points(person), height, width)
            face = np.full((height, width), 255, np.uint8)
            if box is not None:
                face[:] = 0
                face[box[1]:box[3], box[0]:box[2]] = 255
            placer.image(sample / "faces" / name, face)
        folders.append(str(job.final / sample.relative_to(out)))
    placer.text(out / f"video_{kind}_path.txt", "\n".join(folders) + "\n")
    return {"samples": dict(zip([s.name for s in job.train + job.test], folders)),
            "size": [width, height], "frames": sum(len(s) for s in job.train + job.test),
            "warnings": []}
