"""Readers and writers of the on-disk formats: one of each, used everywhere.

- OpenPose JSON (`000000_keypoints.json`): people with BODY_25, 70 face and 2 x 21 hand points.
- Middlebury `.flo` optical flow (float32, `PIEH` tag).
- IUV PNG: channel 0 (as cv2 reads it) = part index I, 1 = U x 255, 2 = V x 255.
- Frame names: zero-based, dense, six digits.
"""

import json
import re
from pathlib import Path

import cv2
import numpy as np

from .atomic import atomic_file
from .body import FACE, HAND_LEFT, HAND_RIGHT, BODY, N_BODY, N_FACE, N_HAND, N_POINTS
from .errors import PoseAnimateError, disk_full_error, disk_is_full

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_OPENPOSE_FIELDS = [("pose_keypoints_2d", BODY, N_BODY), ("face_keypoints_2d", FACE, N_FACE),
                    ("hand_left_keypoints_2d", HAND_LEFT, N_HAND),
                    ("hand_right_keypoints_2d", HAND_RIGHT, N_HAND)]
FLO_TAG = 202021.25  # b"PIEH" read as a little-endian float32


def frame_name(index: int, suffix: str = ".png") -> str:
    return f"{index:06d}{suffix}"


def keypoints_name(index: int) -> str:
    return f"{index:06d}_keypoints.json"


def natural_key(path) -> list:
    """Sort key that orders frame2 before frame10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", Path(path).name)]


def list_images(folder) -> list[Path]:
    folder = Path(folder)
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith(".")), key=natural_key)


def list_frames(folder, suffix: str = ".png") -> list[Path]:
    """The frames of a dataset folder, checked to be dense and zero-based."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PoseAnimateError("frame folder is missing.", path=folder,
                               fix="run the frames stage first (snakemake ... frames).")
    frames = sorted(folder.glob(f"[0-9]*{suffix}"))
    for i, p in enumerate(frames):
        if p.name != frame_name(i, suffix):
            raise PoseAnimateError(
                f"frames are not dense and zero-based: expected {frame_name(i, suffix)}, "
                f"found {p.name}.", path=folder,
                fix="rerun the frames stage (snakemake --forcerun frames).")
    return frames


# ---- OpenPose JSON ---------------------------------------------------------------------

def read_openpose(path) -> list[np.ndarray]:
    """People of one OpenPose JSON file, each a (137, 3) float32 array (missing parts zero)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoseAnimateError(f"not a readable OpenPose JSON file ({exc}).", path=path,
                               fix="regenerate it or remove it from the keypoints folder.")
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise PoseAnimateError("OpenPose JSON has no 'people' list.", path=path,
                               fix="check that this is an OpenPose output file.")
    people = []
    for k, entry in enumerate(data["people"]):
        person = np.zeros((N_POINTS, 3), np.float32)
        for field, where, count in _OPENPOSE_FIELDS:
            values = entry.get(field) or []
            if field == "pose_keypoints_2d" and len(values) == 18 * 3:
                raise PoseAnimateError(
                    f"person {k} has 18 pose points (OpenPose COCO-18); BODY_25 is expected.",
                    path=path, fix="run OpenPose with --model_pose BODY_25.")
            if len(values) not in (0, count * 3):
                raise PoseAnimateError(
                    f"person {k}: '{field}' has {len(values)} values, expected {count * 3} "
                    f"({count} points x [x, y, c]).", path=path,
                    fix="regenerate the file with OpenPose BODY_25 (+ face and hands).")
            if values:
                try:
                    person[where] = np.asarray(values, np.float32).reshape(count, 3)
                except (TypeError, ValueError):
                    raise PoseAnimateError(f"person {k}: '{field}' holds non-numbers.",
                                           path=path, fix="regenerate the file.")
        if not np.isfinite(person).all():
            raise PoseAnimateError(f"person {k} has NaN or infinite values.", path=path,
                                   fix="regenerate the file.")
        people.append(person)
    return people


def openpose_dict(people) -> dict:
    out = []
    for person in people:
        entry = {"person_id": [-1]}
        for field, where, _ in _OPENPOSE_FIELDS:
            entry[field] = [round(float(v), 3) for v in np.asarray(person)[where].reshape(-1)]
        for field in ("pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
                      "hand_right_keypoints_3d"):
            entry[field] = []
        out.append(entry)
    return {"version": 1.3, "people": out}


def write_openpose(path, people) -> None:
    """Write people (each (137, 3)) as one OpenPose JSON file, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(openpose_dict(people)))


