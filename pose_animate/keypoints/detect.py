"""Run a detector backend over a subject's frame folder and write the raw keypoints folder.

Backends that see one person per frame (mediapipe) are kept on the subject by a `Track`:
when the full-frame result jumps to another place (someone else, or a new detection after
the subject was lost), the detector runs again on a crop around where the subject should be
(ROI-guided re-detection) and keeps working on such crops until the full frame agrees again.
Backends that see everyone (mmpose) give all people per frame to `follow_most_prominent`.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, read_image
from ..core.runlog import log, progress
from .output import KeypointsWriter, write_followed
from .track import Track, visible


def read_ahead(paths, depth: int = 2):
    """Yield (index, BGR image) with the next frames decoding in a thread (cv2 frees the GIL
    while decoding, so the detector does not wait on PNG reads)."""
    with ThreadPoolExecutor(1) as pool:
        pending = [pool.submit(read_image, p) for p in paths[:depth]]
        for t in range(len(paths)):
            image = pending.pop(0).result()
            if t + depth < len(paths):
                pending.append(pool.submit(read_image, paths[t + depth]))
            yield t, image


def make_backend(cfg: dict):
    """The detector named by the config's keypoints section (`cfg`; renderer evaluation passes
    it with face_hands off)."""
    if cfg["backend"] == "mediapipe":
        from .mediapipe_backend import MediapipeBackend

        return MediapipeBackend(face_hands=cfg["face_hands"],
                                model_complexity=cfg["model_complexity"],
                                min_confidence=cfg["min_confidence"])
    if cfg["backend"] == "mmpose":
        from .mmpose_backend import MMPoseBackend

        return MMPoseBackend(cfg["mmpose_config"], cfg["mmpose_checkpoint"],
                             cfg["mmpose_det_config"], cfg["mmpose_det_checkpoint"],
                             min_confidence=cfg["min_confidence"])
    if cfg["backend"] == "rtmlib":
        from .rtmlib_backend import RTMLibBackend

        return RTMLibBackend(cfg, min_confidence=cfg["min_confidence"])
    raise ValueError(f"unknown keypoints backend {cfg['backend']!r}")


class SubjectFollower:
    """Keeps a backend that sees one person per frame on the subject.

    `step(image)` returns (person or None, other_seen); `other_seen` is True when the
    full-frame detector returned someone who is not the subject (so at least two people were
    in view, or the detector took something else for a person).
    """

    def __init__(self, backend, track: Track | None = None):
        self.backend, self.track = backend, track or Track()
        self.on_roi = False
        self.stats = {"roi_redetections": 0, "roi_frames": 0, "frames_other_person_seen": 0}

    def _roi(self, image):
        candidate = self.backend.detect_roi(image, self.track.predicted())
        return candidate if self.track.accepts(candidate) else None

    def step(self, image):
        person, other_seen = None, False
        if self.on_roi:
            person = self._roi(image)
            self.stats["roi_frames"] += person is not None
        if person is None:
            candidate = self.backend.detect(image)
            if self.track.accepts(candidate):
                person, self.on_roi = candidate, False
            elif self.track.started:
                other_seen = candidate is not None and visible(candidate).sum() >= 3
                person = self._roi(image)
                if person is not None:
                    self.on_roi = True
                    self.stats["roi_redetections"] += 1
                    self.stats["roi_frames"] += 1
        if person is not None:
            self.track.update(person)
        else:
            self.track.miss()
        self.stats["frames_other_person_seen"] += other_seen
        return person, other_seen


def detect_folder(frames_dir, out_dir, settings: dict) -> dict:
    """Detect the subject in every frame of `frames_dir`; write `out_dir`; return the record.
    `settings` is the config's `keypoints` section."""
    started = time.perf_counter()
    paths = list_frames(frames_dir)
    if not paths:
        raise PoseAnimateError("the frame folder holds no frames.", path=frames_dir,
                               fix="rerun the frames stage.")
    frames = progress(read_ahead(paths), total=len(paths), desc="keypoints")
    with make_backend(settings) as backend:
        log.info("keypoints: %s (%s) on %d frames of %s", backend.name,
                 backend.mode, len(paths), frames_dir)
        if backend.sees_one_person:
            follower = SubjectFollower(backend)
            with KeypointsWriter(out_dir, len(paths), started) as writer:
                for t, image in frames:
                    writer.add(t, follower.step(image)[0])
            # mediapipe sees one person per frame: it cannot count people, only tell when the
            # one it saw was not the subject (frames_other_person_seen).
            return writer.record(f"{backend.name} {backend.mode}", **follower.stats,
                                 frames_with_two_or_more_people=None)
        candidates = [backend.detect_all(image) for _, image in frames]
    return write_followed(out_dir, candidates, backend.name, started)

