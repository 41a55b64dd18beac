"""QA of a subject's keypoints: a contact sheet (a picture) and an overlay video."""

from pathlib import Path

import numpy as np

from ..core.draw import contact_sheet, draw_skeleton, evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import keypoints_name, list_frames, read_image, read_openpose
from ..core.runlog import progress
from ..core.videoio import VideoWriter


def _pairs(frames_dir, keypoints_dir):
    frames = list_frames(frames_dir)
    files = [Path(keypoints_dir) / keypoints_name(t) for t in range(len(frames))]
    missing = [f for f in files if not f.is_file()]
    if missing or len(list(Path(keypoints_dir).glob("*_keypoints.json"))) != len(frames):
        raise PoseAnimateError(f"the keypoints folder does not match the {len(frames)} frames.",
                               path=keypoints_dir,
                               fix="rerun the keypoints stage (snakemake --forcerun keypoints).")
    return frames, files


def _drawn(frame_path, keypoints_path):
    image = read_image(frame_path)
    for person in read_openpose(keypoints_path):
        draw_skeleton(image, person)
    return image


def keypoints_sheet(frames_dir, keypoints_dir, n_frames: int = 16,
                    tile_width: int = 256) -> np.ndarray:
    """Skeletons over `n_frames` evenly spaced frames, each labelled with its frame number."""
    frames, files = _pairs(frames_dir, keypoints_dir)
    picked = evenly_spaced(len(frames), n_frames)
    tiles = [_drawn(frames[t], files[t]) for t in picked]
    cols = min(len(tiles), max(1, round(len(tiles) ** 0.5)))
    return contact_sheet(tiles, cols, [f"{t:06d}" for t in picked], tile_width=tile_width)


def keypoints_overlay(frames_dir, keypoints_dir, out_path, fps: float) -> int:
    """Every frame with its skeleton, as an H.264 video; returns the number of frames."""
    frames, files = _pairs(frames_dir, keypoints_dir)
    with VideoWriter(out_path, fps) as writer:
        for frame, keypoints in progress(zip(frames, files), total=len(frames), desc="overlay"):
            writer.write(_drawn(frame, keypoints))
    return writer.frames_written
