"""The densepose stage: a subject's frames (+ keypoints, + masks) -> `densepose/000000.png ...`.

Backends: `skeleton` (default; with the person masks when a mask folder is given, else a
silhouette made of the keypoints' capsules), `detectron2` (DensePose R-CNN from local config
and weights) and `import` (an `apply_net.py dump` file or a folder of IUV PNGs). The output
folder appears only when every frame is written.
"""

import time
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import atomic_dir
from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, list_frames, read_image, read_openpose_folder, write_iuv
from ..core.runlog import log, progress
from .detectron2_backend import load_predictor, predict_iuv_batch
from .import_dump import import_dump, import_iuv_folder
from .skeleton import SkeletonIUV

BACKENDS = ("skeleton", "detectron2", "import")


def read_mask(mask_dir: Path, t: int, shape) -> np.ndarray:
    """Frame t's person mask as bool (a soft mask counts from 50 %)."""
    path = Path(mask_dir) / frame_name(t)
    if not path.exists():
        raise PoseAnimateError(f"no mask for frame {t}.", path=path,
                               fix="rerun the masks stage, or set densepose.use_masks: false.")
    mask = read_image(path, cv2.IMREAD_GRAYSCALE)
    if mask.shape != tuple(shape):
        raise PoseAnimateError(f"mask is {mask.shape[1]}x{mask.shape[0]}, frames are "
                               f"{shape[1]}x{shape[0]}.", path=path,
                               fix="rerun the masks stage (snakemake --forcerun masks).")
    return mask >= 128


def densepose_iuv(frames_dir, keypoints_dir, out_dir, settings: dict, *, masks=None,
                  source=None, predictor=None) -> dict:
    """The densepose stage: one IUV PNG per frame into `out_dir` (atomically); return the
    record.

    `settings` is the config's `densepose` section. `masks` is the person mask folder (the
    rule gives it to the skeleton backend when `use_masks` is on; without it the silhouette
    is made of the keypoints' capsules); `source` is what the import backend reads (the
    rule's import input: `import_path` with the subject filled in); `predictor`, for the
    detectron2 backend, one already built (else built from the config and weights).
    """
    backend = settings["backend"]
    if backend not in BACKENDS:
        raise PoseAnimateError(f"unknown densepose backend '{backend}'.",
                               fix=f"set densepose.backend to one of {', '.join(BACKENDS)}.")
    start = time.perf_counter()
    frames = list_frames(frames_dir)
    if not frames:
        raise PoseAnimateError("the frame folder holds no frames.", path=frames_dir,
                               fix="rerun the frames stage.")
    keypoints = read_openpose_folder(keypoints_dir, n_frames=len(frames))
    shape = read_image(frames[0]).shape[:2]
    record = {"backend": backend, "frames": len(frames)}
    with atomic_dir(out_dir) as tmp:
        if backend == "skeleton":
            record.update(_skeleton(frames, keypoints, shape, masks, tmp))
        elif backend == "import":
            record.update(_import(source, frames, keypoints, tmp, settings["min_score"]))
        else:
            record.update(_detectron2(frames, keypoints, tmp, settings["detectron2_config"],
                                      settings["detectron2_weights"], settings["min_score"],
                                      settings["device"], settings["batch_size"], predictor))
    record["seconds"] = round(time.perf_counter() - start, 2)
    log.info("densepose (%s): %d frames, %d without a person, %.1f s -> %s", backend,
             len(frames), record["frames_without_person"], record["seconds"], out_dir)
    return record


def _skeleton(frames, keypoints, shape, mask_dir, out):
    converter = SkeletonIUV()
    empty, fg_pixels, part_pixels = 0, [], np.zeros(25, np.int64)
    for t in progress(range(len(frames)), total=len(frames), desc="densepose skeleton"):
        mask = read_mask(mask_dir, t, shape) if mask_dir else None
        parts, u, v = converter(keypoints[t], shape, mask)
        empty += int(not parts.any())
        fg_pixels.append(int((parts > 0).sum()))
        part_pixels += np.bincount(parts.reshape(-1), minlength=25)
        write_iuv(out / frame_name(t), parts, u, v)
    total = max(int(part_pixels[1:].sum()), 1)
    return {"silhouette": "masks" if mask_dir else "keypoint capsules",
            "frames_without_person": empty,
            "mean_person_pixels": round(float(np.mean(fg_pixels)), 1),
            "part_share": {int(p): round(float(part_pixels[p] / total), 4)
                           for p in range(1, 25)}}


def _import(import_path, frames, keypoints, out, min_score):
    if not import_path:
        raise PoseAnimateError("densepose.backend is 'import' but no import_path is set.",
                               fix="set densepose.import_path to an apply_net dump file or "
                                   "a folder of IUV PNGs ({subject} is replaced).")
    path = Path(import_path)
    if path.is_dir():
        result = import_iuv_folder(path, frames, out)
    elif path.is_file():
        result = import_dump(path, frames, out, keypoints=keypoints, min_score=min_score)
    else:
        raise PoseAnimateError("the densepose import path does not exist.", path=path,
                               fix="set densepose.import_path to an apply_net dump file or "
                                   "a folder of IUV PNGs.")
    result.pop("frames", None)
    return {"import_path": str(path), **result}


def _detectron2(frames, keypoints, out, config, weights, min_score, device, batch_size=4,
                predictor=None):
    """IUV of every frame from DensePose R-CNN, `batch_size` frames a forward pass."""
    predictor = predictor or load_predictor(config, weights, device)
    empty = 0
    bar = progress(total=len(frames), desc="densepose detectron2")
    for start in range(0, len(frames), batch_size):
        batch = list(range(start, min(start + batch_size, len(frames))))
        results = predict_iuv_batch(predictor, [read_image(frames[t]) for t in batch],
                                    [keypoints[t] for t in batch], min_score)
        for t, (parts, u, v) in zip(batch, results):
            empty += int(not parts.any())
            write_iuv(out / frame_name(t), parts, u, v)
        bar.update(len(batch))
    bar.close()
    return {"detectron2_config": str(config), "detectron2_weights": str(weights),
            "batch_size": batch_size, "frames_without_person": empty}
