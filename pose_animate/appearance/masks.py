"""Person masks: mediapipe segmentation (or SAM2's, `sam2_masks.py`) refined into a mask a
renderer can train on.

Per frame: segment a square crop around the tracked skeleton (the segmenter works at 256 px,
so a person who fills a fifth of the frame would otherwise get a coarse mask), keep only the
connected components that hold the skeleton (a bystander is not the subject), optionally
smooth the probability over time and refine its edges against the frame, fill small holes,
and write an 8-bit PNG, 0/255 (or the refined probability x 255 with `soft`).

A frame whose keypoints hold nobody (the person left the picture) gets an empty mask: the
dataset's masks follow the tracked subject, never whoever else is in view.
"""

import contextlib
import time
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import atomic_dir, scratch_dir
from ..core.body import BODY, BODY_25_LIMBS
from ..core.draw import contact_sheet, evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, list_images, read_image, read_openpose_folder, write_image
from ..core.frameseq import FrameSequence
from ..core.runlog import log, progress

MODELS = ("selfie_general", "selfie_landscape", "pose")


class Segmenter:
    """mediapipe person segmentation (bundled models): BGR image -> float32 probability."""

    def __init__(self, model: str = "selfie_general"):
        import mediapipe as mp

        self.model = model
        if model == "pose":
            self._net = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1,
                                               enable_segmentation=True)
        elif model in ("selfie_general", "selfie_landscape"):
            self._net = mp.solutions.selfie_segmentation.SelfieSegmentation(
                model_selection=0 if model == "selfie_general" else 1)
        else:
            raise ValueError(f"unknown segmentation model {model!r}; one of {MODELS}")

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        result = self._net.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        prob = result.segmentation_mask
        if prob is None:  # the pose model found nobody
            return np.zeros(bgr.shape[:2], np.float32)
        return np.clip(prob, 0, 1).astype(np.float32)

    def close(self):
        self._net.close()


def person_box(points: np.ndarray, shape, padding: float = 0.3, min_conf: float = 0.1):
    """Square (x0, y0, x1, y1) around the confident points, padded by `padding` x its side,
    clipped to the image; None when no point is confident."""
    pts = points[points[:, 2] > min_conf, :2]
    if len(pts) == 0:
        return None
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * padding) + 16
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = shape[:2]
    box = (int(max(0, cx - side / 2)), int(max(0, cy - side / 2)),
           int(min(w, cx + side / 2 + 1)), int(min(h, cy + side / 2 + 1)))
    return box if box[2] - box[0] > 1 and box[3] - box[1] > 1 else None


def skeleton_support(points: np.ndarray, shape, limbs=BODY_25_LIMBS,
                     min_conf: float = 0.1) -> np.ndarray:
    """bool (H, W): the confident keypoints and the bones joining them, drawn 3 px wide."""
    support = np.zeros(shape[:2], np.uint8)
    ok = points[:, 2] > min_conf
    for a, b in limbs:
        if ok[a] and ok[b]:
            cv2.line(support, tuple(np.rint(points[a, :2]).astype(int)),
                     tuple(np.rint(points[b, :2]).astype(int)), 1, 3)
    for x, y in points[ok, :2]:
        cv2.circle(support, (int(round(x)), int(round(y))), 2, 1, -1)
    return support.astype(bool)


def keep_person_components(binary: np.ndarray, support: np.ndarray) -> np.ndarray:
    """The connected components of `binary` that touch the skeleton `support`."""
    n, labels = cv2.connectedComponents(binary.astype(np.uint8), connectivity=8)
    hit = np.unique(labels[support & (labels > 0)])
    return np.isin(labels, hit) if len(hit) else np.zeros_like(binary, bool)


def fill_small_holes(mask: np.ndarray, max_fraction: float) -> np.ndarray:
    """Fill background regions enclosed by the mask and smaller than `max_fraction` of its
    area (a gap between an arm and the torso is larger and stays open)."""
    area = int(mask.sum())
    if area == 0 or max_fraction <= 0:
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), 4)
    h, w = mask.shape
    out = mask.copy()
    for k in range(1, n):
        x, y, bw, bh, size = stats[k]
        touches_border = x == 0 or y == 0 or x + bw == w or y + bh == h
        if not touches_border and size <= max_fraction * area:
            out[labels == k] = True
    return out


