"""The training data of Moore-AnimateAnyone (MooreThreads/Moore-AnimateAnyone, its
`tools/extract_dwpose_from_vid.py` and `tools/extract_meta_info.py`, read by
`src/dataset/dance_video.py`; MusePose reads the same meta list), a subject or a dataset's
subjects:

    videos/<subject>.mp4           the frames as a video at the subject's frame rate
    videos_dwpose/<subject>.mp4    its pose video: DWPose body, hands and face on black, short
                                   side 512 and sides rounded to multiples of 64, as its pose
                                   extraction sizes it; the same frame count
    meta.json                      [{"video_path": ..., "kps_path": ...}] (absolute paths)

Its datasets assert that a video and its pose video have one frame count, and crop them alike
(so both keep one aspect). `flavour: musepose` draws MusePose's pose videos instead (its
`draw_dwpose.py`): `videos_dwpose_without_face/`, drawn at short side 1024 with limbs sized by
length and resized to short side 768 (even sides), red and blue swapped as its training data
has them, no face points, the frame rate rounded to an integer.
"""

import cv2
import numpy as np

from ..core.draw import draw_dwpose
from ..core.videoio import write_video
from .source import Fit

SCOPE = "any"
PARTS = ("frames", "fps", "openpose_json")
SHORT_SIDE, MULTIPLE = 512, 64


def pose_size(h: int, w: int) -> tuple[int, int]:
    """(height, width) of its DWposeDetector's resize_image: short side 512, each side rounded
    to the nearest multiple of 64."""
    k = SHORT_SIDE / min(h, w)
    return int(round(h * k / MULTIPLE)) * MULTIPLE, int(round(w * k / MULTIPLE)) * MULTIPLE


def musepose_size(h: int, w: int, short: int) -> tuple[int, int]:
    """(height, width) of MusePose's draw_dwpose.py: short side `short`, sides floored even."""
    k = short / min(h, w)
    return int(k * h // 2 * 2), int(k * w // 2 * 2)


def _musepose_pose(person, h: int, w: int, min_conf: float) -> np.ndarray:
    dh, dw = musepose_size(h, w, 1024)
    sh, sw = musepose_size(h, w, 768)
    drawn = draw_dwpose((dh, dw), Fit(h, w, dh, dw, stretch=True).points(person),
                        min_conf=min_conf, face=False, hand_point=3, smart_width=True)
    # its files hold the colours with red and blue swapped (a BGR canvas saved as RGB)
    return cv2.resize(drawn, (sw, sh), interpolation=cv2.INTER_AREA)[..., ::-1]


def write(job, out, settings, placer) -> dict:
    meta, musepose = [], settings["flavour"] == "musepose"
    poses_dir = "videos_dwpose_without_face" if musepose else "videos_dwpose"
    for subject in job.train + job.test:
        h, w = subject.size
        ph, pw = pose_size(h, w)
        fit = Fit(h, w, ph, pw, stretch=True)  # its rounding to 64 may change the aspect a hair
        seq = subject.keypoints()
        video = out / "videos" / f"{subject.name}.mp4"
        poses = out / poses_dir / f"{subject.name}.mp4"
        fps = round(subject.fps) if musepose else subject.fps
        write_video(video, (subject.image(t) for t in range(len(subject))), fps)
        if musepose:
            frames = (_musepose_pose(p, h, w, settings["min_conf"]) for p in seq)
        else:
            frames = (draw_dwpose((ph, pw), fit.points(p), min_conf=settings["min_conf"])
                      for p in seq)
        write_video(poses, frames, fps)
        placer.counts["written"] += 2
        meta.append({"video_path": str(job.final / video.relative_to(out)),
                     "kps_path": str(job.final / poses.relative_to(out))})
    placer.json(out / "meta.json", meta)
    return {"videos": [s.name for s in job.train + job.test],
            "frames": sum(len(s) for s in job.train + job.test), "warnings": []}
