"""DensePose chart outputs -> IUV in frame pixels: the conversion users most often get wrong.

DensePose R-CNN predicts, per detected box, at a fixed head resolution (typically 112 x 112):
coarse segmentation (2 channels: background / person), fine segmentation (25 channels:
background + 24 parts), and U and V (25 channels each, one chart per part), all as raw scores.
`apply_net.py dump` stores the result already resampled to the box (`DensePoseChartResult`:
labels [H, W] and uv [2, H, W] at the box's integer size). This module turns either form into
frame-sized I, U, V arrays, exactly as DensePose's own converters do:

- the box (x0, y0, x1, y1 floats) becomes integer x, y, w, h by truncation (DensePose's
  `make_int_box` on the XYWH box), and the result is pasted at [y:y+h, x:x+w];
- scores are resized to (h, w) bilinearly (half-pixel centres, `align_corners=False`) and
  only then arg-maxed: labels are never interpolated, and a result whose labels are not at the
  box size is resized with nearest neighbour for labels and per-part bilinear for U and V;
- U and V of a pixel are read from the chart of its own label;
- the output order is I, U, V (I = part index 0..24, U and V in 0..1), the contract's order.
"""

import base64

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..core.body import N_PARTS


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu()
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def int_box(box_xyxy) -> tuple[int, int, int, int]:
    """(x, y, w, h) integers of a float XYXY box, as DensePose's `make_int_box` truncates the
    XYWH box (w and h at least 1)."""
    x0, y0, x1, y1 = (float(c) for c in _as_numpy(box_xyxy).reshape(-1)[:4])
    x, y, w, h = int(x0), int(y0), int(x1 - x0), int(y1 - y0)
    return x, y, max(w, 1), max(h, 1)


def chart_output_to_result(coarse_segm, fine_segm, u, v, box_xyxy):
    """One box's raw predictor output -> (labels [h, w] uint8, U, V [h, w] float32) at the
    box's integer size.

    `coarse_segm` is [2, Hs, Ws] (or [1, 2, Hs, Ws]), `fine_segm`, `u`, `v` are [25, Hs, Ws];
    torch tensors or numpy arrays.
    """
    _, _, w, h = int_box(box_xyxy)
    tensors = []
    for x in (coarse_segm, fine_segm, u, v):
        t = _as_tensor(x)
        tensors.append(t[None] if t.dim() == 3 else t)
    coarse, fine, u_t, v_t = (F.interpolate(t, (h, w), mode="bilinear", align_corners=False)[0]
                              for t in tensors)
    if fine.shape[0] != N_PARTS + 1 or u_t.shape[0] != N_PARTS + 1:
        raise ValueError(f"fine segmentation and U/V need {N_PARTS + 1} channels, got "
                         f"{fine.shape[0]} and {u_t.shape[0]}")
    labels = fine.argmax(0) * (coarse.argmax(0) > 0)
    index = labels[None].long()
    u_px = torch.gather(u_t, 0, index)[0]
    v_px = torch.gather(v_t, 0, index)[0]
    fg = labels > 0
    return (labels.numpy().astype(np.uint8),
            torch.where(fg, u_px, 0).clamp(0, 1).numpy().astype(np.float32),
            torch.where(fg, v_px, 0).clamp(0, 1).numpy().astype(np.float32))


def result_to_box_size(labels, uv, box_xyxy):
    """A chart result (labels [H, W], uv [2, H, W]) brought to the box's integer size.

    Results from `apply_net` are already at that size and pass through unchanged; others are
    resized with nearest neighbour for labels and bilinear within each part for U and V (a
    plain bilinear resize would mix the charts of neighbouring parts at their borders).
    """
    labels = _as_numpy(labels).astype(np.uint8)
    uv = _as_numpy(uv).astype(np.float32)
    if uv.ndim != 3 or uv.shape[0] != 2 or uv.shape[1:] != labels.shape:
        raise ValueError(f"uv must be [2, H, W] matching labels {labels.shape}, got {uv.shape}")
    _, _, w, h = int_box(box_xyxy)
    if labels.shape == (h, w):
        return labels, uv[0], uv[1]
    new_labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    u = np.zeros((h, w), np.float32)
    v = np.zeros((h, w), np.float32)
    for part in np.unique(new_labels):
        if part == 0:
            continue
        inside = (labels == part).astype(np.float32)
        weight = cv2.resize(inside, (w, h), interpolation=cv2.INTER_LINEAR)
        sel = (new_labels == part) & (weight > 1e-6)
        for src, dst in ((uv[0], u), (uv[1], v)):
            value = cv2.resize(src * inside, (w, h), interpolation=cv2.INTER_LINEAR)
            dst[sel] = value[sel] / weight[sel]
    return new_labels, np.clip(u, 0, 1), np.clip(v, 0, 1)


