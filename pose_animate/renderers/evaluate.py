"""Evaluating a trained renderer on the target's held-out frames, against a baseline.

The last frames of the subject (`train.heldout_fraction`, recorded in the model file) never
entered training. They are reconstructed from their own cleaned keypoints, frame by frame as a
render is, and compared with the real frames at the model's size:
- SSIM, PSNR, L1 on the whole frame, L1 inside the person mask (when the dataset has masks);
- keypoint distance: the keypoint stage's detector is run on each generated frame (scaled to
  the dataset's frame size) and its BODY_25 points compared with the input keypoints, in pixels
  and as a fraction of body height (`body_height_px`); a frame where it finds nobody counts
  as an error of one body height.
The same metrics for the nearest-neighbour baseline: the training frame whose pose is closest
to the wanted pose. A renderer that does not beat it is not learning.
"""

from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from ..core.atomic import atomic_file
from ..core.body import BODY, body_height_px
from ..core.draw import evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import write_image
from .posemap import MIN_CONF
from .render import Renderer
from ..core.runlog import log, progress
from .engine import SubjectData

PSNR_IDENTICAL = 100.0
METRICS = ["ssim", "psnr", "l1", "l1_mask", "keypoint_px", "keypoint_body_fraction",
           "detected_fraction"]


def pose_distance(a: np.ndarray, b: np.ndarray, penalty: float) -> float:
    """Mean BODY_25 point distance in pixels; a point seen in only one of the two costs
    `penalty`; no point seen in either is infinitely far."""
    ok_a, ok_b = a[BODY, 2] > MIN_CONF, b[BODY, 2] > MIN_CONF
    both = ok_a & ok_b
    one = ok_a ^ ok_b
    if not both.any():
        return float("inf")
    d = np.linalg.norm(a[BODY][both, :2] - b[BODY][both, :2], axis=1)
    return float((d.sum() + penalty * one.sum()) / (both.sum() + one.sum()))


def nearest_neighbour(train_poses: np.ndarray, query: np.ndarray, penalty: float) -> int:
    """Index of the training pose closest to `query` (see `pose_distance`)."""
    dists = [pose_distance(p, query, penalty) for p in train_poses]
    return int(np.argmin(dists))


def image_metrics(fake: np.ndarray, real: np.ndarray, mask=None) -> dict:
    """SSIM, PSNR (dB; identical images get PSNR_IDENTICAL, not infinity, to stay plain
    JSON), L1 (0..1) of two BGR uint8 images; L1 inside a 0/1 mask when given."""
    diff = np.abs(fake.astype(np.float32) - real.astype(np.float32)) / 255
    mse = float(np.mean(diff ** 2))
    out = {"ssim": float(structural_similarity(fake, real, channel_axis=2, data_range=255)),
           "psnr": 10 * np.log10(1 / mse) if mse > 0 else PSNR_IDENTICAL,
           "l1": float(diff.mean()), "l1_mask": None}
    if mask is not None and mask.sum() > 0:
        out["l1_mask"] = float(diff.mean(axis=2)[mask > 0.5].mean())
    return out


def keypoint_error(detected, wanted: np.ndarray) -> tuple[float, float]:
    """(pixels, fraction of body height) between detected and wanted BODY_25 points that both
    hold; nobody detected (or no common point) costs one body height."""
    height = body_height_px(wanted)
    if detected is not None:
        both = (detected[BODY, 2] > MIN_CONF) & (wanted[BODY, 2] > MIN_CONF)
        if both.any():
            px = float(np.linalg.norm(detected[BODY][both, :2] - wanted[BODY][both, :2],
                                      axis=1).mean())
            return px, px / height
    return height, 1.0


def _summary(rows: list[dict]) -> dict:
    out = {}
    for key in METRICS:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = round(float(np.mean(values)), 4) if values else None
    return out


def keypoint_detector(keypoints_cfg: dict):
    """The keypoint stage's backend as the config names it, body only (the metric compares
    BODY_25), as a context manager."""
    from ..keypoints.detect import make_backend

    return make_backend({**keypoints_cfg, "face_hands": False})


