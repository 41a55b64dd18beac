"""Rasterise the figure: per pixel centre, the part on top, its local coordinates, the
DensePose IUV, the colour sampled from the atlas, and the exact optical flow.

Truth and image come from the same hard assignment of each pixel centre (no
anti-aliasing), so the image over the figure IS the atlas sampled at the IUV
(pose_animate.densepose.texture.rerender, the contract's nearest texel).
"""

from dataclasses import dataclass

import numpy as np

from .figure import PartShape


@dataclass
class Raster:
    slot: np.ndarray   # (H, W) int16: index into the part list of the part on top, -1 background
    s: np.ndarray      # (H, W) float64 local coordinates of that part (0 on background)
    c: np.ndarray


def rasterise(parts: list[PartShape], frames: list[tuple], size: int) -> Raster:
    """Draw the parts in order (later on top); each part only within its box's bounds."""
    slot = np.full((size, size), -1, np.int16)
    s_map = np.zeros((size, size))
    c_map = np.zeros((size, size))
    for k, (part, (o, ex, ey)) in enumerate(zip(parts, frames)):
        s0, s1, c0, c1 = part.box
        corners = np.array([o + s * ex + c * ey for s in (s0, s1) for c in (c0, c1)])
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int), size - 1)
        if x0 > x1 or y0 > y1:
            continue
        ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1].astype(np.float64)
        dx, dy = xs - o[0], ys - o[1]
        s = dx * ex[0] + dy * ex[1]
        c = dx * ey[0] + dy * ey[1]
        inside = (s >= s0) & (s <= s1) & (c >= c0) & (c <= c1) & part.inside(s, c)
        window = (slice(y0, y1 + 1), slice(x0, x1 + 1))
        slot[window][inside] = k
        s_map[window][inside] = s[inside]
        c_map[window][inside] = c[inside]
    return Raster(slot, s_map, c_map)


def iuv(raster: Raster, parts: list[PartShape]):
    """(I uint8, U float32, V float32): DensePose part, and (s, c) normalised by its box."""
    fg = raster.slot >= 0
    lookup = np.array([p.dp for p in parts] + [0], np.uint8)  # slot -1 -> last entry, 0
    I = lookup[raster.slot]
    boxes = np.array([p.box for p in parts] + [(0, 1, 0, 1)], np.float64)
    b = boxes[raster.slot]
    U = np.where(fg, (raster.s - b[..., 0]) / (b[..., 1] - b[..., 0]), 0)
    V = np.where(fg, (raster.c - b[..., 2]) / (b[..., 3] - b[..., 2]), 0)
    return I, np.clip(U, 0, 1).astype(np.float32), np.clip(V, 0, 1).astype(np.float32)


def flow(raster: Raster, frames_to: list[tuple], background_motion) -> np.ndarray:
    """(H, W, 2) float32: where each pixel's surface point is in the other frame minus here.

    raster: this frame; frames_to: every part's frame in the other frame; the background
    moves by `background_motion` pixels.
    """
    size = raster.slot.shape[0]
    out = np.empty((size, size, 2))
    out[...] = background_motion
    fg = raster.slot >= 0
    k = raster.slot[fg]
    o, ex, ey = (np.array([f[i] for f in frames_to]) for i in range(3))
    ys, xs = np.nonzero(fg)
    s, c = raster.s[fg][:, None], raster.c[fg][:, None]
    out[fg] = o[k] + s * ex[k] + c * ey[k] - np.stack([xs, ys], 1)
    return out.astype(np.float32)
