"""Following one person: the track's gate, and picking the most prominent track."""

import numpy as np

from pose_animate.core.body import N_BODY, empty_person
from pose_animate.keypoints.track import (Box, Track, follow_most_prominent, keypoint_box,
                                          prominence)


def figure(cx, cy, height, conf=0.9):
    """A person whose body points fill a box of `height` around (cx, cy)."""
    person = empty_person()
    ys = np.linspace(cy - height / 2, cy + height / 2, N_BODY)
    xs = cx + np.linspace(-height / 6, height / 6, N_BODY)
    person[:N_BODY] = np.stack([xs, ys, np.full(N_BODY, conf)], 1)
    return person


def test_keypoint_box_and_prominence():
    box = keypoint_box(figure(100, 200, 90))
    assert (round(box.cx), round(box.cy), round(box.size)) == (100, 200, 90)
    assert keypoint_box(empty_person()) is None
    assert prominence(figure(0, 0, 100, 0.5)) == 50
    assert prominence(figure(0, 0, 100)) > prominence(figure(0, 0, 50))


def test_track_follows_motion_and_rejects_a_jump():
    track = Track()
    for t in range(10):  # walking right, 8 px per frame
        box = Box(100 + 8 * t, 200, 100)
        assert track.accepts(box)
        track.update(box)
    assert abs(track.predicted().cx - 180) < 2
    assert not track.accepts(Box(400, 200, 100))  # someone else, three sizes away
    assert not track.accepts(Box(185, 200, 250))  # the right place, but 2.5x the size
    assert track.accepts(Box(185, 205, 110))


def test_gate_widens_while_the_person_is_unseen():
    track = Track()
    track.update(Box(100, 100, 100))
    far = Box(175, 100, 100)
    assert not track.accepts(far)
    for _ in range(4):
        track.miss()
    assert track.accepts(far)
    assert not track.accepts(Box(600, 100, 100))


def test_most_prominent_track_wins_over_a_large_passer_by():
    frames = []
    for t in range(30):
        people = [figure(100 + 2 * t, 200, 120)]  # the subject, in every frame but 12-13
        if 12 <= t < 14:
            people = []
        if 5 <= t < 9:  # a bigger person passing for four frames, listed first
            people.insert(0, figure(400, 200, 200))
        frames.append(people)
    chosen = follow_most_prominent(frames)
    for t, (people, j) in enumerate(zip(frames, chosen)):
        if not people:
            assert j is None
        else:
            assert keypoint_box(people[j]).cx < 300, t


def test_two_people_crossing_paths_are_not_swapped():
    frames = []
    for t in range(21):
        a = figure(100 + 10 * t, 200, 150)  # the subject walks right, in front (larger)
        b = figure(300 - 10 * t, 210, 130)  # the other walks left
        frames.append([b, a] if t % 2 else [a, b])
    chosen = follow_most_prominent(frames)
    xs = [keypoint_box(frames[t][j]).cx for t, j in enumerate(chosen)]
    assert np.allclose(np.diff(xs), 10)
