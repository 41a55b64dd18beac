"""The metrics every family is evaluated with (one set of names for all of them)."""

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from ..core.body import BODY, FACE, HAND_LEFT, HAND_RIGHT, J, body_height_px
from .posemap import MIN_CONF

PSNR_IDENTICAL = 100.0
# name -> what it measures (written into every eval JSON)
METRICS = {
    "ssim": "SSIM with the real frame (higher is better)",
    "psnr": "PSNR in dB with the real frame (higher is better)",
    "l1": "mean absolute difference with the real frame, 0..1 (lower is better)",
    "l1_mask": "the same inside the person mask (lower is better)",
    "keypoint_px": "BODY_25 keypoint distance in px between the keypoint stage's detector run "
                   "on the frame and the wanted pose; nobody found = one body height (lower "
                   "is better)",
    "keypoint_body_fraction": "the keypoint distance as a fraction of body height (for an "
                              "upper-body view, 4 x the shoulder width)",
    "detected_fraction": "frames where the detector finds the person (higher is better)",
    "keypoint_face_px": "face keypoint distance in px (70 points, those both hold) between the "
                        "detector run with face and hands on and the wanted face; a face it "
                        "misses costs the wanted face's size (its box diagonal) (lower is "
                        "better)",
    "keypoint_hands_px": "the same per hand over the 2 x 21 hand points, a missed hand costing "
                         "its size (lower is better)",
    "face_hands_found_fraction": "of the face and hands the wanted pose has, the fraction the "
                                 "detector finds (higher is better)",
    "warping_error": "temporal flicker: mean absolute difference, 0..1, between frame t+1 and "
                     "frame t warped by the real video's flow, where that flow is reliable "
                     "(lower is better; the real frames' own value is the floor)",
}


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


SHOULDERS_PER_HEIGHT = 4.0  # the shoulders' width is about a quarter of a standing height


def person_height_px(person: np.ndarray) -> float:
    """The scale of "a fraction of body height": nose to ankle, or for an upper-body view
    without ankles SHOULDERS_PER_HEIGHT x the shoulder width; nan without either."""
    height = body_height_px(person)
    if np.isfinite(height) and height > 0:
        return height
    r, l = person[J["RShoulder"]], person[J["LShoulder"]]
    if min(r[2], l[2]) > MIN_CONF:
        return SHOULDERS_PER_HEIGHT * float(np.hypot(*(r[:2] - l[:2])))
    return float("nan")


def keypoint_error(detected, wanted: np.ndarray) -> tuple[float, float]:
    """(pixels, fraction of body height) between detected and wanted BODY_25 points that both
    hold; nobody detected (or no common point) costs one body height (person_height_px)."""
    height = person_height_px(wanted)
    if detected is not None:
        both = (detected[BODY, 2] > MIN_CONF) & (wanted[BODY, 2] > MIN_CONF)
        if both.any():
            px = float(np.linalg.norm(detected[BODY][both, :2] - wanted[BODY][both, :2],
                                      axis=1).mean())
            return px, px / height
    return height, 1.0


MIN_PART_POINTS = 5  # a face or hand with fewer points seen is not there


def part_keypoint_errors(detected, wanted: np.ndarray) -> dict:
    """Face and hand keypoint distances (see METRICS); all None when the wanted pose has no
    face or hand."""
    face_px, hand_px, found = [], [], 0
    for name, group in (("face", FACE), ("hand", HAND_LEFT), ("hand", HAND_RIGHT)):
        want = wanted[group, 2] > MIN_CONF
        if want.sum() < MIN_PART_POINTS:
            continue
        points = wanted[group][want, :2]
        cost = float(np.linalg.norm(points.max(0) - points.min(0)))  # a miss: the part's size
        seen = detected[group, 2] > MIN_CONF if detected is not None else np.zeros_like(want)
        both = want & seen
        if seen.sum() >= MIN_PART_POINTS and both.any():
            found += 1
            cost = float(np.linalg.norm(detected[group][both, :2] - wanted[group][both, :2],
                                        axis=1).mean())
        (face_px if name == "face" else hand_px).append(cost)
    wanted_parts = len(face_px) + len(hand_px)
    return {"keypoint_face_px": face_px[0] if face_px else None,
            "keypoint_hands_px": float(np.mean(hand_px)) if hand_px else None,
            "face_hands_found_fraction": found / wanted_parts if wanted_parts else None}


def resize_flow(flow: np.ndarray, hw) -> np.ndarray:
    """A (H, W, 2) flow field at another size, its vectors scaled with it."""
    h, w = hw
    scale = np.array([w / flow.shape[1], h / flow.shape[0]], np.float32)
    return cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * scale


def warping_error(frame_t: np.ndarray, frame_next: np.ndarray, flow_back: np.ndarray,
                  valid: np.ndarray) -> float | None:
    """Mean |frame t+1 - frame t warped to t+1| / 255 over `valid` pixels whose flow lands
    inside the frame. `flow_back` maps frame t+1 to t (the dataset's flow_inv/t), at these
    frames' size; None when no pixel is valid."""
    h, w = frame_next.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = xs + flow_back[..., 0], ys + flow_back[..., 1]
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    use = valid & inside
    if not use.any():
        return None
    warped = cv2.remap(frame_t, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    diff = np.abs(frame_next.astype(np.float32) - warped.astype(np.float32)).mean(axis=2) / 255
    return float(diff[use].mean())


def summary(rows: list[dict]) -> dict:
    """Every metric's mean over the rows that have it (None where none has; nan counts as
    not having it, so that the JSON stays plain)."""
    out = {}
    for key in METRICS:
        values = [r[key] for r in rows if r.get(key) is not None and np.isfinite(r[key])]
        out[key] = round(float(np.mean(values)), 4) if values else None
    return out


def beats(model: dict, baseline: dict) -> dict:
    """Per metric: whether the model does better than the baseline (None where either lacks
    it)."""
    higher = {"ssim", "psnr", "detected_fraction", "face_hands_found_fraction"}
    out = {}
    for key in METRICS:
        a, b = model.get(key), baseline.get(key)
        out[key] = None if a is None or b is None else bool(a > b if key in higher else a < b)
    return out
