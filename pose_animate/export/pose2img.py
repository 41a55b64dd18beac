"""The Pose2Img seed's speaker folder (zyhbili/Pose2Img, read by its `dataset.py` through a
yacs config like its `configs/yaml/oliver.yaml`), one subject per export:

    imgs/000000.jpg ...          the frames (JPEG as the seed's data, or linked PNGs)
    keypoints/000000.npy ...     (3, 137) float32: x, y, confidence rows in frame pixels,
                                 BODY_25, face 70, left hand 21, right hand 21 (0 = missing)
    {name}.yaml                  the ready config: paths, the crop, per-size sigmas, root node

Its loader lists `keypoints/*.npy` sorted, finds each image by stem, crops
`[H_bias:H_bias + img_H, W_bias:W_bias + img_W]` and shifts the keypoints by the biases; the
crop written here is the largest centred box whose sides are multiples of 32 (its U-Net halves
the image five times), so keypoints stay in full-frame pixels as the seed's do. The first 256
sorted files are its validation set (a multiple of 64, its validation batches): a subject with
too few frames to leave any for training gets a warning in the record and the log.
"""

import cv2
import numpy as np
import yaml

from ..core.errors import PoseAnimateError
from ..core.runlog import log
from ..core.skeletons import (POSE2IMG_KP_VAR_ROOT, POSE2IMG_MASK_SIGMA_PERP, POSE2IMG_SIZE,
                              to_pose137)

SCOPE = "subject"
PARTS = ("frames", "openpose_json")
NECK = 1


def crop_box(h: int, w: int, size: int | None) -> tuple[int, int, int, int]:
    """(H_bias, W_bias, img_H, img_W): a centred crop with sides multiples of 32."""
    img_h, img_w = (size, size) if size else (h // 32 * 32, w // 32 * 32)
    if img_h < 32 or img_w < 32 or img_h > h or img_w > w:
        raise ValueError(f"a {img_w}x{img_h} crop does not fit {w}x{h} frames")
    return (h - img_h) // 2, (w - img_w) // 2, img_h, img_w


def write(job, out, settings, placer) -> dict:
    (subject,) = job.train
    n, (h, w) = len(subject), subject.size
    h_bias, w_bias, img_h, img_w = crop_box(h, w, settings["crop"])
    keypoints = subject.keypoints()
    if not np.any(keypoints[:, 25:, 2] > 0):
        raise PoseAnimateError(
            "the keypoints hold no face or hand points, which Pose2Img renders.",
            subject=subject.name, path=subject.part("openpose_json"),
            fix="set keypoints.face_hands: true (the holistic path) and rerun.")
    jpeg = settings["image_format"] == "jpg"
    suffix = ".jpg" if jpeg else ".png"
    for t, src in enumerate(subject.frames):
        stem = src.stem
        if jpeg:
            placer.image(out / "imgs" / f"{stem}.jpg", subject.image(t),
                         [cv2.IMWRITE_JPEG_QUALITY, settings["jpeg_quality"]])
        else:
            placer.place(src, out / "imgs" / src.name)
        placer.npy(out / "keypoints" / f"{stem}.npy", to_pose137(keypoints[t]))
    neck = keypoints[:, NECK]
    seen = neck[:, 2] > 0
    root = neck[seen, :2].mean(axis=0) if seen.any() else np.array([w / 2, h / 2])
    scale = img_h / POSE2IMG_SIZE
    first_train = min(settings["validation"], n - 1)
    stem = subject.frames[first_train].stem
    # Its paths are read from the working directory: absolute, to where the export lands.
    config = {"POSE2IMAGE": {
        "PATH": {"img_base": str(job.final / "imgs"), "kp_base": str(job.final / "keypoints"),
                 "img_extension": suffix},
        "TRAIN": {"CROP": {"W_bias": int(w_bias), "H_bias": int(h_bias)}},
        "HYPERPARAM": {"img_H": int(img_h), "img_W": int(img_w), "scale": 1.0,
                       "kp_var_root": [round(v * scale, 2) for v in POSE2IMG_KP_VAR_ROOT],
                       "mask_sigma_perp": [round(v * scale, 2) for v in POSE2IMG_MASK_SIGMA_PERP]},
        "INFER": {"root_node": [[round(float(root[0]), 3)], [round(float(root[1]), 3)]],
                  "ckpt_path": "", "src_img_path": str(job.final / "imgs" / f"{stem}{suffix}"),
                  "src_kp_path": str(job.final / "keypoints" / f"{stem}.npy")}}}
    placer.text(out / f"{job.name}.yaml", yaml.safe_dump(config, sort_keys=False))
    warnings = []
    if n <= settings["validation"]:
        warnings.append(
            f"{n} frames: the seed's loader takes the first {settings['validation']} sorted "
            f"files for validation, which leaves none for training. Use a longer video.")
    elif n - settings["validation"] < 3 * 4:
        warnings.append(
            f"{n} frames leave {n - settings['validation']} for training after its "
            f"{settings['validation']} validation files: fewer than 3 batches of 4.")
    for text in warnings:
        log.warning("subject '%s': pose2img export: %s", subject.name, text)
    return {"frames": n, "frame_size": [w, h], "crop": [w_bias, h_bias, img_w, img_h],
            "root_node": [float(root[0]), float(root[1])], "warnings": warnings}
