"""QA pictures of the densepose and texture stages: IUV colour maps over frames, the texture
atlas with each part's coverage, and re-rendered next to real frames."""

from pathlib import Path

import cv2
import numpy as np

from ..core.body import DENSEPOSE_PARTS, N_PARTS
from ..core.draw import evenly_spaced as pick_frames
from ..core.formats import read_image, read_iuv
from .texture import TILE, rerender, tile_origin


def _part_colors() -> np.ndarray:
    """25 BGR colours: black background, then 24 well-separated hues."""
    hues = (np.arange(N_PARTS) * 7 % N_PARTS) * 180 // N_PARTS
    hsv = np.stack([hues, np.full(N_PARTS, 200), np.full(N_PARTS, 255)], -1).astype(np.uint8)
    colors = cv2.cvtColor(hsv[None], cv2.COLOR_HSV2BGR)[0]
    return np.vstack([[0, 0, 0], colors]).astype(np.uint8)


PART_COLORS = _part_colors()


def iuv_overlay(frame: np.ndarray, parts, u, v, alpha: float = 0.7) -> np.ndarray:
    """Part colours over the frame, darker towards U = 0 (the joint nearer the torso, or the
    bottom of torso and head), with each part's V = 0.5 line (its axis) in white."""
    out = frame.copy()
    fg = parts > 0
    shade = (0.35 + 0.65 * np.asarray(u)[fg])[:, None]
    out[fg] = (alpha * shade * PART_COLORS[parts[fg]] + (1 - alpha) * frame[fg]).astype(np.uint8)
    band = np.asarray(v) >= 0.5
    axis = np.zeros(parts.shape, bool)
    axis[:, 1:] |= (band[:, 1:] != band[:, :-1]) & (parts[:, 1:] == parts[:, :-1])
    axis[1:, :] |= (band[1:, :] != band[:-1, :]) & (parts[1:, :] == parts[:-1, :])
    out[axis & fg] = (255, 255, 255)
    return out


def contact_sheet(tiles: list[np.ndarray], columns: int, width: int = 1600) -> np.ndarray:
    """Tiles (same size) in a grid, scaled so that the sheet is `width` pixels wide."""
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * h, columns * w, 3), np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = tile
    scale = width / sheet.shape[1]
    return cv2.resize(sheet, (width, max(1, round(sheet.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _label(img, text, org=(6, 20), scale=0.5):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def iuv_sheet(frames: list[Path], iuv_dir, count: int = 12) -> np.ndarray:
    """IUV colour maps over evenly spaced frames."""
    tiles = []
    for t in pick_frames(len(frames), count):
        frame = read_image(frames[t])
        tiles.append(_label(iuv_overlay(frame, *read_iuv(Path(iuv_dir) / frames[t].name)),
                            f"frame {t}"))
    return contact_sheet(tiles, columns=min(6, len(tiles)))


def atlas_picture(texture: np.ndarray, coverage: dict) -> np.ndarray:
    """The atlas with each tile's part name and coverage (share of texels ever seen)."""
    out = texture.copy()
    for part in range(1, N_PARTS + 1):
        r, c = tile_origin(part)
        cv2.rectangle(out, (c, r), (c + TILE - 1, r + TILE - 1), (255, 255, 255), 1)
        name = DENSEPOSE_PARTS[part]
        _label(out, f"{part} {name[:18]}", (c + 4, r + 14), 0.38)
        _label(out, f"seen {100 * coverage.get(name, 0):.0f}%", (c + 4, r + 30), 0.38)
    return out


def rerender_sheet(frames: list[Path], iuv_dir, texture: np.ndarray,
                   count: int = 6) -> np.ndarray:
    """Pairs of columns: the real frame, and the texture re-rendered with its IUV over it."""
    tiles = []
    for t in pick_frames(len(frames), count):
        frame = read_image(frames[t])
        parts, u, v = read_iuv(Path(iuv_dir) / frames[t].name)
        tiles.append(_label(frame.copy(), f"frame {t}"))
        tiles.append(_label(rerender(texture, parts, u, v, background=frame), "re-rendered"))
    return contact_sheet(tiles, columns=min(6, len(tiles)))
