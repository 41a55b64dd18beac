"""What an export reads: a subject's dataset folder, checked, and the geometry of a resize.

`Subject(folder, raw=...)` holds the paths of one dataset folder (`results/subjects/{subject}`)
and reads its parts on demand, each checked against the frame count, so an export never pairs
frames and keypoints of different lengths. `Fit` maps frame pixels into another image size
(scaled to fit, centred, the rest black), for frames, masks, IUV and keypoints alike, so
they stay on one grid after any resize.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..core.errors import PoseAnimateError
from ..core.formats import read_fps, read_openpose_folder
from ..core.frameseq import FrameSequence

# The parts a layout may read (its PARTS): dataset-folder entries, the raw keypoints, and "fps"
# (the frames stage's record). The stage (and config section) that makes each, for errors.
MADE_BY = {"frames": "frames", "openpose_json": "clean", "keypoints_raw": "keypoints",
           "mask": "masks", "densepose": "densepose", "flow": "flow", "flow_inv": "flow",
           "bg.jpg": "background", "texture.jpg": "texture", "fps": "frames"}


class Subject:
    """One subject's dataset folder (and its raw keypoints folder, for the noisy skeletons)."""

    def __init__(self, name: str, folder, raw=None, record=None):
        self.name, self.folder = name, Path(folder)
        self.raw = Path(raw) if raw else None
        self.record = Path(record) if record else None  # the frames stage's (its fps)
        try:
            self.seq = FrameSequence(self.part("frames"))
        except PoseAnimateError as exc:
            raise exc.name_job(subject=name)
        self.frames, self.size = self.seq.paths, self.seq.size  # size: (H, W)

    def __len__(self) -> int:
        return len(self.frames)

    def part(self, name: str) -> Path:
        path = self.raw if name == "keypoints_raw" else self.folder / name
        if path is None or not path.exists():
            raise PoseAnimateError(
                f"the export needs '{name}', which is missing.", subject=self.name, path=path,
                fix=f"let the workflow build it (the {MADE_BY.get(name, name)} stage), or "
                    f"rerun it: snakemake --forcerun {MADE_BY.get(name, name)}.")
        return path

    @property
    def fps(self) -> float:
        if self.record is None:
            raise ValueError(f"subject {self.name}: no frames record given (its fps)")
        return read_fps(self.record)

    def keypoints(self, raw: bool = False) -> np.ndarray:
        """(T, 137, 3) in frame pixels: the cleaned skeletons, or the detector's raw ones."""
        return read_openpose_folder(self.part("keypoints_raw" if raw else "openpose_json"),
                                    n_frames=len(self))

    def listed(self, part: str, suffix: str, count: int | None = None) -> list[Path]:
        """The files of a per-frame part, checked to number `count` (default: one per frame)."""
        files = sorted(self.part(part).glob(f"[0-9]*{suffix}"))
        want = len(self) if count is None else count
        if len(files) != want:
            raise PoseAnimateError(
                f"'{part}' holds {len(files)} files for {len(self)} frames (expected {want}).",
                subject=self.name, path=self.part(part),
                fix=f"rerun the {MADE_BY[part]} stage: snakemake --forcerun {MADE_BY[part]}.")
        return files

    def image(self, t: int) -> np.ndarray:
        try:
            return self.seq.read(t)
        except PoseAnimateError as exc:
            raise exc.name_job(subject=self.name)

    def check_size(self, path, img: np.ndarray) -> np.ndarray:
        """`img` (a mask, IUV or plate read from `path`), checked to be on the frames' grid."""
        if img.shape[:2] != self.size:
            raise PoseAnimateError(
                f"is {img.shape[1]}x{img.shape[0]} but the frames are "
                f"{self.size[1]}x{self.size[0]}.", subject=self.name, path=path,
                fix=f"rerun the stage that made it after the frames stage "
                    f"(snakemake --forcerun {MADE_BY.get(Path(path).parent.name, 'frames')}).")
        return img


@dataclass(frozen=True)
class Fit:
    """Frame pixels (h, w) -> an image of (height, width): resized to fit, centred on black;
    stretch=True resizes each axis on its own instead (no bars). Keypoints map as x * scale +
    offset, as the consumers scale their own keypoints after a resize."""
    h: int
    w: int
    height: int
    width: int
    stretch: bool = False

    @property
    def content(self) -> tuple[int, int]:
        """(width, height) of the resized frame inside the image."""
        if self.stretch:
            return self.width, self.height
        s = min(self.width / self.w, self.height / self.h)
        return min(self.width, max(1, round(self.w * s))), min(self.height, max(1, round(self.h * s)))

    @property
    def scales(self) -> tuple[float, float]:
        cw, ch = self.content
        return cw / self.w, ch / self.h

    @property
    def offset(self) -> tuple[int, int]:
        cw, ch = self.content
        return (self.width - cw) // 2, (self.height - ch) // 2

    @property
    def identity(self) -> bool:
        return (self.h, self.w) == (self.height, self.width)

    def image(self, img: np.ndarray, nearest: bool = False) -> np.ndarray:
        """`img` on the target grid; `nearest` for labels (IUV part indices)."""
        if self.identity:
            return img
        (cw, ch), (ox, oy) = self.content, self.offset
        shrink = cw < self.w and ch < self.h
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
        resized = cv2.resize(img, (cw, ch), interpolation=interp)
        if (cw, ch) == (self.width, self.height):
            return resized
        out = np.zeros((self.height, self.width) + img.shape[2:], img.dtype)
        out[oy:oy + ch, ox:ox + cw] = resized
        return out

    def points(self, person: np.ndarray) -> np.ndarray:
        """Keypoints (..., 3) [x, y, c] in frame pixels -> target pixels; missing stay 0."""
        out = np.array(person, np.float32, copy=True)
        (sx, sy), (ox, oy) = self.scales, self.offset
        seen = out[..., 2] > 0
        out[..., 0] = np.where(seen, out[..., 0] * sx + ox, 0)
        out[..., 1] = np.where(seen, out[..., 1] * sy + oy, 0)
        return out

    def flow(self, flow: np.ndarray) -> np.ndarray:
        """A (h, w, 2) flow in frame pixels on the target grid, in target pixels (bilinear:
        cubic overshoots at motion edges)."""
        if self.identity:
            return flow
        (cw, ch), (ox, oy) = self.content, self.offset
        resized = cv2.resize(np.ascontiguousarray(flow, np.float32), (cw, ch),
                             interpolation=cv2.INTER_LINEAR) * np.float32(self.scales)
        out = np.zeros((self.height, self.width, 2), np.float32)
        out[oy:oy + ch, ox:ox + cw] = resized
        return out
