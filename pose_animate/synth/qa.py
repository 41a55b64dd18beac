"""QA picture of a demo clip's ground truth: per sampled frame, the frame, the exact
skeleton over it, the IUV parts, the mask, and the forward flow."""

from pathlib import Path

import cv2
import numpy as np

from ..appearance.flow import flow_to_color
from ..core.draw import contact_sheet, draw_skeleton, evenly_spaced
from ..core.formats import (frame_name, keypoints_name, list_frames, read_flo, read_image,
                            read_iuv, read_openpose)
from ..densepose.qa import iuv_overlay


def truth_sheet(truth_dir, n_frames: int = 4, tile_width: int = 256) -> np.ndarray:
    """One row per sampled frame: frame | skeleton | IUV | mask | flow t -> t+1 (a BGR
    picture)."""
    truth = Path(truth_dir)
    n = len(list_frames(truth / "frames"))
    tiles, labels = [], []
    for t in evenly_spaced(max(n - 1, 1), n_frames):  # frames that have a forward flow
        frame = read_image(truth / "frames" / frame_name(t))
        people = read_openpose(truth / "keypoints" / keypoints_name(t))
        skeleton = draw_skeleton(frame.copy(), people[0]) if people else frame.copy()
        parts, u, v = read_iuv(truth / "iuv" / frame_name(t))
        mask = read_image(truth / "mask" / frame_name(t), cv2.IMREAD_GRAYSCALE)
        flo = truth / "flow" / frame_name(t, ".flo")
        flow = flow_to_color(read_flo(flo)) if flo.exists() else np.zeros_like(frame)
        tiles += [frame, skeleton, iuv_overlay(frame, parts, u, v), mask, flow]
        labels += [f"frame {t}", "keypoints", "IUV", "mask", "flow t->t+1"]
    return contact_sheet(tiles, cols=5, labels=labels, tile_width=tile_width)
