"""Evaluating a trained renderer on data it never saw, against baselines, in one JSON shape for
every family.

A subject's renderer (scope `subject`): the last frames of the subject (`heldout_fraction`,
recorded in the model file) never entered training. They are reconstructed from their own
cleaned keypoints, frame by frame as a render is, and compared with the real frames at the
model's size (renderers.metrics: SSIM, PSNR, L1, L1 inside the mask, keypoint distance through
the keypoint stage's detector, temporal warping error with the real video's backward flow).
Where the keypoint stage finds faces and hands (`keypoints.face_hands`) and the held-out poses
have them, a second detector with face and hands on measures their points too (the body
metric keeps its body-only detector, so its numbers do not depend on that setting).
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

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..core.body import BODY
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
from .metrics import (METRICS, beats, image_metrics, keypoint_error, part_keypoint_errors,
                      person_height_px, pose_distance, resize_flow, summary, warping_error)
from .posemap import MIN_CONF


@dataclass
class Evaluation:
    """The record (the eval JSON) and the frames shown in the QA picture: per shown held-out
    frame, {"frame": t, "real": image, "model": image, <baseline>: image}."""
    record: dict
    shown: list[dict] = field(default_factory=list)


def keypoint_detector(keypoints_settings: dict, face_hands: bool = False):
    """The keypoint stage's backend as the config names it, body only (the body metric
    compares BODY_25) or with face and hands, as a context manager."""
    return make_backend({**keypoints_settings, "face_hands": face_hands})


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
    flows = BackwardFlows(dataset_dir, valid_dir, data.map_hw)
    names = ("model", "nearest_neighbour")
    shown_at, shown = set(evenly_spaced(len(heldout), n_shown)), []
    novelty, surface = [], []
    predicts_surface = hasattr(animator, "iuv") and data.iuv(heldout[0]) is not None
    h, w = data.frame_hw
    animator.reset()
    # Face and hands are measured by a second detector, where the keypoint stage finds them
    # and the held-out poses have them (the body metric's detector stays the same).
    with_parts = bool(keypoints_settings["face_hands"]) and any(
        part_keypoint_errors(None, data.keypoints[t])["face_hands_found_fraction"] is not None
        for t in heldout)
    with contextlib.ExitStack() as stack:
        streams = Streams(names, keypoints_settings, with_parts, data.frame_hw, stack)
        for i, t in enumerate(progress(heldout, total=len(heldout), desc="held-out frames")):
            if data.keypoints[t, BODY, 2].max() <= MIN_CONF:
                raise PoseAnimateError(
                    f"held-out frame {t} has no keypoints.", path=dataset_dir / "openpose_json",
                    fix="rerun the clean stage (it fills gaps), or check the video.")
            images = {"model": animator.frame(Driving(data.keypoints[t], data.iuv(t)))}
            if predicts_surface:
                truth = data.iuv(t)
                surface.append(iuv_agreement(animator.iuv(),
                                             (np.rint(truth[0] * 24), *truth[1:])))
            nearest = nearest_neighbour(train_poses, data.keypoints[t], penalty)
            images["nearest_neighbour"] = data.image_bgr(nearest)
            images["real"] = data.image_bgr(t)
            novelty.append(pose_distance(train_poses[nearest], data.keypoints[t], penalty)
                           / person_height_px(data.keypoints[t]))
            streams.add(images, data.keypoints[t], data.mask(t),
                        flows.into(t - 1) if i > 0 else None)
            if i in shown_at:
                shown.append({"frame": t, "real": images["real"],
                              "nearest_neighbour": images["nearest_neighbour"],
                              "model": images["model"]})
    summaries = {name: summary(streams.rows(name)) for name in names}
    model, baselines = summaries.pop("model"), summaries
    real_warp = summary(streams.rows("real"))["warping_error"]
    record = {
        "family": state["family"], "name": state["name"], "scope": "subject",
        "model_file": str(model_path), "size": list(data.map_hw),
        "heldout": {"what": "the subject's last frames, never trained on, reconstructed from "
                            "their own keypoints",
                    "subjects": {dataset_dir.name: [heldout[0], heldout[-1]]},
                    "frames": len(heldout),
                    "nearest_pose_distance_body_fraction": _finite_mean(novelty)},
        "keypoints_compared": f"BODY_25{', face and hands' if with_parts else ''}, detector "
                              f"run on frames scaled to {w}x{h}",
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
    return Evaluation(record, shown)


class Streams:
    """Scores image streams (the model's, the baselines') frame by frame against one video's
    real frames, in one pass that holds only each stream's previous frame (the warping
    error): image metrics, keypoint distance through the keypoint stage's detector (one per
    stream: mediapipe's tracking mode follows one video at a time) on the frame scaled to
    `frame_hw`, face and hands with `with_parts`, and the warping error of every stream and
    of the real frames ("real")."""

    def __init__(self, names, keypoints_settings: dict, with_parts: bool, frame_hw,
                 stack: contextlib.ExitStack):
        self.names, self.frame_hw = tuple(names), tuple(frame_hw)
        self.detectors = {name: stack.enter_context(keypoint_detector(keypoints_settings))
                          for name in names}
        self.part_detectors = {
            name: stack.enter_context(keypoint_detector(keypoints_settings, True))
            for name in names} if with_parts else {}
        self._rows = {name: [] for name in (*names, "real")}
        self._previous = {}

    def add(self, images: dict, wanted: np.ndarray, mask, flow) -> None:
        """One frame: `images` {stream: BGR image at the model's size, "real": the real
        frame}, the `wanted` (137, 3) keypoints in frame pixels, the person `mask` (or None),
        the real video's (backward flow, valid) into this frame (None for a first frame)."""
        h, w = self.frame_hw
        for name in self.names:
            row = image_metrics(images[name], images["real"], mask)
            big = cv2.resize(images[name], (w, h), interpolation=cv2.INTER_CUBIC)
            found = self.detectors[name].detect(big)
            row["keypoint_px"], row["keypoint_body_fraction"] = keypoint_error(found, wanted)
            row["detected_fraction"] = float(found is not None)
            if self.part_detectors:
                row.update(part_keypoint_errors(self.part_detectors[name].detect(big), wanted))
            self._rows[name].append(row)
        for name, img in images.items():
            if flow is not None and name in self._previous:
                self._rows[name].append(
                    {"warping_error": warping_error(self._previous[name], img, *flow)})
            self._previous[name] = img

    def rows(self, name: str) -> list[dict]:
        return self._rows[name]


def _finite_mean(values) -> float | None:
    values = [v for v in values if np.isfinite(v)]
    return round(float(np.mean(values)), 4) if values else None


class BackwardFlows:
    """The real video's backward flow t+1 -> t at the model's size, with the flow stage's
    validity mask (every pixel without `valid_dir`); None where the dataset has no flow."""

    def __init__(self, dataset_dir: Path, valid_dir, map_hw):
        self.folder, self.valid_dir, self.map_hw = dataset_dir / "flow_inv", valid_dir, map_hw

    def into(self, t: int):
        """(flow, valid) of the pair (t, t+1), or None."""
        if not self.folder.is_dir():
            return None
        h, w = self.map_hw
        valid = np.ones((h, w), bool)
        if self.valid_dir is not None:
            mask = read_image(Path(self.valid_dir) / "bwd" / frame_name(t), cv2.IMREAD_GRAYSCALE)
            valid = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST) >= 128
        return resize_flow(read_flo(self.folder / frame_name(t, ".flo")), self.map_hw), valid
