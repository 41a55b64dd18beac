"""Import an AlphaPose results file (`alphapose-results.json`) for a subject.

The file is a JSON list with one entry per detected person:
`{"image_id": "12.jpg", "keypoints": [x, y, score, ...], "score": s, "idx": track id}`.
The layout comes from the number of points: COCO-17, Halpe-26 or COCO-WholeBody 133 (see
`mapping`). The frame is the number in `image_id` ("12.jpg", "frame_000012.png" or 12);
AlphaPose writes zero-based numbers for videos, and numbers that run 1..N (a folder of images
numbered from one) are shifted to zero-based. Frames with nobody have no entry at all, so a
number beyond the video's frame count is what betrays a file made for another video.
"""

import json
import re
import time
from pathlib import Path

import numpy as np

from ..core.errors import PoseAnimateError
from ..core.runlog import log
from .mapping import BODY_LAYOUTS
from .output import write_imported

_FIX = "import the AlphaPose results of this very video (alphapose-results.json)."


def _frame_number(image_id, path) -> int:
    if isinstance(image_id, int) and image_id >= 0:
        return image_id
    digits = re.findall(r"\d+", Path(str(image_id)).stem)
    if not digits:
        raise PoseAnimateError(f"image_id {image_id!r} holds no frame number.", path=path,
                               fix=_FIX)
    return int(digits[-1])


def read_alphapose(path, n_source_frames: int, accept_short: bool = False
                   ) -> list[list[np.ndarray]]:
    """People of each source frame, each mapped to (137, 3) in source pixels. Results that end
    before the last tenth of the video are an error (most likely a file for a shorter video)
    unless `accept_short`."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoseAnimateError(f"not a readable AlphaPose results file ({exc}).", path=path,
                               fix=_FIX)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PoseAnimateError("an AlphaPose results file is a JSON list of people.", path=path,
                               fix="run AlphaPose with its default --format (not cmu/open).")
    people = []
    for k, entry in enumerate(entries):
        if "image_id" not in entry or "keypoints" not in entry:
            raise PoseAnimateError(f"entry {k} lacks 'image_id' or 'keypoints'.", path=path,
                                   fix=_FIX)
        values = entry["keypoints"]
        count = len(values) // 3 if isinstance(values, list) else -1
        if count not in BODY_LAYOUTS or len(values) != count * 3:
            raise PoseAnimateError(
                f"entry {k} has {len(values) if isinstance(values, list) else 'no'} keypoint "
                f"values; expected 51 (COCO-17), 78 (Halpe-26) or 399 (COCO-WholeBody 133).",
                path=path, fix="run AlphaPose with a COCO-17, Halpe-26 or COCO-WholeBody "
                               "model.")
        try:
            points = np.asarray(values, np.float32).reshape(count, 3)
        except (TypeError, ValueError):
            raise PoseAnimateError(f"entry {k} has keypoints that are not numbers.", path=path,
                                   fix=_FIX)
        if not np.isfinite(points).all():
            raise PoseAnimateError(f"entry {k} has NaN or infinite keypoints.", path=path,
                                   fix=_FIX)
        people.append((_frame_number(entry["image_id"], path), BODY_LAYOUTS[count](points)))
    numbers = [t for t, _ in people]
    if numbers and min(numbers) >= 1 and max(numbers) == n_source_frames:
        people = [(t - 1, p) for t, p in people]
        numbers = [t - 1 for t in numbers]
    if numbers and max(numbers) >= n_source_frames:
        raise PoseAnimateError(
            f"results reach frame {max(numbers)}, but the video has {n_source_frames} frames "
            f"(0..{n_source_frames - 1}): the file is for another video.", path=path, fix=_FIX)
    last = max(numbers, default=-1)
    if last < 0.9 * (n_source_frames - 1):
        if not accept_short:
            raise PoseAnimateError(
                f"results end at frame {last}, but the video has {n_source_frames} frames: "
                f"the last {n_source_frames - 1 - last} would have nobody. The file is most "
                f"likely for a shorter video.", path=path,
                fix=_FIX[:-1] + ", or set keypoints.accept_short_alphapose: true if nobody is "
                                "in those frames.")
        log.warning("AlphaPose results end at frame %d of %d: the last frames get nobody "
                    "(keypoints.accept_short_alphapose).", last, n_source_frames)
    frames = [[] for _ in range(n_source_frames)]
    for t, person in people:
        frames[t].append(person)
    return frames


def import_alphapose_file(path, out_dir, n_source_frames: int, frame_size, to_frame=None,
                          source_frames: list[int] | None = None,
                          accept_short: bool = False) -> dict:
    """Import, map to frame pixels, follow the subject, write `out_dir`; return the record."""
    started = time.perf_counter()
    frames = read_alphapose(path, n_source_frames, accept_short)
    if source_frames is not None:
        frames = [frames[s] for s in source_frames]
    return write_imported(out_dir, frames, "import alphapose", frame_size, to_frame, started,
                          source=str(path))