def read_openpose_folder(folder, n_frames: int | None = None) -> np.ndarray:
    """A dataset's keypoints as (T, 137, 3): the first person of each frame, zeros if nobody.

    Files are `000000_keypoints.json`...; with `n_frames` the count is checked.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*_keypoints.json"))
    if n_frames is not None and len(files) != n_frames:
        raise PoseAnimateError(f"{len(files)} keypoint files for {n_frames} frames.",
                               path=folder, fix="rerun the keypoints stage for this subject.")
    seq = np.zeros((len(files), N_POINTS, 3), np.float32)
    for t, f in enumerate(files):
        if f.name != keypoints_name(t):
            raise PoseAnimateError(f"keypoint files are not dense: expected {keypoints_name(t)},"
                                   f" found {f.name}.", path=folder,
                                   fix="rerun the keypoints stage for this subject.")
        people = read_openpose(f)
        if people:
            seq[t] = people[0]
    return seq


def write_openpose_folder(folder, seq) -> None:
    """Write a (T, 137, 3) sequence into an existing folder, one file per frame.

    A frame whose points are all missing is written with an empty `people` list.
    """
    folder = Path(folder)
    for t, person in enumerate(seq):
        people = [person] if np.any(person[:, 2] > 0) else []
        (folder / keypoints_name(t)).write_text(json.dumps(openpose_dict(people)))


# ---- Middlebury .flo -------------------------------------------------------------------

def read_flo(path) -> np.ndarray:
    """(H, W, 2) float32 flow in pixels; raises a clear error on a wrong header or size."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 12 or np.frombuffer(raw[:4], "<f4")[0] != FLO_TAG:
        raise PoseAnimateError("not a Middlebury .flo file (missing 'PIEH' tag).", path=path,
                               fix="regenerate the flow or check the import folder.")
    width, height = (int(v) for v in np.frombuffer(raw[4:12], "<i4"))
    expected = 12 + width * height * 8
    if width <= 0 or height <= 0 or len(raw) != expected:
        raise PoseAnimateError(f".flo header says {width}x{height} but the file has "
                               f"{len(raw)} bytes, expected {expected}.", path=path,
                               fix="the file is truncated or corrupt: regenerate it.")
    return np.frombuffer(raw[12:], "<f4").reshape(height, width, 2).copy()


_FLO_CHUNK = 1 << 16


def write_flo(path, flow: np.ndarray) -> None:
    flow = np.asarray(flow, "<f4")
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    height, width = flow.shape[:2]
    data = memoryview(np.ascontiguousarray(flow)).cast("B")
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(np.array([FLO_TAG], "<f4").tobytes())
            f.write(np.array([width, height], "<i4").tobytes())
            # In 64 KiB pieces: on ext4 under Linux 6.18 one 2 MB write() took ~5x the CPU
            # time (6 ms vs 1.1 ms per 512x512 flow, measured; 256 KiB pieces were as slow).
            for start in range(0, len(data), _FLO_CHUNK):
                f.write(data[start:start + _FLO_CHUNK])


# ---- IUV PNG ---------------------------------------------------------------------------

def read_iuv(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I uint8 0..24, U float32 0..1, V float32 0..1) of one IUV PNG."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise PoseAnimateError("not an 8-bit 3-channel IUV PNG.", path=path,
                               fix="regenerate it with the densepose stage.")
    if img[..., 0].max() > 24:
        raise PoseAnimateError(f"part index {int(img[..., 0].max())} > 24 in channel 0.",
                               path=path, fix="channel 0 must hold the DensePose part I.")
    return img[..., 0].copy(), img[..., 1] / np.float32(255), img[..., 2] / np.float32(255)


def write_iuv(path, parts: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Write an IUV PNG; U and V in 0..1 (ignored where parts == 0)."""
    parts = np.asarray(parts, np.uint8)
    fg = parts > 0
    img = np.zeros(parts.shape + (3,), np.uint8)
    img[..., 0] = parts
    img[..., 1] = np.where(fg, np.clip(np.rint(np.asarray(u) * 255), 0, 255), 0)
    img[..., 2] = np.where(fg, np.clip(np.rint(np.asarray(v) * 255), 0, 255), 0)
    write_image(path, img)


# ---- images and JSON -------------------------------------------------------------------

def read_image(path, flags=cv2.IMREAD_COLOR) -> np.ndarray:
    img = cv2.imread(str(path), flags)
    if img is None:
        raise PoseAnimateError("cannot read this image.", path=path,
                               fix="check that the file is a valid image and not truncated.")
    return img


def write_image(path, img: np.ndarray, params=()) -> None:
    """Write an image (BGR as cv2 expects) atomically; format from the suffix."""
    path = Path(path)
    with atomic_file(path) as tmp:
        if not cv2.imwrite(str(tmp), img, list(params)):
            if disk_is_full(path.parent):
                raise disk_full_error(path)
            raise PoseAnimateError("cv2 could not write this image.", path=path,
                                   fix="check the folder is writable and the disk not full.")


def read_json(path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PoseAnimateError(f"cannot read JSON ({exc}).", path=path,
                               fix="rerun the stage that writes it.")


def write_json(path, data) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def read_fps(path) -> float:
    """A subject's frame rate from the frames stage's record or the dataset's meta.json."""
    meta = read_json(path)
    # the frames record itself ({"fps": ...}) or the dataset's meta.json ({"frames": {...}})
    for where in (meta, meta.get("frames")):
        if isinstance(where, dict) and isinstance(where.get("fps"), (int, float)):
            return float(where["fps"])
    raise PoseAnimateError("the record holds no frame rate.", path=path,
                           fix="rerun the frames stage (it records fps).")
