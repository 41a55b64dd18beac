"""Evaluating a trained renderer on data it never saw, against baselines, in one JSON shape for
every family.

A subject's renderer (scope `subject`): the last frames of the subject (`heldout_fraction`,
recorded in the model file) never entered training. They are reconstructed from their own
cleaned keypoints, frame by frame as a render is, and compared with the real frames at the
model's size (renderers.metrics: SSIM, PSNR, L1, L1 inside the mask, keypoint distance through
the keypoint stage's detector, temporal warping error with the real video's backward flow).
The nearest-neighbour baseline returns the training frame whose pose is closest to the wanted
one; `nearest_pose_distance_body_fraction` says how new the held-out poses are (near zero the
motion repeats and the baseline copies a frame of the same pose).

The record: `family`, `name`, `scope`, `model_file`, `size`, `heldout` (what was held out and
how new its poses are), `metrics` (what each measures), `model` and `baselines`
({name: metrics}, the same metric names), `real_frames` (the warping error of the real frames,
the floor of that metric) and `beats_baselines` ({name: {metric: bool}}). Families that predict
the body's surface (d2g) add `surface`: their predicted IUV against the dataset's densepose/
(densepose.metrics.iuv_agreement: part accuracy, U/V error, foreground IoU).
"""

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..core.body import BODY, body_height_px
from ..core.draw import evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, read_flo, read_image
from ..core.runlog import log, progress
from ..densepose.metrics import iuv_agreement
from ..keypoints.detect import make_backend
from .baselines import nearest_neighbour
from .data import SubjectData
from .family import Driving
from .inference import load_model
from .metrics import (METRICS, beats, image_metrics, keypoint_error, pose_distance, resize_flow,
                      summary, warping_error)
from .posemap import MIN_CONF


@dataclass
class Evaluation:
    """The record (the eval JSON) and the frames shown in the QA picture: per shown held-out
    frame, {"frame": t, "real": image, "model": image, <baseline>: image}."""
    record: dict
    shown: list[dict] = field(default_factory=list)


def keypoint_detector(keypoints_settings: dict):
    """The keypoint stage's backend as the config names it, body only (the metric compares
    BODY_25), as a context manager."""
    return make_backend({**keypoints_settings, "face_hands": False})


