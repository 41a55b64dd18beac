"""The speech-driven Pose2Img seed's keypoint files, read into the pipeline's (T, 137, 3) people.

- A gesture file (`.npz`, what its speech model generates): `poses_pred_batch` of shape
  (1, T, 2, 121), the seed's 122 points (core.skeletons.POSE122_FROM: body 0-7, the eyes,
  face 70 and both hands 21) without the neck, in pixels relative to the neck. The seed turns
  it into an image's pixels by putting the neck back at index 1 (at 0, 0), dividing by its
  inference scale and adding the speaker's mean neck position; `read_gestures` does the same.
  Points the file does not have (the hips, legs and feet, the ears) are missing. Driving
  another subject with it, normalization by the shoulders (clean.normalize) then matches the
  speaker's size and place.
- A (3, 137) array (`.npy`, one frame: rows x, y, confidence over BODY_25, face 70, left and
  right hand 21, in that image's pixels): `read_pose137`.

NaN or infinite points in either are missing points (confidence 0), counted in the result's
`invalid`; a file whose every point is invalid is an error.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_dir
from ..core.body import J, N_POINTS
from ..core.errors import PoseAnimateError
from ..core.formats import write_openpose_folder
from ..core.runlog import log
from ..core.skeletons import POSE122_FROM

GESTURE_KEY = "poses_pred_batch"
GESTURE_POINTS = len(POSE122_FROM) - 1  # the neck is left out
NECK_IN_122 = POSE122_FROM.index(J["Neck"])


@dataclass
class Gestures:
    people: np.ndarray  # (T, 137, 3) in pixels, missing points 0, 0, 0
    invalid: int  # NaN or infinite points read as missing


def read_gestures(path, neck=(0.0, 0.0), scale: float = 1.0) -> Gestures:
    """A gesture npz as (T, 137, 3) people: the neck at `neck` (the speaker's mean neck, in
    pixels) and the other points at neck + offset / `scale` (see the module docstring)."""
    path = Path(path)
    try:
        archive = np.load(path)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("a single array (.npy), not an .npz archive")
        with archive:
            if GESTURE_KEY not in archive.files:
                raise PoseAnimateError(
                    f"the gesture file has no '{GESTURE_KEY}' (it has: "
                    f"{', '.join(archive.files) or 'nothing'}).", path=path,
                    fix="give the npz the speech-driven seed's inference writes.")
            poses = np.asarray(archive[GESTURE_KEY], np.float64)
    except (OSError, ValueError) as exc:
        raise PoseAnimateError(f"cannot read the gesture file ({exc}).", path=path,
                               fix="give a .npz file (numpy.savez) with poses_pred_batch.")
    if poses.ndim != 4 or poses.shape[0] != 1 or poses.shape[2:] != (2, GESTURE_POINTS):
        raise PoseAnimateError(
            f"{GESTURE_KEY} has shape {poses.shape}; the seed's is (1, T, 2, "
            f"{GESTURE_POINTS}): one batch of T frames of x, y for its 122 points less the "
            "neck.", path=path, fix="give the npz its speech model generated as it is.")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    given = np.isfinite(poses[0]).all(axis=1)  # (T, 121)
    if not given.any():
        raise PoseAnimateError("every point of the gesture file is NaN or infinite.",
                               path=path, fix="generate the gestures again.")
    # the neck is where the frame's other points are relative to: there when any of them is
    valid = np.insert(given, NECK_IN_122, given.any(axis=1), axis=1)  # (T, 122)
    offsets = np.insert(np.where(np.isfinite(poses[0]), poses[0], 0), NECK_IN_122, 0.0, axis=2)
    points = offsets.transpose(0, 2, 1) / scale + np.asarray(neck, np.float64)
    people = np.zeros((len(points), N_POINTS, 3), np.float32)
    people[:, POSE122_FROM, :2] = np.where(valid[..., None], points, 0)
    people[:, POSE122_FROM, 2] = valid
    return Gestures(people, int((~given).sum()))


def write_gesture_keypoints(path, out_dir) -> dict:
    """The gesture_keypoints stage: a gesture file as an OpenPose folder (around a neck at
    0, 0: rendering normalizes it onto the target by the shoulders), written atomically;
    returns the record."""
    gestures = read_gestures(path)
    with atomic_dir(out_dir) as tmp:
        write_openpose_folder(tmp, gestures.people)
    if gestures.invalid:
        log.warning("%s: %d NaN or infinite points read as missing", path, gestures.invalid)
    log.info("%s: %d frames of gestures", path, len(gestures.people))
    return {"gestures": str(path), "frames": len(gestures.people),
            "invalid_points": gestures.invalid}


def read_pose137(path) -> Gestures:
    """One (3, 137) array file as a (1, 137, 3) person."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise PoseAnimateError(f"cannot read the keypoint array ({exc}).", path=path,
                               fix="give a .npy file of shape (3, 137).")
    if array.shape != (3, N_POINTS):
        raise PoseAnimateError(
            f"the keypoint array has shape {array.shape}; the seed's is (3, {N_POINTS}): rows "
            "x, y, confidence over BODY_25, face 70, left hand 21, right hand 21.", path=path,
            fix="give OpenPose's 137 points in that layout (numpy: np.load(...).shape).")
    person = np.asarray(array, np.float64).T
    valid = np.isfinite(person).all(axis=-1)
    if not valid.any():
        raise PoseAnimateError("every point of the keypoint array is NaN or infinite.",
                               path=path, fix="detect the keypoints again.")
    person = np.where(valid[:, None], person, 0).astype(np.float32)
    person[person[:, 2] <= 0] = 0  # OpenPose's missing points: confidence 0
    return Gestures(person[None], int((~valid).sum()))
