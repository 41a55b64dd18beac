"""QA pictures of the densepose and texture stages."""

import numpy as np

from pose_animate.core.body import PART
from pose_animate.densepose.qa import (PART_COLORS, atlas_picture, iuv_overlay, iuv_sheet,
                                       pick_frames, rerender_sheet)
from pose_animate.core.formats import frame_name, write_image, write_iuv
from pose_animate.densepose.texture import ATLAS_SHAPE


def test_overlay_colours_parts_and_draws_the_v_axis():
    frame = np.full((20, 20, 3), 50, np.uint8)
    parts = np.zeros((20, 20), np.uint8)
    parts[:, 5:15] = PART["torso_front"]
    ys, xs = np.mgrid[0:20, 0:20]
    out = iuv_overlay(frame, parts, np.full((20, 20), 1.0), (xs - 5) / 9)
    assert (out[:, :5] == 50).all()                       # background untouched
    assert (out[:, 10] == 255).all()                      # V crosses 0.5 between 9 and 10
    assert np.allclose(out[3, 7], 0.7 * PART_COLORS[2] + 0.3 * 50, atol=1)
    assert len(set(map(tuple, PART_COLORS))) == 25


def test_sheets_have_the_expected_layout(tmp_path):
    for t in range(5):
        write_image(tmp_path / "f" / frame_name(t), np.full((128, 128, 3), 40 * t, np.uint8))
        parts = np.zeros((128, 128), np.uint8)
        parts[32:96, 32:96] = PART["left_hand"]
        write_iuv(tmp_path / "iuv" / frame_name(t), parts, np.full((128, 128), 0.5),
                  np.full((128, 128), 0.5))
    assert pick_frames(5, 3) == [0, 2, 4] and pick_frames(2, 6) == [0, 1]
    sheet = iuv_sheet(tmp_path / "f", tmp_path / "iuv", count=3)
    assert sheet.shape == (528 + 2 * 4, 1600, 3)          # 3 tiles of 528 px, 4 px gaps
    write_image(tmp_path / "texture.png", np.full(ATLAS_SHAPE + (3,), 90, np.uint8))
    record = {"coverage": {"left_hand": 0.5}}
    assert atlas_picture(tmp_path / "texture.png", record).shape == ATLAS_SHAPE + (3,)
    pairs = rerender_sheet(tmp_path / "f", tmp_path / "iuv", tmp_path / "texture.png", count=2)
    assert pairs.shape == (395 + 2 * 4, 1600, 3)          # 2 frames x (real, re-rendered)
    assert (pairs[250, 1400] == 90).all()                 # the re-rendered hand: atlas colour
    assert (pairs[250, 1220] == 160).all()                # around it: the real frame