def evaluate(model_path, dataset_dir, cache_dir, detector_factory, *, subject=None,
             device: str = "auto", frames_path=None, table_path=None, n_shown: int = 4) -> dict:
    """Metrics of the model and of the nearest-neighbour baseline on the held-out frames.

    `detector_factory()` gives a context manager whose `.detect(bgr)` returns (137, 3)
    keypoints or None (the keypoint stage's backend).
    """
    renderer = Renderer(model_path, device)
    spec = renderer.spec
    n_train = renderer.training_frames
    data = SubjectData(dataset_dir, size=spec["inputs"]["size"],
                       multiple=2 ** spec["arch"]["n_down"],
                       use_background=spec["inputs"]["background"], use_iuv=spec["inputs"]["iuv"],
                       use_mask=(Path(dataset_dir) / "mask").is_dir(), cache_dir=cache_dir,
                       subject=subject)
    if tuple(data.map_hw) != renderer.map_hw or data.n <= n_train:
        raise PoseAnimateError(
            f"the dataset ({data.n} frames of {data.frame_hw[1]}x{data.frame_hw[0]}) is not the "
            f"one the model was trained on ({n_train} training frames, model size "
            f"{renderer.map_hw[1]}x{renderer.map_hw[0]}).", subject=subject, path=dataset_dir,
            fix="retrain the model on the current dataset (snakemake --forcerun train).")
    heldout = list(range(n_train, data.n))
    penalty = 0.25 * float(np.hypot(*data.frame_hw))
    train_poses = data.keypoints[:n_train]
    generated, baseline, novelty = [], [], []
    renderer.reset()
    for t in progress(heldout, total=len(heldout), desc="held-out frames"):
        if data.keypoints[t, BODY, 2].max() <= MIN_CONF:
            raise PoseAnimateError(f"held-out frame {t} has no keypoints.", subject=subject,
                                   path=Path(dataset_dir) / "openpose_json",
                                   fix="rerun the clean stage (it fills gaps), or check the video.")
        generated.append(renderer.render_cond(data.cond(t).astype(np.float32)))
        nearest = nearest_neighbour(train_poses, data.keypoints[t], penalty)
        baseline.append(data.image_bgr(nearest))
        novelty.append(pose_distance(train_poses[nearest], data.keypoints[t], penalty)
                       / body_height_px(data.keypoints[t]))
    h, w = data.frame_hw
    result = {"subject": subject, "model": str(model_path), "heldout_frames": [heldout[0],
              heldout[-1]], "frames": data.n, "size": list(data.map_hw),
              "keypoints_compared": "BODY_25, detector run on frames scaled to "
                                    f"{w}x{h}; nobody found = one body height",
              # How new the held-out poses are: the nearest training pose's mean point
              # distance over body height. Near zero, the motion repeats and the baseline
              # copies a frame of the same pose.
              "nearest_pose_distance_body_fraction": round(float(np.nanmean(novelty)), 4)}
    for name, images in (("model", generated), ("nearest_neighbour", baseline)):
        rows = []
        with detector_factory() as detector:
            for t, img in zip(heldout, images):
                row = image_metrics(img, data.image_bgr(t), data.mask(t))
                big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
                found = detector.detect(big)
                row["keypoint_px"], row["keypoint_body_fraction"] = keypoint_error(
                    found, data.keypoints[t])
                row["detected_fraction"] = float(found is not None)
                rows.append(row)
        result[name] = _summary(rows)
    m, b = result["model"], result["nearest_neighbour"]
    result["beats_baseline"] = {"ssim": m["ssim"] > b["ssim"], "psnr": m["psnr"] > b["psnr"],
                                "l1": m["l1"] < b["l1"],
                                "keypoints": m["keypoint_px"] < b["keypoint_px"]}
    log.info("held-out frames %d-%d: model SSIM %.3f PSNR %.2f kp %.1f px | nearest neighbour "
             "SSIM %.3f PSNR %.2f kp %.1f px", heldout[0], heldout[-1], m["ssim"], m["psnr"],
             m["keypoint_px"], b["ssim"], b["psnr"], b["keypoint_px"])
    if frames_path:
        shown = evenly_spaced(len(heldout), n_shown)
        rows = [np.concatenate([data.image_bgr(heldout[i]), baseline[i], generated[i]], axis=1)
                for i in shown]
        write_image(frames_path, np.concatenate(rows, axis=0))
    if table_path:
        plot_table(result, table_path)
    return result


def plot_table(result: dict, path) -> None:
    """The evaluation as a picture: one row per metric, model vs nearest neighbour."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"ssim": "SSIM (higher better)", "psnr": "PSNR dB (higher better)",
              "l1": "L1 (lower better)", "l1_mask": "L1 in mask (lower better)",
              "keypoint_px": "keypoint error px (lower better)",
              "keypoint_body_fraction": "keypoint error / body height",
              "detected_fraction": "frames where the detector finds the person"}
    cells = [[labels[k], _fmt(result["model"][k]), _fmt(result["nearest_neighbour"][k])]
             for k in METRICS]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(cells) + 0.9))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=["metric", "model", "nearest neighbour"],
                     loc="center", cellLoc="left", colWidths=[0.56, 0.22, 0.22])
    table.scale(1, 1.4)
    first, last = result["heldout_frames"]
    ax.set_title(f"{result['subject']}: held-out frames {first}-{last}", fontsize=10)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"
