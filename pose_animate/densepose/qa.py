"""QA pictures of the densepose and texture stages: IUV colour maps over frames, the texture
atlas with each part's coverage, and re-rendered next to real frames."""

from pathlib import Path

import cv2
import numpy as np

from ..core.body import DENSEPOSE_PARTS, N_PARTS
from ..core.draw import contact_sheet, evenly_spaced as pick_frames
from ..core.formats import list_frames, read_image, read_iuv
from .texture import TILE, rerender, tile_origin

SHEET_WIDTH, SHEET_GAP = 1600, 4  # px: the sheets' width whatever the frame size; tile gap


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


def _label(img, text, org=(6, 20), scale=0.5):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def _tile_width(columns: int) -> int:
    """Tile width that makes a sheet of `columns` tiles SHEET_WIDTH pixels wide."""
    return (SHEET_WIDTH - (columns + 1) * SHEET_GAP) // columns


def iuv_sheet(frames_dir, iuv_dir, count: int = 12) -> np.ndarray:
    """IUV colour maps over evenly spaced frames of `frames_dir` (the IUV PNGs of `iuv_dir`
    have the frames' names)."""
    frames = list_frames(frames_dir)
    tiles, labels = [], []
    for t in pick_frames(len(frames), count):
        frame = read_image(frames[t])
        tiles.append(iuv_overlay(frame, *read_iuv(Path(iuv_dir) / frames[t].name)))
        labels.append(f"frame {t}")
    columns = min(6, len(tiles))
    return contact_sheet(tiles, columns, labels=labels, tile_width=_tile_width(columns),
                         gap=SHEET_GAP)


def atlas_picture(texture_path, record: dict) -> np.ndarray:
    """The atlas as written (the JPEG the dataset holds, not the in-memory one) with each
    tile's part name and coverage (share of texels ever seen, from the texture record)."""
    out = read_image(texture_path)
    coverage = record["coverage"]
    for part in range(1, N_PARTS + 1):
        r, c = tile_origin(part)
        cv2.rectangle(out, (c, r), (c + TILE - 1, r + TILE - 1), (255, 255, 255), 1)
        name = DENSEPOSE_PARTS[part]
        _label(out, f"{part} {name[:18]}", (c + 4, r + 14), 0.38)
        _label(out, f"seen {100 * coverage.get(name, 0):.0f}%", (c + 4, r + 30), 0.38)
    return out


def rerender_sheet(frames_dir, iuv_dir, texture_path, count: int = 6) -> np.ndarray:
    """Pairs of columns: the real frame, and the texture as written re-rendered with its IUV
    over it."""
    frames = list_frames(frames_dir)
    texture = read_image(texture_path)
    tiles, labels = [], []
    for t in pick_frames(len(frames), count):
        frame = read_image(frames[t])
        parts, u, v = read_iuv(Path(iuv_dir) / frames[t].name)
        tiles += [frame, rerender(texture, parts, u, v, background=frame)]
        labels += [f"frame {t}", "re-rendered"]
    columns = min(6, len(tiles))
    return contact_sheet(tiles, columns, labels=labels, tile_width=_tile_width(columns),
                         gap=SHEET_GAP)
