"""One subject per video: follow one person from frame to frame, never jump to another.

A track remembers the subject's body joints, their velocity and the body's scale. A detected
person is the same person when the joints seen both in it and in the track moved, by their
median, less than `max_jump` body heights from where the track predicts them (with fewer than
`min_points` joints in common: when the centres are that close and the body's scale changed by
less than `max_scale`). Both are robust statistics on purpose: the box around
all points (what a track compared before) grows when a detector adds one spurious joint far
from the body, and shrinks or shifts when the set of visible joints changes (legs occluded, a
sit-up, a speaker seen from the waist up), so the track lost real people. The body's scale is
the median, over the visible bones, of each bone's length over its share of a body's height
(`BONES`): it stays put when bones disappear or one joint is wrong. The gate widens while the
person is unseen (they keep moving), so a subject who was occluded for a moment is found again,
but a person at the other side of the frame is not.

- `Track` follows one person incrementally (the mediapipe backend sees one person per frame
  and asks the track whether it is still the same one).
- `follow_most_prominent` picks, from several people per frame (imports, mmpose), the track
  with the largest summed size x confidence over the whole video: the subject.
"""

from dataclasses import dataclass

import numpy as np

from ..core.body import BODY, N_BODY, J

MIN_CONF = 0.05

# Length of BODY_25 bones as a share of a standing body's height (sole to crown), after
# anthropometric tables (Drillis & Contini); foreshortened bones come out short, which the
# median over the bones absorbs.
BONES = {(J["Neck"], J["MidHip"]): 0.30, (J["RShoulder"], J["LShoulder"]): 0.26,
         (J["RShoulder"], J["RElbow"]): 0.19, (J["LShoulder"], J["LElbow"]): 0.19,
         (J["RElbow"], J["RWrist"]): 0.15, (J["LElbow"], J["LWrist"]): 0.15,
         (J["RHip"], J["LHip"]): 0.13, (J["RHip"], J["RKnee"]): 0.25,
         (J["LHip"], J["LKnee"]): 0.25, (J["RKnee"], J["RAnkle"]): 0.25,
         (J["LKnee"], J["LAnkle"]): 0.25, (J["Nose"], J["Neck"]): 0.11}
_BONE_A = np.array([a for a, _ in BONES])
_BONE_B = np.array([b for _, b in BONES])
_BONE_SHARE = np.array(list(BONES.values()), np.float32)


@dataclass(frozen=True)
class Box:
    """A person's keypoint box: centre and side (the larger of width and height), pixels."""

    cx: float
    cy: float
    size: float


def visible(person: np.ndarray, min_conf: float = MIN_CONF) -> np.ndarray:
    """(25,) bool: the body joints detected with some confidence."""
    return np.asarray(person)[BODY, 2] > min_conf


def keypoint_box(person: np.ndarray, min_conf: float = MIN_CONF, min_points: int = 3) -> Box | None:
    """The box around a person's confident body points (None with fewer than `min_points`)."""
    body = np.asarray(person)[BODY]
    pts = body[body[:, 2] > min_conf, :2]
    if len(pts) < min_points:
        return None
    lo, hi = pts.min(0), pts.max(0)
    return Box(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2),
               float(max(hi[0] - lo[0], hi[1] - lo[1], 1.0)))


def body_scale(person: np.ndarray, min_conf: float = MIN_CONF) -> float | None:
    """The body's height in pixels from its visible bones (median of length / share), or
    None when no bone of `BONES` is visible."""
    body = np.asarray(person)[BODY]
    ok = (body[_BONE_A, 2] > min_conf) & (body[_BONE_B, 2] > min_conf)
    if not ok.any():
        return None
    lengths = np.linalg.norm(body[_BONE_A[ok], :2] - body[_BONE_B[ok], :2], axis=1)
    scale = float(np.median(lengths / _BONE_SHARE[ok]))
    return scale if scale > 1.0 else None


def prominence(person: np.ndarray, min_conf: float = MIN_CONF) -> float:
    """Body scale x mean confidence: how much of the picture a person is."""
    seen = visible(person, min_conf)
    if seen.sum() < 3:
        return 0.0
    scale = body_scale(person, min_conf) or keypoint_box(person, min_conf).size
    return scale * float(person[BODY][seen, 2].mean())


