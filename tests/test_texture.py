"""Texture atlas: the contract's indexing, unfolding (blending, hole filling, coverage) and
re-rendering, checked on the demo figure whose atlas is known."""

import numpy as np
import pytest

from pose_animate.core.body import PART
from pose_animate.core.config import settings
from pose_animate.core.formats import frame_name, read_image, write_image, write_iuv
from pose_animate.densepose.texture import (ATLAS_SHAPE, TextureAccumulator, _pixel_weights, build_texture,
                                  fill_holes, person_psnr, rerender, texel_index, tile_origin,
                                  twin_part)


def test_texel_index_follows_the_contract():
    # tile column i, row j holds part 6 i + j + 1; row 199 - round(v 199), col round(u 199)
    row, col = texel_index(np.array([1, 7, 24, 6]), np.array([0.0, 1.0, 0.5, 0.0]),
                           np.array([0.0, 1.0, 0.5, 1.0]))
    assert list(row) == [199, 0, 5 * 200 + 199 - 100, 5 * 200]
    assert list(col) == [0, 399, 600 + 100, 0]
    assert tile_origin(1) == (0, 0) and tile_origin(7) == (0, 200) and \
        tile_origin(24) == (1000, 600)


def test_rerender_reads_the_texel_and_keeps_background():
    atlas = np.zeros(ATLAS_SHAPE + (3,), np.uint8)
    atlas[0:200, 200:400] = (10, 20, 30)            # part 7
    parts = np.array([[0, 7]], np.uint8)
    out = rerender(atlas, parts, np.array([[0, 0.3]]), np.array([[0, 0.6]]),
                   background=(1, 2, 3))
    assert tuple(out[0, 0]) == (1, 2, 3) and tuple(out[0, 1]) == (10, 20, 30)
    with pytest.raises(ValueError):
        rerender(atlas[:100], parts, parts, parts)


def test_direct_views_weigh_more_than_grazing_ones():
    parts = np.full((20, 20), 2, np.uint8)
    ys, xs = np.mgrid[0:20, 0:20] / 19.0
    frontal = _pixel_weights(parts, xs * 0.02, ys * 0.02)    # a pixel covers 0.04 texels
    grazing = _pixel_weights(parts, xs * 1.0, ys * 1.0)      # ... 110 texels
    assert frontal[10, 10] > 0.9 and grazing[10, 10] < 0.05
    split = parts.copy()
    split[:, 10:] = 3                                        # a part border
    w = _pixel_weights(split, xs * 0.02, ys * 0.02)
    assert w[10, 9] < w[10, 5]


def test_hole_filling_stays_inside_the_tile_and_twins_fill_unseen_parts():
    tile = np.zeros((200, 200, 3))
    seen = np.zeros((200, 200), bool)
    tile[:, :100] = (0, 0, 255)
    seen[:, :100] = True
    filled = fill_holes(tile, seen)
    assert (filled[:, 150] == (0, 0, 255)).all()
    acc = TextureAccumulator()
    image = np.full((4, 4, 3), 200, np.uint8)
    parts = np.full((4, 4), PART["torso_front"], np.uint8)
    acc.add(image, parts, np.full((4, 4), 0.5), np.full((4, 4), 0.5))
    atlas, record = acc.finish()
    assert twin_part(PART["torso_front"]) == PART["torso_back"]
    assert record["coverage"]["torso_back"] == 0 and "torso_back" in record["parts_never_seen"]
    assert "torso_front" not in record["parts_never_seen"]
    r, c = tile_origin(PART["torso_back"])
    assert (atlas[r:r + 200, c:c + 200] == 200).all()        # copied from its twin
    r, c = tile_origin(PART["left_foot"])                    # no twin: mean colour
    assert (atlas[r:r + 200, c:c + 200] == 200).all()
    assert "left_foot" in record["parts_never_seen"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Six demo frames (in memory and on disk, IUV as 8-bit PNG) and the atlas they were
    painted with."""
    from pose_animate.synth import render_sequence
    from pose_animate.synth.sequence import Scene

    root = tmp_path_factory.mktemp("texture_demo")
    params = dict(seed=5, n_frames=6, size=160)
    frames = list(render_sequence(**params))
    for f in frames:
        write_image(root / "frames" / frame_name(f.index), f.image)
        write_iuv(root / "iuv" / frame_name(f.index), *f.iuv)
    return root, frames, Scene(**params).atlas


def test_unfold_recovers_the_painted_atlas(demo):
    _, frames, atlas = demo
    acc = TextureAccumulator(neighbour_prior=0)
    for f in frames:
        acc.add(f.image, *f.iuv)
    texture, record = acc.finish()
    assert texture.shape == ATLAS_SHAPE + (3,)
    seen = acc.weight.reshape(ATLAS_SHAPE) > 0
    # the frames are the atlas sampled at the (float) IUV: every seen texel comes back
    assert np.abs(texture[seen].astype(int) - atlas[seen].astype(int)).max() <= 1
    assert 0 < record["mean_coverage"] < 1 and record["frames"] == 6
    rendered = rerender(texture, *frames[0].iuv)
    assert person_psnr(frames[0].image, rendered, frames[0].iuv[0] > 0) > 45


def test_build_texture_writes_jpeg_and_measures_rerender(demo, tmp_path):
    root, _, _ = demo
    record = build_texture(root / "frames", root / "iuv", tmp_path / "texture.jpg",
                           settings("texture", jpeg_quality=95))
    assert read_image(tmp_path / "texture.jpg").shape == (1200, 800, 3)
    # exact IUV, but 8-bit U/V (a texel's neighbour now and then) and the JPEG
    assert record["rerender"]["psnr_db_mean"] > 25
    assert set(record["coverage"]) == {n for n in PART if n != "background"}


def test_mismatched_or_missing_iuv_is_a_clear_error(demo, tmp_path):
    from pose_animate.core.errors import PoseAnimateError

    root, _, _ = demo
    frames = tmp_path / "frames"
    write_image(frames / frame_name(0), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(PoseAnimateError, match="no IUV for frame 000000.png"):
        build_texture(frames, tmp_path / "none", tmp_path / "t.jpg", settings("texture"))
    with pytest.raises(PoseAnimateError, match="IUV is 160x160, the frame 64x64"):
        build_texture(frames, root / "iuv", tmp_path / "t.jpg", settings("texture"))
    assert not (tmp_path / "t.jpg").exists()


def test_neighbour_prior_pulls_lone_outliers_only():
    image = np.full((40, 40, 3), 100, np.uint8)
    image[20, 20] = 250                              # one mislabelled pixel
    parts = np.full((40, 40), PART["torso_front"], np.uint8)
    ys, xs = np.mgrid[0:40, 0:40]
    u, v = xs / 199, ys / 199                        # one texel per pixel
    texel = texel_index(np.array([2]), u[20:21, 20], v[20:21, 20])
    for prior, low, high in ((0.0, 249, 251), (0.5, 101, 200)):
        acc = TextureAccumulator(neighbour_prior=prior)
        acc.add(image, parts, u, v)
        atlas, _ = acc.finish()
        assert low <= atlas[texel[0][0], texel[1][0], 0] <= high
        assert abs(int(atlas[texel[0][0] - 5, texel[1][0], 0]) - 100) <= 1


def test_person_psnr():
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 255
    fg = np.zeros((2, 2), bool)
    fg[1] = True
    assert person_psnr(a, b, fg) == float("inf")
    fg[0, 0] = True
    assert person_psnr(a, b, fg) == pytest.approx(10 * np.log10(3))
