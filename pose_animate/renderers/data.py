"""A subject's dataset folder at a model's size, shared by training and evaluation.

Frames (and masks and IUV when the family reads them) are decoded once, resized to the model's
size and cached as memory-mapped .npy files in the run's cache folder (shared by DataLoader
workers through the page cache; memory does not grow with video length). Keypoints are read
whole (small); the background plate is kept in tensor layout.
"""

import hashlib
import json
import math
from pathlib import Path

import cv2
import numpy as np

from ..appearance.flow import consistency_u8
from ..core.atomic import atomic_file, write_text
from ..core.errors import PoseAnimateError
from ..core.formats import read_flo, read_image, read_iuv, read_openpose_folder
from ..core.frameseq import FrameSequence
from ..core.runlog import progress
from ..densepose.texture import ATLAS_SHAPE
from .metrics import resize_flow
from .posemap import image_to_tensor_layout, iuv_channels, model_size


def heldout_start(n_frames: int, fraction: float) -> int:
    """Index of the first held-out frame: the last `fraction` of the frames (at least one when
    fraction > 0 and there are two frames or more) never enter training."""
    if fraction <= 0 or n_frames < 2:
        return n_frames
    return n_frames - min(n_frames - 1, max(1, math.ceil(fraction * n_frames)))


class FileDigests:
    """Content digests of files, remembered in `store` (a JSON file) by path, size and
    modification time: a file is read once per change, and a stage that rewrites identical
    files (a rerun upstream) changes no signature, so training resumes instead of restarting."""

    def __init__(self, store):
        self.store = Path(store)
        try:
            self.known = json.loads(self.store.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.changed = False

    def digest(self, path) -> str:
        path = Path(path)
        st = path.stat()
        key, stamp = str(path.resolve()), [st.st_size, st.st_mtime_ns]
        entry = self.known.get(key)
        if entry and entry[:2] == stamp:
            return entry[2]
        h = hashlib.sha1()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        self.known[key] = stamp + [h.hexdigest()]
        self.changed = True
        return self.known[key][2]

    def signature(self, paths) -> str:
        """Changes when a file of `paths` is renamed or its content changes."""
        h = hashlib.sha1()
        for p in paths:
            h.update(f"{Path(p).name}:{self.digest(p)};".encode())
        return h.hexdigest()[:12]

    def save(self) -> None:
        if self.changed:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            write_text(self.store, json.dumps(self.known))
            self.changed = False


class SubjectData:
    """The dataset folder `folder` at the model's size (`size` long side, sides multiples of
    `multiple`), reading the `parts` a family needs (see renderers.family.DATASET_PARTS).

    `image(t)` is frame t (3, H, W) in -1..1 and `image_bgr(t)` the same as BGR uint8,
    `mask(t)` its 0/1 mask (or None), `iuv(t)` its (3, H, W) IUV channels (or None),
    `keypoints` the (T, 137, 3) cleaned keypoints in frame pixels, `background` the plate in
    tensor layout (or None), `texture` the texture atlas (BGR, 1200 x 800) or None.
    With "flow_inv" (and "flow", for its validity), `flow_back(t)` is the (2, H, W) flow from
    frame t+1 to frame t at the model's size and `flow_valid(t)` its (H, W) 0/1 reliability
    (the forward-backward consistency the flow stage uses).
    """

    def __init__(self, folder, parts, *, size: int, multiple: int, cache_dir):
        self.folder, self.parts = Path(folder), tuple(parts)
        self.cache_dir = Path(cache_dir)
        self.digests = FileDigests(self.cache_dir / "digests.json")
        frames = FrameSequence(self.folder / "frames")
        self.n = len(frames)
        self.frame_hw = tuple(frames.size)
        self.map_hw = model_size(self.frame_hw, size, multiple)
        self.keypoints = read_openpose_folder(self.folder / "openpose_json", self.n)
        self._images_path = self._cache(frames.paths, "frames", self._load_frame(frames))
        self._masks_path = None
        if "mask" in self.parts:
            paths = self._dense(self.folder / "mask", ".png", "masks", "masks")
            self._masks_path = self._cache(paths, "mask", lambda t: self._resize(
                read_image(paths[t], cv2.IMREAD_GRAYSCALE), cv2.INTER_AREA) > 127)
        self._iuv_path = None
        if "densepose" in self.parts:
            paths = self._dense(self.folder / "densepose", ".png", "IUV images", "densepose")
            self._iuv_path = self._cache(paths, "iuv", lambda t: iuv_channels(
                *read_iuv(paths[t]), self.map_hw).transpose(1, 2, 0).astype(np.float16))
        self.background = None
        if "bg.jpg" in self.parts:
            bg_path = self.folder / "bg.jpg"
            if not bg_path.exists():
                raise PoseAnimateError("the model reads the background plate but the dataset "
                                       "has none.", path=bg_path,
                                       fix="run the background stage, or switch the family's "
                                           "use_background off.")
            self.background = image_to_tensor_layout(read_image(bg_path), self.map_hw)
        self.texture = None
        if "texture.jpg" in self.parts:
            self.texture = self._read_texture(self.folder / "texture.jpg")
        self._flow_path = self._valid_path = None
        if "flow_inv" in self.parts:
            self._cache_flows()
        self.digests.save()
        self._arrays = {}  # opened lazily, so that DataLoader workers open their own maps

    @staticmethod
    def _read_texture(path: Path) -> np.ndarray:
        if not path.exists():
            raise PoseAnimateError("the model reads the body texture but the dataset has none.",
                                   path=path, fix="run the texture stage (snakemake "
                                                  "--forcerun texture) for this subject.")
        texture = read_image(path)
        if texture.shape[:2] != ATLAS_SHAPE:
            raise PoseAnimateError(
                f"the texture is {texture.shape[1]}x{texture.shape[0]}, the atlas of the "
                f"dataset contract is {ATLAS_SHAPE[1]}x{ATLAS_SHAPE[0]} (24 tiles of "
                "200 x 200).", path=path,
                fix="rerun the texture stage; a texture made elsewhere must use the same "
                    "atlas layout.")
        return texture

    def _cache_flows(self) -> None:
        """Backward flow (t+1 -> t) at the model's size, and where it agrees with the forward
        flow; cached like the frames."""
        n_pairs = self.n - 1
        back = self._dense(self.folder / "flow_inv", ".flo", "backward flow files", "flow",
                           n_pairs)
        fwd = self._dense(self.folder / "flow", ".flo", "forward flow files", "flow", n_pairs)

        def read(path):
            flow = read_flo(path)
            if flow.shape[:2] != self.frame_hw:
                raise PoseAnimateError(
                    f"flow is {flow.shape[1]}x{flow.shape[0]} but the frames are "
                    f"{self.frame_hw[1]}x{self.frame_hw[0]}.", path=path,
                    fix="rerun the flow stage (snakemake --forcerun flow) on these frames.")
            return flow

        h, w = self.map_hw
        self._flow_path = self._cache(back + fwd, "flowback", lambda t: resize_flow(
            read(back[t]), self.map_hw).astype(np.float16), count=n_pairs)
        self._valid_path = self._cache(back + fwd, "flowvalid", lambda t: cv2.resize(
            consistency_u8(read(back[t]), read(fwd[t])), (w, h),
            interpolation=cv2.INTER_NEAREST) >= 128, count=n_pairs)

    def _load_frame(self, frames: FrameSequence):
        return lambda t: self._resize(frames.read(t), cv2.INTER_AREA)

    def _resize(self, img, interpolation):
        h, w = self.map_hw
        return cv2.resize(img, (w, h), interpolation=interpolation)

    def _dense(self, folder: Path, suffix: str, what: str, stage: str,
               count: int | None = None) -> list[Path]:
        """The `count` (default: one per frame) files 000000<suffix>... of `folder`, which the
        rule `stage` writes."""
        count = self.n if count is None else count
        paths = sorted(folder.glob(f"[0-9]*{suffix}")) if folder.is_dir() else []
        if len(paths) != count or any(p.name != f"{i:06d}{suffix}" for i, p in enumerate(paths)):
            raise PoseAnimateError(f"{len(paths)} {what} for {self.n} frames (or not named "
                                   f"000000{suffix}... densely).", path=folder,
                                   fix=f"rerun the {stage} stage for this subject (snakemake "
                                       f"--forcerun {stage}), or switch its input off in the "
                                       "family's settings where the family allows it.")
        return paths

    def _cache(self, paths, name: str, load, count: int | None = None) -> Path:
        """`name`_HxW_<signature>.npy holding load(t) for t < count (default: every frame);
        built once, atomically."""
        count = self.n if count is None else count
        h, w = self.map_hw
        path = self.cache_dir / f"{name}_{h}x{w}_{self.digests.signature(paths)}.npy"
        if path.exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for old in self.cache_dir.glob(f"{name}_*.npy"):
            old.unlink()
        first = np.asarray(load(0))
        with atomic_file(path) as tmp:
            arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=first.dtype,
                                            shape=(count,) + first.shape)
            arr[0] = first
            for t in progress(range(1, count), total=count - 1, desc=f"caching {name}"):
                arr[t] = load(t)
            arr.flush()
            del arr
        return path

    def _array(self, key: str, path: Path) -> np.ndarray:
        if key not in self._arrays:
            self._arrays[key] = np.load(path, mmap_mode="r")
        return self._arrays[key]

    def __getstate__(self):  # workers started by spawn re-open the maps themselves
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    @property
    def signature(self) -> str:
        """Changes when the frames, keypoints, masks, IUV or plate the model sees change."""
        h = hashlib.sha1(self.keypoints.tobytes())
        for path in (self._images_path, self._masks_path, self._iuv_path):
            h.update(str(path.name if path else None).encode())
        if self._flow_path is not None:
            h.update(self._flow_path.name.encode())
        for array in (self.background, self.texture):
            if array is not None:
                h.update(array.tobytes())
        return h.hexdigest()[:16]

    def image_bgr(self, t: int) -> np.ndarray:
        return np.asarray(self._array("images", self._images_path)[t])

    def image(self, t: int) -> np.ndarray:
        return image_to_tensor_layout(self.image_bgr(t), self.map_hw)

    def mask(self, t: int):
        if self._masks_path is None:
            return None
        return np.asarray(self._array("masks", self._masks_path)[t], np.float32)

    def iuv(self, t: int):
        if self._iuv_path is None:
            return None
        return np.asarray(self._array("iuv", self._iuv_path)[t], np.float32).transpose(2, 0, 1)

    def part_index(self, t: int) -> np.ndarray:
        """(H, W) uint8 0..24: frame t's DensePose part of each pixel (the I channel)."""
        return np.rint(self.iuv(t)[0] * 24).astype(np.uint8)

    def flow_back(self, t: int) -> np.ndarray:
        """(2, H, W) float32: where each pixel of frame t+1 was in frame t (flow_inv/t)."""
        flow = self._array("flowback", self._flow_path)[t]
        return np.asarray(flow, np.float32).transpose(2, 0, 1)

    def flow_valid(self, t: int) -> np.ndarray:
        """(H, W) float32 0/1: the pixels of frame t+1 whose backward flow is reliable."""
        return np.asarray(self._array("flowvalid", self._valid_path)[t], np.float32)
