"""Reading a dataset's frames in order, one at a time, with a checked common size.

The masks, background and flow stages all stream `frames/000000.png ...`; a frame whose size
differs from the first one is a broken frames stage, reported with the file and the fix.
"""

from pathlib import Path

import cv2
import numpy as np

from .errors import PoseAnimateError
from .formats import list_frames, read_image


class FrameSequence:
    """The frames of a folder: `len()`, `size` (H, W) and `read(t)` checked against it."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.paths = list_frames(self.folder)
        if not self.paths:
            raise PoseAnimateError("the frame folder holds no frames.", path=self.folder,
                                   fix="rerun the frames stage.")
        first = read_image(self.paths[0], cv2.IMREAD_GRAYSCALE)
        self.size = first.shape[:2]

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, t: int, gray: bool = False) -> np.ndarray:
        img = read_image(self.paths[t], cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
        if img.shape[:2] != self.size:
            raise PoseAnimateError(
                f"frame is {img.shape[1]}x{img.shape[0]} but {self.paths[0].name} is "
                f"{self.size[1]}x{self.size[0]}: all frames of a subject must have one size.",
                path=self.paths[t],
                fix="rerun the frames stage (snakemake --forcerun frames) so every frame is "
                    "cropped and resized alike.")
        return img
