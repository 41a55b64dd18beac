"""Writing a subject's raw keypoints folder (atomically) and the stage's record.

Every backend, detector or importer, ends here: one OpenPose JSON per frame with the subject
(or an empty `people` list when nobody was found), and counts a user can check.
"""

import json
import time
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_dir
from ..core.body import BODY
from ..core.errors import PoseAnimateError
from ..core.formats import keypoints_name, openpose_dict
from ..core.runlog import log
from .track import follow_most_prominent


class KeypointsWriter:
    """Collects one person (or None) per frame into `folder`, which appears only when complete.

    with KeypointsWriter(folder, n_frames) as writer:
        writer.add(t, person, n_people_seen)
    record = writer.record(backend="mediapipe")
    """

    def __init__(self, folder, n_frames: int, started: float | None = None):
        """`started`: the stage's time.perf_counter() start (default: now), for `seconds`."""
        self.folder, self.n_frames = Path(folder), n_frames
        self.with_person, self.with_several, self.confidences = 0, 0, []
        self.empty_frames: list[int] = []
        self._next = 0
        self._start = time.perf_counter() if started is None else started
        self._dir = None

    def __enter__(self):
        self._dir = atomic_dir(self.folder)
        self._tmp = self._dir.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self._next != self.n_frames:
            exc = PoseAnimateError(f"keypoints for {self._next} of {self.n_frames} frames.",
                                   path=self.folder,
                                   fix="this is a bug in the keypoints stage; please report it.")
            self._dir.__exit__(type(exc), exc, None)
            raise exc
        if exc_type is None and self.with_person == 0 and self.n_frames:
            exc = PoseAnimateError(
                f"no person found in any of the {self.n_frames} frames.", path=self.folder,
                fix="check that the video shows a person (whole body works best), or lower "
                    "keypoints.min_confidence in the config.")
            self._dir.__exit__(type(exc), exc, None)
            raise exc
        self.seconds = time.perf_counter() - self._start
        return self._dir.__exit__(exc_type, exc, tb)

    def add(self, t: int, person: np.ndarray | None, people_seen: int | None = None) -> None:
        """Frame t's subject; `people_seen` (when the backend can tell) counts everyone."""
        if t != self._next:
            raise ValueError(f"frames must be added in order: expected {self._next}, got {t}")
        self._next += 1
        people = [person] if person is not None and np.any(person[:, 2] > 0) else []
        # Plain writes: the folder as a whole appears atomically, its files need not.
        (self._tmp / keypoints_name(t)).write_text(json.dumps(openpose_dict(people)))
        if people:
            self.with_person += 1
            conf = person[BODY, 2]
            self.confidences.append(float(conf[conf > 0].mean()) if np.any(conf > 0) else 0.0)
        else:
            self.empty_frames.append(t)
        if people_seen is not None and people_seen >= 2:
            self.with_several += 1

    def record(self, backend: str, **extra) -> dict:
        """The stage record (results/work/{subject}/keypoints.json); logs the summary line.

        `frames_with_two_or_more_people` counts the frames where `add` was told of two or more
        people; a backend that cannot count people passes it as None in `extra`."""
        n = self.n_frames
        log.info("person found in %d of %d frames (%s), %.1f s -> %s", self.with_person, n,
                 backend, self.seconds, self.folder)
        if self.with_person < 0.95 * n:
            log.warning("nobody found in %d frames, first ones: %s", len(self.empty_frames),
                        self.empty_frames[:20])
        return {
            "backend": backend,
            "frames": n,
            "frames_with_person": self.with_person,
            "frames_without_person": n - self.with_person,
            "frames_without_person_first": self.empty_frames[:20],
            "frames_with_two_or_more_people": self.with_several,
            "mean_confidence": round(float(np.mean(self.confidences)), 4)
            if self.confidences else 0.0,
            "seconds": round(self.seconds, 2),
            "frames_per_second": round(n / self.seconds, 2) if self.seconds > 0 else None,
            **extra,
        }


def write_followed(folder, candidates: list[list[np.ndarray]], backend: str,
                   started: float | None = None, **extra) -> dict:
    """Write the most prominent person's track from several people per frame; the record."""
    chosen = follow_most_prominent(candidates)
    with KeypointsWriter(folder, len(candidates), started) as writer:
        for t, (people, j) in enumerate(zip(candidates, chosen)):
            writer.add(t, None if j is None else people[j], len(people))
    return writer.record(backend, **extra)


def write_imported(folder, candidates: list[list[np.ndarray]], backend: str, frame_size,
                   to_frame=None, started: float | None = None, **extra) -> dict:
    """Imported people (source-video pixels) -> frame pixels -> the subject's track, written.

    `to_frame` maps (N, 2) source pixels to frame pixels (the frames stage's crop and resize;
    None when they coincide). Points that land outside the (width, height) `frame_size` are
    missing, as a detector on the frames would not have seen them.
    """
    width, height = frame_size
    mapped = []
    for people in candidates:
        frame_people = []
        for person in people:
            person = np.array(person, np.float32)
            seen = person[:, 2] > 0
            if to_frame is not None and seen.any():
                person[seen, :2] = to_frame(person[seen, :2])
            x, y = person[:, 0], person[:, 1]
            person[~seen | (x < 0) | (y < 0) | (x > width - 1) | (y > height - 1)] = 0
            if np.any(person[:, 2] > 0):
                frame_people.append(person)
        mapped.append(frame_people)
    return write_followed(folder, mapped, backend, started, **extra)