def evaluate(model_path, dataset_dir, cache_dir, keypoints_settings: dict, *, valid_dir=None,
             device: str = "auto", n_shown: int = 4) -> Evaluation:
    """Metrics of the model and its baselines on the subject's held-out frames.

    `dataset_dir` is the subject's dataset folder, `cache_dir` the training run's frame cache,
    `keypoints_settings` the config's `keypoints` section (its detector measures keypoint
    distance), `valid_dir` the flow stage's validity masks (`bwd/000000.png ...`; without it
    the warping error uses every pixel).
    """
    state, animator = load_model(model_path, device)
    extras, spec = state["extras"], state["spec"]
    n_train = extras["training_frames"]
    dataset_dir = Path(dataset_dir)
    parts = set(extras["parts"]) | ({"mask"} if (dataset_dir / "mask").is_dir() else set())
    data = SubjectData(dataset_dir, sorted(parts), size=extras["size"],
                       multiple=extras["multiple"], cache_dir=cache_dir)
    if list(data.map_hw) != spec["inputs"]["map_hw"] or data.n <= n_train:
        raise PoseAnimateError(
            f"the dataset ({data.n} frames of {data.frame_hw[1]}x{data.frame_hw[0]}) is not the "
            f"one the model was trained on ({n_train} training frames, model size "
            f"{spec['inputs']['map_hw'][1]}x{spec['inputs']['map_hw'][0]}).",
            path=dataset_dir, fix="retrain the model on the current dataset "
                                  "(snakemake --forcerun train).")
    heldout = list(range(n_train, data.n))
    penalty = 0.25 * float(np.hypot(*data.frame_hw))
    train_poses = data.keypoints[:n_train]
    outputs = {"model": [], "nearest_neighbour": []}
    novelty, surface = [], []
    predicts_surface = hasattr(animator, "iuv") and data.iuv(heldout[0]) is not None
    animator.reset()
    for t in progress(heldout, total=len(heldout), desc="held-out frames"):
        if data.keypoints[t, BODY, 2].max() <= MIN_CONF:
            raise PoseAnimateError(f"held-out frame {t} has no keypoints.",
                                   path=dataset_dir / "openpose_json",
                                   fix="rerun the clean stage (it fills gaps), or check the video.")
        outputs["model"].append(animator.frame(Driving(data.keypoints[t], data.iuv(t))))
        if predicts_surface:
            truth = data.iuv(t)
            surface.append(iuv_agreement(animator.iuv(), (np.rint(truth[0] * 24), *truth[1:])))
        nearest = nearest_neighbour(train_poses, data.keypoints[t], penalty)
        outputs["nearest_neighbour"].append(data.image_bgr(nearest))
        novelty.append(pose_distance(train_poses[nearest], data.keypoints[t], penalty)
                       / body_height_px(data.keypoints[t]))
    real = [data.image_bgr(t) for t in heldout]
    flows = _backward_flows(dataset_dir, valid_dir, heldout, data.map_hw)

    h, w = data.frame_hw
    summaries = {}
    for name, images in outputs.items():
        rows = []
        with keypoint_detector(keypoints_settings) as detector:
            for t, img in zip(heldout, images):
                row = image_metrics(img, data.image_bgr(t), data.mask(t))
                big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
                found = detector.detect(big)
                row["keypoint_px"], row["keypoint_body_fraction"] = keypoint_error(
                    found, data.keypoints[t])
                row["detected_fraction"] = float(found is not None)
                rows.append(row)
        rows += _warping_rows(images, flows)
        summaries[name] = summary(rows)
    model, baselines = summaries.pop("model"), summaries
    real_warp = summary(_warping_rows(real, flows))["warping_error"]
    record = {
        "family": state["family"], "name": state["name"], "scope": "subject",
        "model_file": str(model_path), "size": list(data.map_hw),
        "heldout": {"what": "the subject's last frames, never trained on, reconstructed from "
                            "their own keypoints",
                    "subjects": {dataset_dir.name: [heldout[0], heldout[-1]]},
                    "frames": len(heldout),
                    "nearest_pose_distance_body_fraction":
                        round(float(np.nanmean(novelty)), 4)},
        "keypoints_compared": f"BODY_25, detector run on frames scaled to {w}x{h}",
        "metrics": METRICS, "model": model, "baselines": baselines,
        "real_frames": {"warping_error": real_warp},
        "beats_baselines": {name: beats(model, b) for name, b in baselines.items()},
    }
    if surface:
        record["surface"] = {key: round(float(np.nanmean([s[key] for s in surface])), 4)
                             for key in ("part_accuracy", "u_mae", "v_mae", "fg_iou")}
        record["surface"]["against"] = "the dataset's densepose/ at the model's size"
    b = baselines["nearest_neighbour"]
    log.info("held-out frames %d-%d: model SSIM %.3f PSNR %.2f kp %.1f px warp %s | nearest "
             "neighbour SSIM %.3f PSNR %.2f kp %.1f px warp %s | real warp %s", heldout[0],
             heldout[-1], model["ssim"], model["psnr"], model["keypoint_px"],
             model["warping_error"], b["ssim"], b["psnr"], b["keypoint_px"],
             b["warping_error"], real_warp)
    shown = [{"frame": heldout[i], "real": real[i],
              **{name: images[i] for name, images in
                 (("nearest_neighbour", outputs["nearest_neighbour"]),
                  ("model", outputs["model"]))}}
             for i in evenly_spaced(len(heldout), n_shown)]
    return Evaluation(record, shown)


def _backward_flows(dataset_dir: Path, valid_dir, frames: list[int], map_hw) -> list:
    """Per consecutive pair (t, t+1) of `frames`: (flow t+1 -> t at the model's size, valid
    mask), or an empty list when the dataset has no backward flow."""
    folder = dataset_dir / "flow_inv"
    if not folder.is_dir():
        return []
    h, w = map_hw
    flows = []
    for t in frames[:-1]:
        valid = np.ones((h, w), bool)
        if valid_dir is not None:
            mask = read_image(Path(valid_dir) / "bwd" / frame_name(t), cv2.IMREAD_GRAYSCALE)
            valid = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST) >= 128
        flows.append((resize_flow(read_flo(folder / frame_name(t, ".flo")), map_hw), valid))
    return flows


def _warping_rows(images: list[np.ndarray], flows: list) -> list[dict]:
    return [{"warping_error": warping_error(a, b, flow, valid)}
            for (a, b), (flow, valid) in zip(zip(images, images[1:]), flows)]
