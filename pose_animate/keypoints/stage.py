"""The keypoints stage: detect the subject in the frames (a bundled backend, or the OpenPose /
AlphaPose program the config names), or import keypoints made elsewhere.

Output: `keypoints_raw/000000_keypoints.json ...` (OpenPose JSON in the extracted frames'
pixels, the subject only, empty `people` where nobody was found); the stage returns its record.
"""

from pathlib import Path

from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, read_image, read_json
from ..frames.crop import frame_source_indices, source_to_frame
from .detect import detect_folder
from .import_alphapose import import_alphapose_file
from .import_openpose import import_openpose_folder
from .programs import PROGRAMS, run_program


def find_keypoints(frames_dir, frames_record, out_dir, settings: dict, *, source=None) -> dict:
    """The keypoints stage: detect (no `source`) or import `source` (an OpenPose JSON folder or
    an AlphaPose results file, in the source video's pixels) into `out_dir`; return the record.

    `frames_record` is the frames stage's record file (frames.json; read only to import);
    `settings` is the config's `keypoints` section."""
    if source:
        return import_keypoints(source, frames_dir, read_json(frames_record), out_dir,
                                accept_short=settings["accept_short_alphapose"])
    if settings["backend"] in PROGRAMS:
        return run_program(frames_dir, out_dir, settings)
    return detect_folder(frames_dir, out_dir, settings)


def import_keypoints(source, frames_dir, frames_record: dict, out_dir, *,
                     accept_short: bool = False) -> dict:
    """Import through the frames stage's frame selection, crop and resize (its record);
    `accept_short`: see keypoints.accept_short_alphapose."""
    frames = list_frames(frames_dir)
    source_frames = [int(s) for s in frame_source_indices(frames_record)]
    if len(source_frames) != len(frames):
        raise PoseAnimateError(
            f"the frames record lists {len(source_frames)} frames, the folder holds "
            f"{len(frames)}.", path=frames_dir,
            fix="rerun the frames stage (snakemake --forcerun frames).")
    height, width = read_image(frames[0]).shape[:2]
    args = dict(n_source_frames=int(frames_record["probe"]["frames"]),
                frame_size=(width, height),
                to_frame=lambda points: source_to_frame(points, frames_record),
                source_frames=source_frames)
    if Path(source).is_dir():
        return import_openpose_folder(source, out_dir, **args)
    return import_alphapose_file(source, out_dir, **args, accept_short=accept_short)
