"""The unfolded body texture: frames + IUV -> the 24-part atlas, and back (re-render).

Atlas (the on-disk contract, as the neural video rendering seed uses it): 1200 rows x 800
columns, 24 tiles of 200 x 200 in 6 rows x 4 columns; the tile in column i, row j holds part
6 * i + j + 1, indexed [v, u] with v flipped: texel row 199 - round(v * 199), column
round(u * 199) inside the tile. `unfold` and `rerender` use the same `texel_index`.

Unfolding blends every frame's pixels into the texels they show, weighted by how directly the
texel was seen: a pixel that covers many texels (the surface seen edge-on, or from far) counts
less than one that covers a fraction of a texel, and pixels at part borders (where colours mix
and labels are least sure) count less than interior ones. A texel seen rarely or only
glancingly is pulled towards its seen neighbours (`neighbour_prior`: the weight, in direct
views, of the neighbourhood's colour), which removes the speckle that single mislabelled
pixels leave; 0 keeps every texel's own blend. Texels never seen are filled from
the seen ones of the same part only (no colour crosses a tile border); a part never seen takes
its front/back twin's tile, else the mean colour of everything seen.
"""

import time
from pathlib import Path

import cv2
import numpy as np

from ..core.body import DENSEPOSE_PARTS, N_PARTS, PART
from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, read_image, read_iuv, write_image
from ..core.runlog import log, progress

TILE = 200
ATLAS_ROWS, ATLAS_COLS = 6, 4
ATLAS_SHAPE = (ATLAS_ROWS * TILE, ATLAS_COLS * TILE)
SHRINK_SIGMA = 1.5   # texels: the neighbourhood a weakly seen texel is pulled towards


def tile_origin(part: int) -> tuple[int, int]:
    """(row, column) of the top-left texel of `part`'s tile (part 1..24)."""
    i, j = divmod(part - 1, ATLAS_ROWS)
    return j * TILE, i * TILE


def texel_index(parts, u, v):
    """(row, column) atlas indices of pixels with part `parts` (> 0) and coordinates u, v."""
    parts = np.asarray(parts).astype(np.int64)
    i, j = np.divmod(parts - 1, ATLAS_ROWS)
    row = j * TILE + (TILE - 1) - np.rint(np.clip(v, 0, 1) * (TILE - 1)).astype(np.int64)
    col = i * TILE + np.rint(np.clip(u, 0, 1) * (TILE - 1)).astype(np.int64)
    return row, col


def rerender(texture: np.ndarray, parts, u, v, background=None) -> np.ndarray:
    """Image of the body: each foreground pixel takes its texel (nearest, the contract's
    rounding); background pixels are `background` (an image or a colour) or black."""
    texture = np.asarray(texture)
    if texture.shape[:2] != ATLAS_SHAPE:
        raise ValueError(f"texture must be {ATLAS_SHAPE[0]}x{ATLAS_SHAPE[1]}, got "
                         f"{texture.shape[:2]}")
    parts = np.asarray(parts)
    out = np.zeros(parts.shape + texture.shape[2:], texture.dtype)
    if background is not None:
        out[:] = background
    fg = parts > 0
    row, col = texel_index(parts[fg], np.asarray(u)[fg], np.asarray(v)[fg])
    out[fg] = texture[row, col]
    return out


def _pixel_weights(parts, u, v):
    """How directly each pixel saw its texel, in (0, 1].

    The texel footprint of a pixel is |det d(u, v)/d(x, y)| x 199^2 (texels per pixel, from
    finite differences inside the same part); weight 1 / (1 + footprint). Pixels within two
    pixels of a part border get their weight scaled down to a third.
    """
    same_x = parts[:, 1:] == parts[:, :-1]
    same_y = parts[1:, :] == parts[:-1, :]
    grads = []
    for c in (u, v):
        gx = np.zeros_like(c)
        gy = np.zeros_like(c)
        gx[:, :-1] = np.where(same_x, c[:, 1:] - c[:, :-1], 0)
        gy[:-1, :] = np.where(same_y, c[1:, :] - c[:-1, :], 0)
        grads.append((gx, gy))
    (ux, uy), (vx, vy) = grads
    footprint = np.abs(ux * vy - uy * vx) * (TILE - 1) ** 2
    weight = 1.0 / (1.0 + footprint)
    border = np.zeros(parts.shape, np.uint8)
    border[:, 1:] |= ~same_x
    border[:, :-1] |= ~same_x
    border[1:, :] |= ~same_y
    border[:-1, :] |= ~same_y
    inner = cv2.distanceTransform(1 - border, cv2.DIST_L2, 3)
    return (weight * np.clip((inner + 1) / 3, 1 / 3, 1)).astype(np.float64)