class Track:
    """One person followed through a video (see the module docstring)."""

    def __init__(self, max_jump: float = 0.5, max_scale: float = 1.8, widen: float = 0.25,
                 min_points: int = 3):
        self.max_jump, self.max_scale, self.widen = max_jump, max_scale, widen
        self.min_points = min_points
        self.points = np.zeros((N_BODY, 2), np.float64)  # last known place of each joint
        self.known = np.zeros(N_BODY, bool)
        self.scale: float | None = None
        self.velocity = np.zeros(2)
        self.misses = 0

    @property
    def started(self) -> bool:
        return bool(self.known.any())

    def _predicted_points(self) -> np.ndarray:
        return self.points + self.velocity * (self.misses + 1)

    def predicted(self) -> Box | None:
        """Where the person should be: the box that a re-detection searches."""
        if not self.started:
            return None
        centre = np.median(self._predicted_points()[self.known], axis=0)
        return Box(float(centre[0]), float(centre[1]), float(self.scale or 1.0))

    def distance(self, person: np.ndarray) -> float:
        """Median distance of the shared joints from their prediction, in body heights (inf
        on a scale jump); with under `min_points` shared joints, of the joints' medians."""
        seen = visible(person)
        shared = seen & self.known
        predicted = self._predicted_points()
        xy = np.asarray(person)[BODY, :2].astype(np.float64)
        scale = self.scale or keypoint_box(person).size
        if shared.sum() >= self.min_points:
            offset = float(np.median(np.linalg.norm(xy[shared] - predicted[shared], axis=1)))
            return offset / scale
        # Too few joints in common: only the centres compare, and a scale jump tells another
        # person. (With joints in common the scale is not gated: bending, a sit-up or a turn
        # towards the camera foreshortens most bones at once.)
        offset = float(np.linalg.norm(np.median(xy[seen], axis=0)
                                      - np.median(predicted[self.known], axis=0)))
        new_scale = body_scale(person)
        if self.scale and new_scale and not 1 / self.max_scale <= new_scale / self.scale \
                <= self.max_scale:
            return float("inf")
        return offset / scale

    def accepts(self, person) -> bool:
        """Whether `person` is this track's person (anyone starts an empty track)."""
        if person is None or visible(person).sum() < self.min_points:
            return False
        if not self.started:
            return True
        return self.distance(person) <= self.max_jump * (1 + self.widen * self.misses)

    def update(self, person: np.ndarray) -> None:
        seen = visible(person)
        xy = np.asarray(person)[BODY, :2].astype(np.float64)
        if self.started:
            shared = seen & self.known
            steps = self.misses + 1
            if shared.any():
                move = np.median(xy[shared] - self.points[shared], axis=0)
            else:
                move = np.median(xy[seen], axis=0) - np.median(self.points[self.known], axis=0)
            # Damped: a detector's jitter should not throw the prediction off.
            self.velocity = 0.5 * self.velocity + 0.5 * move / steps
            self.points[self.known & ~seen] += move  # unseen joints move with the body
        self.points[seen] = xy[seen]
        self.known |= seen
        scale = body_scale(person)
        if scale is not None:
            self.scale = scale if self.scale is None else 0.7 * self.scale + 0.3 * scale
        elif self.scale is None:
            self.scale = keypoint_box(person).size
        self.misses = 0

    def miss(self) -> None:
        if self.started:
            self.misses += 1


def follow_most_prominent(candidates: list[list[np.ndarray]], max_misses: int = 48,
                          **track_args) -> list[int | None]:
    """For each frame's people, the index of the subject (or None): the most prominent track.

    Tracks are built greedily (nearest accepted detection first); a track unseen for more than
    `max_misses` frames ends. The subject is the track with the largest summed prominence, so a
    passer-by who is large for a few frames does not win over the person seen all along.
    """
    finished, active = [], []  # each track: (Track, {frame: index}, total prominence)
    for t, people in enumerate(candidates):
        usable = [j for j, p in enumerate(people) if visible(p).sum() >= 3]
        pairs = sorted((trk.distance(people[j]), k, j) for k, (trk, _, _) in enumerate(active)
                       for j in usable if trk.accepts(people[j]))
        used_tracks, used_people = set(), set()
        for _, k, j in pairs:
            if k in used_tracks or j in used_people:
                continue
            used_tracks.add(k)
            used_people.add(j)
            trk, frames, score = active[k]
            trk.update(people[j])
            frames[t] = j
            active[k] = (trk, frames, score + prominence(people[j]))
        for k, (trk, _, _) in enumerate(active):
            if k not in used_tracks:
                trk.miss()
        for j in usable:
            if j not in used_people:
                trk = Track(**track_args)
                trk.update(people[j])
                active.append((trk, {t: j}, prominence(people[j])))
        finished += [a for a in active if a[0].misses > max_misses]
        active = [a for a in active if a[0].misses <= max_misses]
    tracks = finished + active
    chosen = [None] * len(candidates)
    if tracks:
        _, frames, _ = max(tracks, key=lambda a: a[2])
        for t, j in frames.items():
            chosen[t] = j
    return chosen
