"""Import a folder of OpenPose JSON files (BODY_25, optional face and hands) for a subject.

OpenPose names its files after the input (`video_000000000000_keypoints.json`,
`frame00000_keypoints.json`, ...): the files are taken in natural order, one per source frame,
and renumbered to the frames' zero-based numbering. Their count must equal the source video's
frame count. Every file is validated by `formats.read_openpose`.
"""

import time
from pathlib import Path

import numpy as np

from ..core.errors import PoseAnimateError
from ..core.formats import natural_key, read_openpose
from .output import write_imported


def list_openpose_files(folder) -> list[Path]:
    """The folder's OpenPose JSON files in natural order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PoseAnimateError("the keypoints folder to import does not exist.",
                               path=folder, fix="correct the keypoints column of the subject "
                               "sheet, or leave it empty to detect keypoints.")
    files = sorted((p for p in folder.iterdir()
                    if p.suffix == ".json" and not p.name.startswith(".")), key=natural_key)
    if not files:
        raise PoseAnimateError("the keypoints folder holds no OpenPose .json files.",
                               path=folder,
                               fix="point the keypoints column at OpenPose's --write_json folder.")
    return files


def read_openpose_source(folder, n_source_frames: int, source_frames: list[int] | None = None
                         ) -> list[list[np.ndarray]]:
    """People (source pixels) for each extracted frame.

    The folder must hold one file per frame of the source video (`n_source_frames`);
    `source_frames[t]` is the source frame that extracted frame t came from (default: all of
    them, in order, when the frames stage kept every frame).
    """
    files = list_openpose_files(folder)
    if len(files) != n_source_frames:
        raise PoseAnimateError(
            f"{len(files)} OpenPose files for a video of {n_source_frames} frames.", path=folder,
            fix="import the OpenPose output of this very video, one JSON file per frame "
                "(OpenPose --write_json on the same video, without --frame_step).")
    if source_frames is None:
        source_frames = range(n_source_frames)
    return [read_openpose(files[s]) for s in source_frames]


def import_openpose_folder(folder, out_dir, n_source_frames: int, frame_size, to_frame=None,
                           source_frames: list[int] | None = None) -> dict:
    """Import, map to frame pixels, follow the subject, write `out_dir`; return the record."""
    started = time.perf_counter()
    candidates = read_openpose_source(folder, n_source_frames, source_frames)
    return write_imported(out_dir, candidates, "import openpose", frame_size, to_frame, started,
                          source=str(folder))