def guided_refine(prob: np.ndarray, image: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-aware smoothing of the probability with the frame as guide (He et al. guided
    filter, opencv-contrib): the mask's edges snap to the image's edges."""
    guide = image.astype(np.float32) / 255
    return np.clip(cv2.ximgproc.guidedFilter(guide, prob, radius, eps), 0, 1)


def grabcut_refine(prob: np.ndarray, image: np.ndarray, iterations: int = 2) -> np.ndarray:
    """GrabCut seeded by the probability (sure where it is confident), on the person's box."""
    fg = prob > 0.5
    if fg.sum() < 16:
        return prob
    ys, xs = np.nonzero(fg)
    pad = max(8, int(0.1 * max(xs.ptp(), ys.ptp())))
    y0, y1 = max(0, ys.min() - pad), min(prob.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(prob.shape[1], xs.max() + pad + 1)
    p = prob[y0:y1, x0:x1]
    gc = np.full(p.shape, cv2.GC_PR_BGD, np.uint8)
    gc[p > 0.5] = cv2.GC_PR_FGD
    gc[p > 0.95] = cv2.GC_FGD
    gc[p < 0.02] = cv2.GC_BGD
    if not (gc == cv2.GC_BGD).any() or not np.isin(gc, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
        return prob
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(image[y0:y1, x0:x1]), gc, None, bgd, fgd, iterations,
                cv2.GC_INIT_WITH_MASK)
    out = np.zeros_like(prob)
    out[y0:y1, x0:x1] = np.isin(gc, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    return out


class MaskRefiner:
    """The per-frame mask recipe, with state for temporal smoothing (one per video).

    The keyword arguments are keys of the config's `masks` section (see the schema for each
    one's meaning); `refiner_settings` picks them from it.
    """

    def __init__(self, model="selfie_general", threshold=0.5, crop_to_person=True,
                 crop_padding=0.1, keypoint_guided=True, temporal_weight=0.0,
                 edge_refine="none", guided_radius=0.01, guided_eps=1e-3,
                 max_hole_fraction=0.01, soft=False, min_conf=0.1, limbs=BODY_25_LIMBS):
        # model None: the probabilities come from elsewhere (SAM2) and go through refine()
        self.segment = Segmenter(model) if model else None
        self.threshold, self.crop_to_person, self.crop_padding = threshold, crop_to_person, \
            crop_padding
        self.keypoint_guided, self.temporal_weight = keypoint_guided, temporal_weight
        self.edge_refine, self.guided_radius, self.guided_eps = edge_refine, guided_radius, \
            guided_eps
        self.max_hole_fraction, self.soft, self.min_conf = max_hole_fraction, soft, min_conf
        self.limbs = limbs
        self._previous = None

    def probability(self, image: np.ndarray, points: np.ndarray | None) -> np.ndarray:
        """The segmenter's probability over the whole frame (run on the person's box)."""
        box = person_box(points, image.shape, self.crop_padding, self.min_conf) \
            if (self.crop_to_person and points is not None) else None
        if box is None:
            return self.segment(image)
        x0, y0, x1, y1 = box
        prob = np.zeros(image.shape[:2], np.float32)
        prob[y0:y1, x0:x1] = self.segment(np.ascontiguousarray(image[y0:y1, x0:x1]))
        return prob

    def __call__(self, image: np.ndarray, points: np.ndarray | None) -> np.ndarray:
        """uint8 (H, W) mask of the person whose keypoints are `points` ((K, 3), None = no
        guidance); 0/255, or 0..255 when soft."""
        has_person = self._has_person(points)
        skip = self.keypoint_guided and not has_person  # refine() returns an empty mask
        prob = None if skip else self.probability(image, points if has_person else None)
        return self.refine(image, points, prob)

    def _has_person(self, points) -> bool:
        return points is not None and bool((points[:, 2] > self.min_conf).any())

    def refine(self, image: np.ndarray, points: np.ndarray | None,
               prob: np.ndarray | None) -> np.ndarray:
        """The recipe after segmentation, on a probability made by any segmenter (None
        only where the keypoints hold nobody)."""
        if self.keypoint_guided and not self._has_person(points):
            self._previous = None
            return np.zeros(image.shape[:2], np.uint8)
        if self.temporal_weight > 0 and self._previous is not None:
            prob = (1 - self.temporal_weight) * prob + self.temporal_weight * self._previous
        self._previous = prob
        if self.edge_refine == "guided":
            radius = max(1, round(self.guided_radius * max(image.shape[:2])))
            prob = guided_refine(prob, image, radius, self.guided_eps)
        elif self.edge_refine == "grabcut":
            prob = grabcut_refine(prob, image)
        binary = prob > self.threshold
        if self.keypoint_guided:
            binary = keep_person_components(
                binary, skeleton_support(points, image.shape, self.limbs, self.min_conf))
        binary = fill_small_holes(binary, self.max_hole_fraction)
        if not self.soft:
            return binary.astype(np.uint8) * 255
        # Soft edges survive in a thin band around the kept components only.
        near = cv2.dilate(binary.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        soft = np.where(binary, np.maximum(prob, 0.5), np.where(near, prob, 0))
        return np.rint(soft * 255).astype(np.uint8)

    def close(self):
        if self.segment is not None:
            self.segment.close()


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    mask, truth = mask.astype(bool), truth.astype(bool)
    union = np.logical_or(mask, truth).sum()
    return float(np.logical_and(mask, truth).sum() / union) if union else 1.0


def refiner_settings(settings: dict) -> dict:
    """MaskRefiner's keyword arguments from the config's `masks` section (what the record
    lists as the recipe's settings)."""
    return {"model": settings["model"], "threshold": settings["threshold"],
            "crop_to_person": settings["crop_to_person"],
            "crop_padding": settings["crop_padding"],
            "keypoint_guided": settings["keypoint_guided"],
            "temporal_weight": settings["temporal_weight"],
            "edge_refine": settings["edge_refine"], "guided_radius": settings["guided_radius"],
            "guided_eps": settings["guided_eps"],
            "max_hole_fraction": settings["max_hole_fraction"], "soft": settings["soft"],
            "min_conf": settings["min_conf"]}


def _sam2_masks(seq, people, settings, refiner, out_dir, predictor=None):
    """(t, mask) of every frame from SAM2's propagation, refined as mediapipe's are."""
    import torch

    from .sam2_masks import build_predictor, sam2_probabilities

    device = settings["sam2"]["device"]
    if device == "auto":  # the job's GPU (allocate_gpu made it the only one visible)
        device = "cuda" if torch.cuda.is_available() else "cpu"
    predictor = predictor or build_predictor(settings, device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else \
        contextlib.nullcontext()
    with scratch_dir(out_dir) as scratch, torch.inference_mode(), autocast:
        for t, prob in sam2_probabilities(seq, people, settings, scratch, predictor):
            yield t, refiner.refine(seq.read(t), people[t][BODY], prob)


def compute_masks(frames, keypoints, out_dir, settings: dict, *, source=None,
                  predictor=None) -> dict:
    """The masks stage: a mask for every frame of `frames` guided by the OpenPose folder
    `keypoints`, written to `out_dir/000000.png ...` atomically; return the record.

    `settings` is the config's `masks` section. With `backend: import`, the masks in the
    folder `source` (the rule's import input) are validated and copied instead; with
    `backend: sam2`, SAM2's video predictor segments (`predictor`: one already built, else
    it is built from masks.sam2).
    """
    seq = FrameSequence(frames)
    start = time.perf_counter()
    if settings["backend"] == "import":
        summary = import_mask_folder(source, out_dir, seq, soft=settings["soft"])
    else:
        people = read_openpose_folder(keypoints, len(seq))
        recipe = refiner_settings(settings)
        sam2 = settings["backend"] == "sam2"
        refiner = MaskRefiner(**{**recipe, "model": None if sam2 else recipe["model"]})
        coverage = []
        with atomic_dir(out_dir) as tmp:
            if sam2:
                masks = _sam2_masks(seq, people, settings, refiner, out_dir, predictor)
            else:
                masks = ((t, refiner(seq.read(t), people[t][BODY])) for t in range(len(seq)))
            for t, mask in progress(masks, total=len(seq), desc="masks"):
                write_image(tmp / frame_name(t), mask)
                coverage.append(float((mask >= 128).mean()))
        refiner.close()
        empty = [t for t, c in enumerate(coverage) if c == 0]
        summary = {"backend": settings["backend"], "settings": recipe, "frames": len(seq),
                   "empty_frames": len(empty), "first_empty_frames": empty[:20],
                   "mean_coverage": round(float(np.mean(coverage)), 4)}
        if empty:
            log.warning("masks: %d of %d frames have an empty mask (no tracked person there)",
                        len(empty), len(seq))
    summary["seconds"] = round(time.perf_counter() - start, 2)
    log.info("masks: %d frames written to %s in %.1f s", len(seq), out_dir, summary["seconds"])
    return summary


def import_mask_folder(src, out_dir, seq: FrameSequence, soft: bool = False) -> dict:
    """Validate a folder of masks made elsewhere and write them as the dataset's masks.

    One image per frame (natural name order), each the frames' size, single-valued channels;
    values 0/255 or 0/1 (any 0..255 with `soft`).
    """
    if not src or not Path(src).is_dir():
        raise PoseAnimateError("the mask import folder does not exist.",
                               path=src, fix="set masks.import_dir to a folder of mask images "
                                             "({subject} is replaced by the subject's name).")
    files = list_images(src)
    if len(files) != len(seq):
        raise PoseAnimateError(f"{len(files)} masks for {len(seq)} frames.",
                               path=src, fix="import exactly one mask per extracted frame.")
    with atomic_dir(out_dir) as tmp:
        for t, path in enumerate(files):
            mask = read_image(path, cv2.IMREAD_UNCHANGED)
            if mask.ndim == 3:
                if not (mask[..., :3] == mask[..., :1]).all():
                    raise PoseAnimateError("a colour image, not a mask.",
                                           path=path, fix="masks must be grayscale.")
                mask = mask[..., 0]
            if mask.shape != tuple(seq.size):
                raise PoseAnimateError(
                    f"mask is {mask.shape[1]}x{mask.shape[0]} but the frames are "
                    f"{seq.size[1]}x{seq.size[0]}.", path=path,
                    fix="make the masks on the extracted frames (same crop and size).")
            if mask.dtype != np.uint8:
                raise PoseAnimateError(f"mask has {mask.dtype} pixels, not 8-bit.",
                                       path=path, fix="save 8-bit masks.")
            values = np.unique(mask)
            if set(values.tolist()) <= {0, 1}:
                mask = mask * np.uint8(255)
            elif not soft and not set(values.tolist()) <= {0, 255}:
                raise PoseAnimateError(
                    f"mask holds {len(values)} grey levels; a binary mask (0/255) is expected.",
                    path=path,
                    fix="threshold the masks, or set masks.soft: true to keep soft masks.")
            write_image(tmp / frame_name(t), mask)
    return {"backend": "import", "imported_from": str(src), "frames": len(seq)}


def mask_overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The frame with the mask tinted green and its outline drawn."""
    m = mask.astype(np.float32)[..., None] / 255
    tinted = (image * (1 - 0.45 * m) + np.array([0, 200, 0]) * 0.45 * m).astype(np.uint8)
    contours, _ = cv2.findContours((mask >= 128).astype(np.uint8), cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(tinted, contours, -1, (0, 255, 255), 1)
    return tinted


def mask_sheet(frames, masks, n_frames: int = 16, tile: int = 160) -> np.ndarray:
    """A contact sheet (4 per row) of mask overlays for evenly spaced frames, each labelled
    with its frame number and the share of the frame the mask covers."""
    seq = FrameSequence(frames)
    picks = evenly_spaced(len(seq), n_frames)
    overlays, labels = [], []
    for t in picks:
        mask = read_image(Path(masks) / frame_name(t), cv2.IMREAD_GRAYSCALE)
        overlays.append(mask_overlay(seq.read(t), mask))
        labels.append(f"{t} {(mask >= 128).mean():.0%}")
    return contact_sheet(overlays, 4, labels=labels, tile_width=tile)
