"""One subject per video: follow one person's box from frame to frame, never jump to another.

A track predicts the next box from the last one and its velocity; a detection is the same
person when its centre lies within `max_jump` box sizes of the prediction and its size changed
by less than `max_scale`. The gate widens while the person is unseen (they keep moving), so a
subject who was occluded for a moment is found again, but a person at the other side of the
frame is not.

- `Track` follows one person incrementally (the mediapipe backend sees one person per frame
  and asks the track whether it is still the same one).
- `follow_most_prominent` picks, from several people per frame (imports, mmpose), the track
  with the largest summed size x confidence over the whole video: the subject.
"""

from dataclasses import dataclass

import numpy as np

from ..core.body import BODY


@dataclass(frozen=True)
class Box:
    """A person's keypoint box: centre and side (the larger of width and height), pixels."""

    cx: float
    cy: float
    size: float


def keypoint_box(person: np.ndarray, min_conf: float = 0.05, min_points: int = 3) -> Box | None:
    """The box around a person's confident body points (None with fewer than `min_points`)."""
    body = np.asarray(person)[BODY]
    pts = body[body[:, 2] > min_conf, :2]
    if len(pts) < min_points:
        return None
    lo, hi = pts.min(0), pts.max(0)
    return Box(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2),
               float(max(hi[0] - lo[0], hi[1] - lo[1], 1.0)))


def prominence(person: np.ndarray, min_conf: float = 0.05) -> float:
    """Size x mean confidence of a person's body: how much of the picture they are."""
    box = keypoint_box(person, min_conf)
    if box is None:
        return 0.0
    conf = person[BODY, 2]
    return box.size * float(conf[conf > min_conf].mean())


class Track:
    """The box of one person followed through a video."""

    def __init__(self, max_jump: float = 0.5, max_scale: float = 1.8, widen: float = 0.25):
        self.max_jump, self.max_scale, self.widen = max_jump, max_scale, widen
        self.box: Box | None = None
        self.velocity = (0.0, 0.0)
        self.misses = 0

    def predicted(self) -> Box | None:
        if self.box is None:
            return None
        steps = self.misses + 1
        return Box(self.box.cx + self.velocity[0] * steps, self.box.cy + self.velocity[1] * steps,
                   self.box.size)

    def distance(self, box: Box) -> float:
        """Centre distance from the prediction, in predicted box sizes (inf on a scale jump)."""
        pred = self.predicted()
        ratio = box.size / pred.size
        if not 1 / self.max_scale <= ratio <= self.max_scale:
            return float("inf")
        return float(np.hypot(box.cx - pred.cx, box.cy - pred.cy) / pred.size)

    def accepts(self, box: Box | None) -> bool:
        """Whether `box` is this track's person (any box starts an empty track)."""
        if box is None:
            return False
        if self.box is None:
            return True
        return self.distance(box) <= self.max_jump * (1 + self.widen * self.misses)

    def update(self, box: Box) -> None:
        if self.box is not None:
            steps = self.misses + 1
            step = ((box.cx - self.box.cx) / steps, (box.cy - self.box.cy) / steps)
            # Damped: a detector's jitter should not throw the prediction off.
            self.velocity = (0.5 * self.velocity[0] + 0.5 * step[0],
                             0.5 * self.velocity[1] + 0.5 * step[1])
        self.box, self.misses = box, 0

    def miss(self) -> None:
        if self.box is not None:
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
        boxes = [keypoint_box(p) for p in people]
        pairs = sorted((trk.distance(b), k, j) for k, (trk, _, _) in enumerate(active)
                       for j, b in enumerate(boxes) if b is not None and trk.accepts(b))
        used_tracks, used_people = set(), set()
        for _, k, j in pairs:
            if k in used_tracks or j in used_people:
                continue
            used_tracks.add(k)
            used_people.add(j)
            trk, frames, score = active[k]
            trk.update(boxes[j])
            frames[t] = j
            active[k] = (trk, frames, score + prominence(people[j]))
        for k, (trk, _, _) in enumerate(active):
            if k not in used_tracks:
                trk.miss()
        for j, b in enumerate(boxes):
            if b is not None and j not in used_people:
                trk = Track(**track_args)
                trk.update(b)
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