def decode_quantized(labels_uv_uint8):
    """`DensePoseChartResultQuantized.labels_uv_uint8` [3, H, W] -> (labels, uv [2, H, W])."""
    arr = _as_numpy(labels_uv_uint8)
    return arr[0].astype(np.uint8), arr[1:].astype(np.float32) / 255


def decode_compressed(shape_chw, labels_uv_str: str):
    """`DensePoseChartResultCompressed` (a base64 PNG of the [3, H, W] quantized result,
    written by PIL from an H x W x 3 array: channel 0 is the labels) -> (labels, uv)."""
    png = np.frombuffer(base64.decodebytes(labels_uv_str.encode()), np.uint8)
    img = cv2.imdecode(png, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError("cannot decode the compressed DensePose result")
    rgb = img[..., ::-1] if img.ndim == 3 else img   # cv2 decodes to BGR; PIL wrote RGB
    return decode_quantized(np.moveaxis(rgb, -1, 0).reshape(shape_chw))


def paste(frame_shape, results, boxes_xyxy, scores=None):
    """Frame-sized (I, U, V) from per-box results [(labels, U, V) at box size].

    Boxes are pasted from the lowest score to the highest, so where people overlap the more
    confident detection wins; parts of a box outside the frame are cut off.
    """
    height, width = frame_shape[:2]
    parts = np.zeros((height, width), np.uint8)
    u = np.zeros((height, width), np.float32)
    v = np.zeros((height, width), np.float32)
    order = range(len(results)) if scores is None else np.argsort(_as_numpy(scores),
                                                                  kind="stable")
    for k in order:
        labels, u_box, v_box = results[k]
        x, y, w, h = int_box(boxes_xyxy[k])
        if labels.shape != (h, w):
            raise ValueError(f"box {k}: result is {labels.shape}, box is {(h, w)}")
        fx0, fy0 = max(x, 0), max(y, 0)
        fx1, fy1 = min(x + w, width), min(y + h, height)
        if fx1 <= fx0 or fy1 <= fy0:
            continue
        box_part = (slice(fy0 - y, fy1 - y), slice(fx0 - x, fx1 - x))
        frame_part = (slice(fy0, fy1), slice(fx0, fx1))
        fg = labels[box_part] > 0
        parts[frame_part][fg] = labels[box_part][fg]
        u[frame_part][fg] = u_box[box_part][fg]
        v[frame_part][fg] = v_box[box_part][fg]
    return parts, u, v


def select_person(boxes_xyxy, scores, person: np.ndarray | None = None, min_score: float = 0.0):
    """Index of the box of the subject: the one holding most of the subject's visible body
    keypoints (ties and no keypoints: the highest score), or None when no box passes
    `min_score`."""
    boxes = _as_numpy(boxes_xyxy).reshape(-1, 4)
    scores = _as_numpy(scores).reshape(-1) if scores is not None else np.ones(len(boxes))
    keep = np.flatnonzero(scores >= min_score)
    if len(keep) == 0:
        return None
    hits = np.zeros(len(boxes))
    if person is not None:
        pts = person[:25][person[:25, 2] > 0.05, :2]
        for k in keep:
            x0, y0, x1, y1 = boxes[k]
            hits[k] = np.sum((pts[:, 0] >= x0) & (pts[:, 0] <= x1) &
                             (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
    return int(max(keep, key=lambda k: (hits[k], scores[k])))