class TextureAccumulator:
    """Streaming unfold: add frames one by one, then `finish()`. Memory does not grow with
    the number of frames."""

    def __init__(self, neighbour_prior: float = 0.25):
        self.neighbour_prior = neighbour_prior
        n = ATLAS_SHAPE[0] * ATLAS_SHAPE[1]
        self.color = np.zeros((n, 3))
        self.weight = np.zeros(n)
        self.seen = np.zeros(n, np.int64)       # frames in which each texel was seen
        self.frames = 0

    def add(self, image: np.ndarray, parts, u, v) -> None:
        parts = np.asarray(parts)
        if image.shape[:2] != parts.shape:
            raise ValueError(f"image {image.shape[:2]} and IUV {parts.shape} differ in size")
        self.frames += 1
        fg = parts > 0
        if not fg.any():
            return
        weight = _pixel_weights(parts, np.asarray(u, np.float64), np.asarray(v, np.float64))[fg]
        row, col = texel_index(parts[fg], np.asarray(u)[fg], np.asarray(v)[fg])
        flat = row * ATLAS_SHAPE[1] + col
        n = len(self.weight)
        pixels = image[fg].astype(np.float64)
        for c in range(3):
            self.color[:, c] += np.bincount(flat, weight * pixels[:, c], minlength=n)
        self.weight += np.bincount(flat, weight, minlength=n)
        self.seen += np.bincount(np.unique(flat), minlength=n)

    def finish(self) -> tuple[np.ndarray, dict]:
        """(atlas uint8 BGR 1200 x 800 x 3, record with per-part coverage)."""
        seen = (self.weight > 0).reshape(ATLAS_SHAPE)
        color_sum = self.color.reshape(ATLAS_SHAPE + (3,))
        weight = self.weight.reshape(ATLAS_SHAPE)
        atlas = np.zeros(ATLAS_SHAPE + (3,))
        for part in range(1, N_PARTS + 1):
            r, c = tile_origin(part)
            tile = (slice(r, r + TILE), slice(c, c + TILE))
            atlas[tile] = shrink_to_neighbours(color_sum[tile], weight[tile],
                                               self.neighbour_prior)
        counts = self.seen.reshape(ATLAS_SHAPE)
        mean_color = atlas[seen].mean(axis=0) if seen.any() else np.full(3, 128.0)
        out = np.zeros(ATLAS_SHAPE + (3,), np.uint8)
        coverage, views, seen_parts = {}, {}, set()
        for part in range(1, N_PARTS + 1):
            r, c = tile_origin(part)
            tile = (slice(r, r + TILE), slice(c, c + TILE))
            name = DENSEPOSE_PARTS[part]
            coverage[name] = round(float(seen[tile].mean()), 4)
            views[name] = round(float(counts[tile][seen[tile]].mean()), 2) if seen[tile].any() \
                else 0.0
            if seen[tile].any():
                seen_parts.add(part)
                out[tile] = fill_holes(atlas[tile], seen[tile])
        for part in set(range(1, N_PARTS + 1)) - seen_parts:   # the twin, else the mean
            r, c = tile_origin(part)
            twin = twin_part(part)
            if twin in seen_parts:
                tr, tc = tile_origin(twin)
                out[r:r + TILE, c:c + TILE] = out[tr:tr + TILE, tc:tc + TILE]
            else:
                out[r:r + TILE, c:c + TILE] = np.clip(np.rint(mean_color), 0, 255)
        record = {"frames": self.frames,
                  "coverage": coverage,
                  "mean_coverage": round(float(np.mean(list(coverage.values()))), 4),
                  "mean_views_per_texel": views,
                  "parts_never_seen": [DENSEPOSE_PARTS[p] for p in range(1, N_PARTS + 1)
                                       if p not in seen_parts]}
        return out, record


def twin_part(part: int) -> int | None:
    """The same body region seen from the other side (front <-> back, head right <-> left)."""
    name = DENSEPOSE_PARTS[part]
    for a, b in (("front", "back"), ("right", "left")):
        if name.endswith(a):
            return PART[name[: -len(a)] + b]
        if name.endswith(b):
            return PART[name[: -len(b)] + a]
    return None


def shrink_to_neighbours(color_sum: np.ndarray, weight: np.ndarray,
                         prior: float) -> np.ndarray:
    """Texel colours of one tile from the blended sums, each pulled towards its seen
    neighbours (Gaussian, SHRINK_SIGMA texels) with the weight of `prior` direct views:
    a texel seen often and squarely keeps its own colour, one seen once at a part border (a
    background or neighbouring-part pixel, most likely) takes its neighbours'. Unseen texels
    are 0 (filled later)."""
    num = cv2.GaussianBlur(color_sum.astype(np.float32), (0, 0), SHRINK_SIGMA,
                           borderType=cv2.BORDER_REFLECT)
    den = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), SHRINK_SIGMA,
                           borderType=cv2.BORDER_REFLECT)
    smooth = num / np.maximum(den, 1e-12)[..., None]
    seen = weight > 0
    out = np.zeros(color_sum.shape)
    out[seen] = (color_sum[seen] + prior * smooth[seen]) / (weight[seen] + prior)[:, None]
    return out


