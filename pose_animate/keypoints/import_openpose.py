"""Import a folder of OpenPose JSON files (BODY_25, optional face and hands) for a subject.

OpenPose names its files after the input (`video_000000000000_keypoints.json`,
`frame00000_keypoints.json`, ...): the number before `_keypoints.json` is the frame. The
numbers must run without a gap, a duplicate or an extra from the first one (0 or 1) over the
source video's frame count: a missing file would otherwise give every later frame its
neighbour's keypoints. Every file is validated by `formats.read_openpose`.
"""

import re
import time
from pathlib import Path

import numpy as np

from ..core.errors import PoseAnimateError
from ..core.formats import natural_key, read_openpose
from .output import write_imported

FRAME_NUMBER = re.compile(r"(\d+)(?:_keypoints)?\.json$")


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
    files = numbered_files(folder, n_source_frames)
    if source_frames is None:
        source_frames = range(n_source_frames)
    return [read_openpose(files[s]) for s in source_frames]


def _listed(numbers) -> str:
    numbers = sorted(numbers)
    return ", ".join(map(str, numbers[:8])) + (f" (and {len(numbers) - 8} more)"
                                               if len(numbers) > 8 else "")


def numbered_files(folder, n_source_frames: int) -> list[Path]:
    """The folder's OpenPose files by the frame number in their names: file k of the list is
    source frame k. A gap, a duplicate or a number past the video is an error naming them."""
    fix = ("import the OpenPose output of this very video, one JSON file per frame "
           "(OpenPose --write_json on the same video, without --frame_step).")
    by_number = {}
    for path in list_openpose_files(folder):
        match = FRAME_NUMBER.search(path.name)
        if match is None:
            raise PoseAnimateError("an OpenPose file without a frame number in its name.",
                                   path=path, fix=fix)
        by_number.setdefault(int(match.group(1)), []).append(path)
    twice = {n: paths for n, paths in by_number.items() if len(paths) > 1}
    if twice:
        n, paths = min(twice.items())
        raise PoseAnimateError(
            f"frame numbers {_listed(twice)} appear in two files or more (e.g. "
            f"{', '.join(p.name for p in paths)}).", path=folder,
            fix="keep one OpenPose output per frame in the folder.")
    first = min(by_number)
    wanted = set(range(first, first + n_source_frames))
    missing, extra = wanted - set(by_number), set(by_number) - wanted
    if missing or extra:
        problems = ([f"frames {_listed(missing)} are missing"] if missing else []) + (
            [f"frames {_listed(extra)} are past the video's {n_source_frames} frames "
             f"(numbered from {first})"] if extra else [])
        raise PoseAnimateError(f"the OpenPose files do not match the video: "
                               f"{'; '.join(problems)}.", path=folder, fix=fix)
    return [by_number[n][0] for n in range(first, first + n_source_frames)]


def import_openpose_folder(folder, out_dir, n_source_frames: int, frame_size, to_frame=None,
                           source_frames: list[int] | None = None) -> dict:
    """Import, map to frame pixels, follow the subject, write `out_dir`; return the record."""
    started = time.perf_counter()
    candidates = read_openpose_source(folder, n_source_frames, source_frames)
    return write_imported(out_dir, candidates, "import openpose", frame_size, to_frame, started,
                          source=str(folder))
