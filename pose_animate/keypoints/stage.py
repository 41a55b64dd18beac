"""The keypoints stage: detect the subject in the frames, or import keypoints made elsewhere.

Output: `keypoints_raw/000000_keypoints.json ...` (OpenPose JSON in the extracted frames'
pixels, the subject only, empty `people` where nobody was found) and the stage record.
"""

from pathlib import Path

from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, read_image, read_json, write_json
from ..frames.crop import frame_source_indices, source_to_frame
from .detect import detect_folder
from .import_alphapose import import_alphapose_file
from .import_openpose import import_openpose_folder


def run_keypoints(frames_dir, frames_record, out_dir, record_path, cfg: dict, source=None,
                  subject: str | None = None) -> dict:
    """Detect (no `source`) or import `source` (an OpenPose JSON folder or an AlphaPose results
    file, in the source video's pixels); write `out_dir` and the record; return the record."""
    if source:
        record = import_keypoints(source, frames_dir, read_json(frames_record), out_dir, subject)
    else:
        record = detect_folder(frames_dir, out_dir, cfg, subject)
    write_json(record_path, record)
    return record


def import_keypoints(source, frames_dir, frames_record: dict, out_dir,
                     subject: str | None = None) -> dict:
    """Import through the frames stage's frame selection, crop and resize (its record)."""
    frames = list_frames(frames_dir)
    source_frames = [int(s) for s in frame_source_indices(frames_record)]
    if len(source_frames) != len(frames):
        raise PoseAnimateError(
            f"the frames record lists {len(source_frames)} frames, the folder holds "
            f"{len(frames)}.", subject=subject, path=frames_dir,
            fix="rerun the frames stage (snakemake --forcerun frames).")
    height, width = read_image(frames[0]).shape[:2]
    args = dict(n_source_frames=int(frames_record["probe"]["frames"]),
                frame_size=(width, height),
                to_frame=lambda points: source_to_frame(points, frames_record),
                source_frames=source_frames, subject=subject)
    if Path(source).is_dir():
        return import_openpose_folder(source, out_dir, **args)
    return import_alphapose_file(source, out_dir, **args)
