"""Following one person: robust body scale, the track's gate (on the joints seen in both
frames, robust to spurious joints and to joints going out of view), and picking the most
prominent track."""

import numpy as np
import pytest

from pose_animate.core.body import J, N_BODY, empty_person
from pose_animate.keypoints.track import (Track, body_scale, follow_most_prominent,
                                          keypoint_box, prominence)
from stick_figure import LEGS, standing_person as person

def test_body_scale_holds_with_parts_out_of_view_and_a_spurious_joint():
    full = person(200, 300, 180)
    assert body_scale(full) == pytest.approx(180, rel=0.05)
    assert body_scale(person(200, 300, 180, without=LEGS)) == pytest.approx(180, rel=0.08)
    spurious = full.copy()
    spurious[J["RWrist"], :2] = (1500, 40)  # a detector's far-off wrist
    assert body_scale(spurious) == pytest.approx(180, rel=0.08)
    assert keypoint_box(spurious).size > 5 * 180  # what the old box-based gate compared
    assert body_scale(empty_person()) is None
    assert prominence(person(0, 300, 100, 0.5)) == pytest.approx(0.5 * prominence(
        person(0, 300, 100, 1.0)))
    assert prominence(person(0, 300, 200)) > prominence(person(0, 300, 100))


def test_track_follows_motion_and_rejects_another_person():
    track = Track()
    for t in range(10):  # walking right, 8 px per frame
        p = person(100 + 8 * t, 300, 180)
        assert track.accepts(p)
        track.update(p)
    assert abs(track.predicted().cx - 180) < 3 and track.predicted().size == pytest.approx(
        180, rel=0.05)
    assert not track.accepts(person(700, 300, 180))  # someone else, three heights away
    assert not track.accepts(person(185, 300, 450))  # the right place, 2.5x the size
    assert track.accepts(person(187, 305, 190))


def test_track_keeps_the_person_through_occluded_legs_and_spurious_joints():
    track = Track()
    rng = np.random.default_rng(0)
    for t in range(40):
        p = person(300 + 2 * t, 400, 200, without=LEGS if (t // 5) % 2 else ())
        if t % 7 == 3:  # a far-off spurious joint now and then
            p[J["LAnkle"]] = (10, 10, 0.3)
        p[:N_BODY, :2] += rng.normal(0, 1.5, (N_BODY, 2)) * (p[:N_BODY, 2:] > 0)
        assert track.accepts(p), t
        track.update(p)


def test_gate_widens_while_the_person_is_unseen():
    track = Track()
    track.update(person(100, 300, 200))
    far = person(250, 300, 200)  # 0.75 heights away
    assert not track.accepts(far)
    for _ in range(4):
        track.miss()
    assert track.accepts(far)
    assert not track.accepts(person(1200, 300, 200))


def test_most_prominent_track_wins_over_a_large_passer_by():
    frames = []
    for t in range(30):
        people = [person(100 + 2 * t, 300, 180)]  # the subject, in every frame but 12-13
        if 12 <= t < 14:
            people = []
        if 5 <= t < 9:  # a bigger person passing for four frames, listed first
            people.insert(0, person(600, 300, 300))
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
        a = person(100 + 10 * t, 300, 200)  # the subject walks right, in front (larger)
        b = person(300 - 10 * t, 310, 170)  # the other walks left
        frames.append([b, a] if t % 2 else [a, b])
    chosen = follow_most_prominent(frames)
    xs = [frames[t][j][J["MidHip"], 0] for t, j in enumerate(chosen)]
    assert np.allclose(np.diff(xs), 10)


def test_a_speaker_seen_from_the_waist_up_and_then_standing_is_one_track():
    frames = [[person(300, 400, 220, without=LEGS if t < 20 else ())] for t in range(40)]
    for t in (5, 17, 31):
        frames[t][0][J["RWrist"]] = (5, 5, 0.4)  # spurious joints
    assert all(j == 0 for j in follow_most_prominent(frames))