def fill_holes(tile: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """A tile (float colours) with unseen texels filled from the seen ones by normalized
    convolution at growing scales (nearest seen colours dominate; smooth, no tile crossing)."""
    filled = np.where(seen[..., None], tile, 0).astype(np.float32)
    known = seen.astype(np.float32)
    result = filled.copy()
    todo = ~seen
    sigma = 1.0
    while todo.any() and sigma < 4 * TILE:
        num = cv2.GaussianBlur(filled, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        den = cv2.GaussianBlur(known, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        ok = todo & (den > 1e-8)
        result[ok] = num[ok] / den[ok, None]
        todo &= ~ok
        sigma *= 2
    result[todo] = tile[seen].mean(axis=0)
    return np.clip(np.rint(result), 0, 255).astype(np.uint8)


def unfold_folder(frames: list[Path], iuv_dir, frame_step: int = 1,
                  neighbour_prior: float = 0.25) -> tuple[np.ndarray, dict]:
    """Atlas and record from a subject's frames and IUV PNGs (same names), every
    `frame_step`-th frame."""
    acc = TextureAccumulator(neighbour_prior)
    for frame in progress(frames[::frame_step], desc="unfold texture"):
        image, iuv_path = read_image(frame), _iuv_path(iuv_dir, frame)
        parts, u, v = read_iuv(iuv_path)
        if parts.shape != image.shape[:2]:
            raise PoseAnimateError(
                f"IUV is {parts.shape[1]}x{parts.shape[0]}, the frame {image.shape[1]}x"
                f"{image.shape[0]}.", path=iuv_path,
                fix="rerun the densepose stage after the frames stage "
                    "(snakemake --forcerun densepose).")
        acc.add(image, parts, u, v)
    return acc.finish()


def _iuv_path(iuv_dir, frame: Path) -> Path:
    path = Path(iuv_dir) / frame.name
    if not path.exists():
        raise PoseAnimateError(f"no IUV for frame {frame.name}.", path=path,
                               fix="rerun the densepose stage (snakemake --forcerun densepose).")
    return path


def rerender_psnr(frames: list[Path], iuv_dir, texture: np.ndarray) -> dict:
    """PSNR over the person (IUV foreground) of the re-rendered frames against the real ones:
    mean over frames, and over all person pixels together."""
    per_frame, sq_sum, count = [], 0.0, 0
    for frame in frames:
        real = read_image(frame)
        parts, u, v = read_iuv(_iuv_path(iuv_dir, frame))
        fg = parts > 0
        if not fg.any():
            continue
        rendered = rerender(texture, parts, u, v)
        diff = real[fg].astype(np.float64) - rendered[fg]
        sq_sum += float(np.sum(diff ** 2))
        count += diff.size
        per_frame.append(person_psnr(real, rendered, fg))
    if not count:
        return {"psnr_db_mean": None, "psnr_db_pooled": None}
    pooled = 10 * np.log10(255.0 ** 2 / max(sq_sum / count, 1e-12))
    return {"psnr_db_mean": round(float(np.mean(per_frame)), 2),
            "psnr_db_pooled": round(float(pooled), 2)}


def build_texture(frames_dir, iuv_dir, texture_path, settings: dict) -> dict:
    """The texture stage: unfold, write texture.jpg (atomically), return the record (coverage
    per part, re-render PSNR over the person). `settings` is the config's `texture` section."""
    start = time.perf_counter()
    frame_step, neighbour_prior = settings["frame_step"], settings["neighbour_prior"]
    frames = list_frames(frames_dir)
    if not frames:
        raise PoseAnimateError("the frame folder holds no frames.", path=frames_dir,
                               fix="rerun the frames stage.")
    atlas, record = unfold_folder(frames, iuv_dir, frame_step, neighbour_prior)
    write_image(texture_path, atlas, [cv2.IMWRITE_JPEG_QUALITY, int(settings["jpeg_quality"])])
    stored = read_image(texture_path)           # measure what users get: the JPEG
    record["rerender"] = rerender_psnr(frames, iuv_dir, stored)
    record.update(frame_step=frame_step, neighbour_prior=neighbour_prior)
    record["seconds"] = round(time.perf_counter() - start, 2)
    log.info("texture: %d frames unfolded, mean coverage %.0f %%, re-render PSNR %s dB over the "
             "person, %.1f s -> %s", record["frames"], 100 * record["mean_coverage"],
             record["rerender"]["psnr_db_mean"], record["seconds"], texture_path)
    return record


def person_psnr(real: np.ndarray, rendered: np.ndarray, fg: np.ndarray) -> float:
    """PSNR (dB) over the pixels `fg` (the person) of two uint8 images."""
    if not fg.any():
        return float("nan")
    diff = real[fg].astype(np.float64) - rendered[fg].astype(np.float64)
    mse = float(np.mean(diff ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
