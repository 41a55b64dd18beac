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
(so both keep one aspect). MusePose's own pose videos are drawn larger (short side 768) with red
and blue swapped; this export draws the Moore convention (the ControlNet colours).
"""

import cv2

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


def write(job, out, settings, placer) -> dict:
    meta = []
    for subject in job.train + job.test:
        h, w = subject.size
        ph, pw = pose_size(h, w)
        fit = Fit(h, w, ph, pw, stretch=True)  # its rounding to 64 may change the aspect a hair
        seq = subject.keypoints()
        video = out / "videos" / f"{subject.name}.mp4"
        poses = out / "videos_dwpose" / f"{subject.name}.mp4"
        write_video(video, (subject.image(t) for t in range(len(subject))), subject.fps)
        write_video(poses, (draw_dwpose((ph, pw), fit.points(p), min_conf=settings["min_conf"])
                            for p in seq), subject.fps)
        placer.counts["written"] += 2
        meta.append({"video_path": str(job.final / video.relative_to(out)),
                     "kps_path": str(job.final / poses.relative_to(out))})
    placer.json(out / "meta.json", meta)
    return {"videos": [s.name for s in job.train + job.test],
            "frames": sum(len(s) for s in job.train + job.test), "warnings": []}
