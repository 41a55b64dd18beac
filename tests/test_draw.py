"""Skeleton drawing in OpenPose colours, contact sheets, frame picking."""

import numpy as np

from pose_animate.core.body import BODY_25_COLORS, BODY_25_LIMBS, FACE, HAND_LEFT, J, empty_person
from pose_animate.core.draw import contact_sheet, draw_skeleton, evenly_spaced, line_width


def _bgr(rgb):
    return list(reversed(rgb))


def test_bones_are_drawn_in_openpose_colours_at_their_midpoints():
    person = empty_person()
    person[J["Neck"]] = [100, 50, 0.9]
    person[J["MidHip"]] = [100, 150, 0.9]
    person[J["RShoulder"]] = [60, 50, 0.9]
    canvas = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person, joints=False)
    spine = BODY_25_LIMBS.index((1, 8))
    shoulder = BODY_25_LIMBS.index((1, 2))
    assert canvas[100, 100].tolist() == _bgr(BODY_25_COLORS[8])  # coloured as its end joint
    assert canvas[50, 80].tolist() == _bgr(BODY_25_COLORS[2])
    assert spine != shoulder
    # Nothing beyond the drawn bones: a thickness-wide band around them.
    assert not canvas[:, 130:].any() and not canvas[160:].any()


def test_missing_and_low_confidence_points_are_not_drawn():
    person = empty_person()
    person[J["Neck"]] = [100, 50, 0.9]
    person[J["MidHip"]] = [100, 150, 0.03]  # below min_conf
    canvas = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person, joints=False)
    assert not canvas.any()
    drawn = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person, min_conf=0.01)
    assert drawn[100, 100].any()


def test_points_far_outside_the_image_are_clipped_not_an_error():
    person = empty_person()
    person[J["Neck"]] = [100, 50, 0.9]
    person[J["MidHip"]] = [100, 1e12, 0.9]
    canvas = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person, joints=False)
    assert canvas[150, 100].any()


def test_face_and_hands_are_drawn_and_can_be_switched_off():
    person = empty_person()
    person[FACE][:17] = np.stack([np.linspace(20, 80, 17), np.full(17, 30), np.ones(17)], 1)
    hand = np.stack([np.full(21, 150), np.linspace(100, 180, 21), np.ones(21)], 1)
    person[HAND_LEFT] = hand
    full = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person)
    assert full[30, 20:80].any() and full[100:180, 150].any()
    bare = draw_skeleton(np.zeros((200, 200, 3), np.uint8), person, face=False, hands=False)
    assert not bare.any()


def test_line_width_scales_with_the_image():
    assert line_width((512, 512)) == 4 and line_width((64, 80)) == 1


def test_contact_sheet_layout_and_labels():
    images = [np.full((100, 50, 3), 40 * k, np.uint8) for k in range(1, 6)]
    sheet = contact_sheet(images, cols=3, labels=["a", "b", "c", "d", "e"], tile_width=50, gap=4)
    assert sheet.shape == (2 * 100 + 3 * 4, 3 * 50 + 4 * 4, 3)
    # Tile 4 (row 1, column 1) keeps its colour away from the label; the empty slot is grey.
    assert sheet[4 + 100 + 4 + 80, 4 + 50 + 4 + 25].tolist() == [200] * 3
    assert sheet[4 + 100 + 4 + 80, 4 + 2 * 54 + 25].tolist() == [32] * 3
    # The label's white text sits in the tile's top-left corner.
    assert sheet[4:20, 4:30].max() > 200
    unlabelled = contact_sheet(images, cols=3, tile_width=50)
    assert unlabelled[4:20, 4:30].max() == 40


def test_evenly_spaced():
    assert evenly_spaced(288, 4) == [0, 96, 191, 287]
    assert evenly_spaced(3, 16) == [0, 1, 2]
    assert evenly_spaced(0, 5) == []
