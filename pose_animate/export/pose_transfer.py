"""The Everybody-Dance-Now re-implementation's folder (jseobyun/POSE_TRANSFER, read by its
`data/dance_dataset.py`; the seed's `data/source/`), one target subject per export:

    images/<n>.png                    the target's frames, 512 x 288 (its config's w x h)
    annotations/train_annotations.npy (N, 37) float64: frame number n, then 18 x (x, y)
                                      OpenPose-18 in 512 x 288 pixels, -1 where missing
    train_bg_img.png                  the background plate, 512 x 288
    with `driving:` (the driving subject of the export entry), also
    annotations/test_annotations.npy  the driving skeletons, (M, 37), in their own frame
    annotations/norm_test_annotations.npy  (M, 18, 2): the driving skeletons normalized into
                                      the target's body frame (the normalize stage), 0 = missing

Frame numbers are 1-based and unpadded, as its video script writes them, and frames where nobody
is seen are left out (its script drops them too, so numbers have gaps). Frames are placed
centred in 512 x 288 (scaled to fit, the rest black): the pipeline's frames are square crops.
Its label maps skip a joint at -1 or 0, so a seen joint is kept off 0; a joint outside the
image is missing, as its detector reports it.
"""

import numpy as np

from ..core.errors import PoseAnimateError
from ..core.formats import read_image, read_openpose_folder
from ..core.skeletons import to_openpose18
from .source import Fit

SCOPE = "subject"
PARTS = ("frames", "openpose_json", "bg.jpg")


def _rows(seq: np.ndarray, fit: Fit, missing: float) -> np.ndarray:
    """(T, 18, 2) OpenPose-18 in the export's pixels, `missing` where not seen or outside."""
    body = np.stack([to_openpose18(fit.points(p)) for p in seq]) if len(seq) else \
        np.zeros((0, 18, 3), np.float32)
    xy = body[..., :2].astype(np.float64)
    inside = (body[..., 2] > 0) & (xy[..., 0] >= 0) & (xy[..., 0] < fit.width) & \
        (xy[..., 1] >= 0) & (xy[..., 1] < fit.height)
    xy = np.maximum(xy, 0.5)
    xy[~inside] = missing
    return xy


def write(job, out, settings, placer) -> dict:
    (subject,) = job.train
    width, height = settings["width"], settings["height"]
    h, w = subject.size
    fit = Fit(h, w, height, width)
    joints = _rows(subject.keypoints(), fit, -1.0)
    kept = [t for t in range(len(subject)) if (joints[t] >= 0).any()]
    if not kept:
        raise PoseAnimateError("no frame shows the person's body.", subject=subject.name,
                               path=subject.part("openpose_json"),
                               fix="check the keypoints stage's QA sheet for this subject.")
    for t in kept:
        placer.image(out / "images" / f"{t + 1}.png", fit.image(subject.image(t)))
    table = np.concatenate([np.array(kept, np.float64)[:, None] + 1,
                            joints[kept].reshape(len(kept), 36)], axis=1)
    placer.npy(out / "annotations" / "train_annotations.npy", table)
    bg = subject.check_size(subject.part("bg.jpg"), read_image(subject.part("bg.jpg")))
    placer.image(out / "train_bg_img.png", fit.image(bg))
    record = {"frames": len(kept), "left_out": len(subject) - len(kept),
              "size": [width, height], "warnings": []}
    if job.driving is not None:
        driving, normalized = job.driving
        dh, dw = driving.size
        own = _rows(driving.keypoints(), Fit(dh, dw, height, width), -1.0)
        numbers = np.arange(1, len(own) + 1, dtype=np.float64)[:, None]
        placer.npy(out / "annotations" / "test_annotations.npy",
                   np.concatenate([numbers, own.reshape(len(own), 36)], axis=1))
        norm = _rows(read_openpose_folder(normalized, n_frames=len(driving)), fit, 0.0)
        placer.npy(out / "annotations" / "norm_test_annotations.npy", norm)
        record["driving"] = {"subject": driving.name, "frames": len(norm)}
    return record
