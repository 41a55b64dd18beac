"""DensePose chart outputs -> frame IUV: box placement, resizing, channel order."""

import numpy as np
import pytest
import torch

from pose_animate.densepose.convert import (chart_output_to_result, decode_compressed, int_box,
                                            paste, result_to_box_size, select_person)


def _chart_from_labels(labels, u_value, v_value, size=16):
    """Raw predictor scores at `size` x `size` whose arg-max is `labels` (given at that size):
    part p's U chart holds u_value(p), its V chart v_value(p)."""
    fine = torch.full((25, size, size), -5.0)
    fine.scatter_(0, torch.as_tensor(labels, dtype=torch.long)[None], 5.0)
    coarse = torch.stack([torch.as_tensor(labels == 0, dtype=torch.float32) * 10 - 5,
                          torch.as_tensor(labels > 0, dtype=torch.float32) * 10 - 5])
    u = torch.stack([torch.full((size, size), u_value(p)) for p in range(25)])
    v = torch.stack([torch.full((size, size), v_value(p)) for p in range(25)])
    return coarse, fine, u, v


def test_int_box_truncates_like_densepose():
    assert int_box([10.7, 20.2, 50.9, 60.1]) == (10, 20, 40, 39)
    assert int_box(np.array([3.0, 4.0, 3.2, 4.1])) == (3, 4, 1, 1)


def test_chart_output_resized_to_box_and_uv_from_own_chart():
    labels = np.zeros((16, 16), np.int64)
    labels[2:14, 2:8] = 2        # left half: torso front
    labels[2:14, 8:14] = 15      # right half: left upper arm front
    coarse, fine, u, v = _chart_from_labels(labels, lambda p: p / 100, lambda p: 1 - p / 100)
    box = [5.5, 7.9, 69.5, 39.9]           # int box: x=5, y=7, w=64, h=32
    parts, uu, vv = chart_output_to_result(coarse, fine, u, v, box)
    assert parts.shape == (32, 64)
    assert set(np.unique(parts)) == {0, 2, 15}
    # each label's U/V comes from its own chart, not a neighbour's
    assert np.allclose(uu[parts == 2], 0.02) and np.allclose(vv[parts == 2], 0.98)
    assert np.allclose(uu[parts == 15], 0.15) and np.allclose(vv[parts == 15], 0.85)
    assert (uu[parts == 0] == 0).all()
    # the 2..14 x 2..8 block of a 16-grid scales to rows 4..28 and columns 8..32
    assert parts[16, 20] == 2 and parts[16, 40] == 15 and parts[1, 1] == 0


def test_background_from_coarse_segmentation_wins():
    labels = np.full((16, 16), 3)
    coarse, fine, u, v = _chart_from_labels(labels, lambda p: 0.5, lambda p: 0.5)
    coarse[1] = -10                                        # coarse says: nobody
    parts, _, _ = chart_output_to_result(coarse, fine, u, v, [0, 0, 16, 16])
    assert not parts.any()


def test_paste_places_box_and_clips_at_frame_edge():
    labels = np.full((10, 20), 7, np.uint8)
    u = np.full((10, 20), 0.25, np.float32)
    v = np.full((10, 20), 0.75, np.float32)
    parts, uu, vv = paste((30, 40), [(labels, u, v)], np.array([[30.6, -4.2, 50.9, 5.9]]))
    # int box x=30, y=-4, w=20, h=10: rows 0..5 and columns 30..39 fall inside the frame
    assert parts.shape == (30, 40)
    assert (parts[0:6, 30:40] == 7).all() and parts[6:].sum() == 0 and parts[:, :30].sum() == 0
    assert np.allclose(uu[parts == 7], 0.25) and np.allclose(vv[parts == 7], 0.75)


def test_paste_higher_score_on_top():
    a = (np.full((10, 10), 1, np.uint8), np.zeros((10, 10)), np.zeros((10, 10)))
    b = (np.full((10, 10), 2, np.uint8), np.zeros((10, 10)), np.zeros((10, 10)))
    boxes = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], np.float32)
    parts, _, _ = paste((20, 20), [a, b], boxes, scores=np.array([0.9, 0.5]))
    assert parts[7, 7] == 1 and parts[12, 12] == 2


def test_result_resize_keeps_labels_and_charts_apart():
    labels = np.zeros((8, 8), np.uint8)
    labels[:, :4] = 4
    labels[:, 4:] = 9
    uv = np.zeros((2, 8, 8), np.float32)
    uv[0][labels == 4], uv[0][labels == 9] = 0.1, 0.9
    uv[1] = 0.5
    parts, u, v = result_to_box_size(labels, uv, [0, 0, 16, 24])
    assert parts.shape == (24, 16) and set(np.unique(parts)) == {4, 9}
    # per-part interpolation: no value between the two charts at their border
    assert np.allclose(u[parts == 4], 0.1) and np.allclose(u[parts == 9], 0.9)
    with pytest.raises(ValueError):
        result_to_box_size(labels, uv[:1], [0, 0, 8, 8])


def test_compressed_result_channel_order():
    import base64

    import cv2
    labels_uv = np.zeros((3, 5, 6), np.uint8)
    labels_uv[0] = 12
    labels_uv[1] = 51
    labels_uv[2] = 204
    # DensePose writes the H x W x 3 array with PIL (RGB order); cv2 writes BGR, so reverse.
    ok, png = cv2.imencode(".png", np.moveaxis(labels_uv, 0, -1)[..., ::-1])
    labels, uv = decode_compressed((3, 5, 6), base64.encodebytes(png.tobytes()).decode())
    assert (labels == 12).all() and np.allclose(uv[0], 0.2) and np.allclose(uv[1], 0.8)


def test_select_person_prefers_box_with_keypoints():
    boxes = np.array([[0, 0, 10, 10], [50, 50, 90, 90]], np.float32)
    scores = np.array([0.99, 0.8])
    person = np.zeros((137, 3), np.float32)
    person[:5] = [70, 70, 0.9]
    assert select_person(boxes, scores) == 0
    assert select_person(boxes, scores, person) == 1
    assert select_person(boxes, scores, None, min_score=0.995) is None
