"""The clean_keypoints stage: a folder of raw OpenPose JSON in, the dataset's cleaned
openpose_json/ out (written atomically), and the record of what cleaning changed.

The algorithms are in filters.py (and motion_net.py for the optional learned filter); this
module maps the config's `clean` section onto them.
"""

import time

from ..core.atomic import atomic_dir
from ..core.errors import PoseAnimateError
from ..core.formats import read_openpose_folder, write_openpose_folder
from ..core.runlog import log
from .filters import clean_sequence, second_difference_jitter, valid_mask


def clean_keypoints(raw_dir, out_dir, settings: dict, *, net_path=None) -> dict:
    """Clean the raw keypoints in `raw_dir` into `out_dir`; return the record.

    `settings` is the config's `clean` section; `net_path` a motion net checkpoint
    (`motion_net.checkpoint`) whose joints replace the classical filter's output, or None
    for classical cleaning only.
    """
    net = None
    if net_path:
        # Only here: torch's import costs a second that classical cleaning does not need.
        from .motion_net import load_motion_net

        net = load_motion_net(net_path)
    start = time.perf_counter()
    seq = read_openpose_folder(raw_dir)
    if len(seq) == 0:
        raise PoseAnimateError("no *_keypoints.json files to clean.", path=raw_dir,
                               fix="rerun the keypoints stage for this subject.")
    cleaned, counts = clean_sequence(
        seq, min_confidence=settings["min_confidence"], max_gap=settings["max_gap"],
        swap_repair=settings["swap_repair"], outliers=settings["outliers"],
        confidence_weighted=settings["confidence_weighted"], filters=settings["filters"],
        net=net)
    with atomic_dir(out_dir) as tmp:
        write_openpose_folder(tmp, cleaned)
    record = {
        "method": "classical + motion net" if net else "classical",
        "motion_net": net.path if net else None,
        "frames": len(seq),
        "frames_with_person_raw": int((valid_mask(seq).any(1)).sum()),
        "frames_with_person_cleaned": int((cleaned[..., 2] > 0).any(1).sum()),
        **counts,
        "body_jitter_px_raw": second_difference_jitter(seq),
        "body_jitter_px_cleaned": second_difference_jitter(cleaned),
        "seconds": round(time.perf_counter() - start, 3),
        "options": settings,
    }
    log.info("cleaned %d frames: %d outliers, %d swapped chain-frames, %d points filled; "
             "body jitter %.2f -> %.2f px; %.1f s -> %s", record["frames"], counts["outliers"],
             counts["swapped_chain_frames"], counts["filled"], record["body_jitter_px_raw"],
             record["body_jitter_px_cleaned"], record["seconds"], out_dir)
    return record
