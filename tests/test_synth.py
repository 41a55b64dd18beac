"""pose_animate.synth: the demo figure and its exact ground truth."""

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from pose_animate.core.body import BODY, FACE, HAND_LEFT, HAND_RIGHT, J, PART
from pose_animate.core.formats import (read_flo, read_image, read_iuv, read_json,
                                  read_openpose_folder, write_iuv)
from pose_animate.synth import DEFAULTS, Scene, render_sequence, write_demo
from pose_animate.synth import demo as demo_module
from pose_animate.densepose.texture import rerender

REPO = Path(__file__).resolve().parent.parent


def frames(n=6, **params):
    return list(render_sequence(n_frames=n, size=params.pop("size", 160), **params))


@pytest.fixture(scope="module")
def clip():
    return frames(6, seed=3)


def psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_same_seed_same_clip_other_seed_other_clip(clip):
    again = frames(6, seed=3)
    for a, b in zip(clip, again):
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.keypoints, b.keypoints)
        assert np.array_equal(a.flow, b.flow) if a.flow is not None else b.flow is None
    other = frames(2, seed=4)
    assert not np.array_equal(other[1].image, clip[1].image)
    assert not np.allclose(other[1].keypoints, clip[1].keypoints)


def test_frame_arrays_have_the_api_shapes(clip):
    f = clip[0]
    assert f.image.shape == (160, 160, 3) and f.image.dtype == np.uint8
    assert f.keypoints.shape == (137, 3) and f.keypoints.dtype == np.float32
    assert f.mask.dtype == np.uint8 and set(np.unique(f.mask)) == {0, 255}
    I, U, V = f.iuv
    assert I.dtype == np.uint8 and U.dtype == np.float32 and V.dtype == np.float32
    assert f.flow.shape == (160, 160, 2) and f.flow.dtype == np.float32
    assert f.flow_inv.shape == (160, 160, 2)
    assert clip[-1].flow is None and clip[-1].flow_inv is None
    assert f.background.shape == f.image.shape
    assert (f.keypoints[:, 2] == 1).all()  # every point is modelled


def test_mask_iuv_and_keypoints_agree(clip):
    for f in clip:
        I, U, V = f.iuv
        assert np.array_equal(I > 0, f.mask > 0)
        assert I.max() <= 24 and 0 <= U.min() and U.max() <= 1 and V.max() <= 1
        assert np.array_equal(f.image[f.mask == 0], f.background[f.mask == 0])
        xy = np.rint(f.keypoints[:, :2]).astype(int)
        for group in (BODY, FACE, HAND_LEFT, HAND_RIGHT):
            x, y = xy[group].T
            assert (f.mask[y, x] > 0).mean() >= 0.95, group  # joints on the figure
        x, y = xy[J["Nose"]]
        assert set(np.unique(I[y - 1:y + 2, x - 1:x + 2])) <= {PART["head_right"],
                                                               PART["head_left"]}
        # the figure's right is on the image's left: head_right left of the nose
        assert (np.flatnonzero((I == PART["head_right"]).any(0)).mean()
                < np.flatnonzero((I == PART["head_left"]).any(0)).mean())
        for name, part in (("RKnee", "right_upper_leg_front"), ("LKnee", "left_upper_leg_front"),
                           ("MidHip", "torso_front")):
            x, y = xy[J[name]]
            assert I[y, x] in (PART[part], PART[part.replace("upper", "lower")]), name
        x, y = xy[HAND_LEFT][9]  # middle finger knuckle
        assert I[y, x] == PART["left_hand"]


def test_atlas_and_iuv_reproduce_the_frame(clip, tmp_path):
    scene = Scene(seed=3, n_frames=6, size=160)
    for f in clip[:3]:
        # exactly, from the float IUV
        assert np.array_equal(rerender(scene.atlas, *f.iuv, f.background), f.image)
        # and from the IUV PNG (U, V quantised to 1/255) nearly
        write_iuv(tmp_path / "iuv.png", *f.iuv)
        again = rerender(scene.atlas, *read_iuv(tmp_path / "iuv.png"), f.background)
        fg = f.mask > 0
        assert psnr(again[fg], f.image[fg]) > 30


def test_flow_warps_the_next_frame_onto_this_one():
    seq = frames(4, seed=5, size=192, pan=[0.75, 0.0])
    for a, b in itertools.pairwise(seq):
        h, w = a.mask.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        mx, my = xs + a.flow[..., 0], ys + a.flow[..., 1]
        warped = cv2.remap(b.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        back = cv2.remap(a.flow_inv, mx, my, cv2.INTER_NEAREST)  # flow_inv: t+1 -> t
        # visible in both: inside the frame, and the backward flow leads back here
        ok = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
        ok &= np.hypot(*(a.flow + back).transpose(2, 0, 1)) < 0.25
        fg = ok & (a.mask > 0)
        assert fg.sum() > 0.95 * (a.mask > 0).sum()
        err = np.abs(warped.astype(np.float64) - a.image).max(2)
        assert np.median(err[ok]) <= 1 and np.median(err[fg]) <= 1
        unwarped = np.abs(b.image.astype(np.float64) - a.image).max(2)
        assert np.mean(err[ok]) < 0.35 * np.mean(unwarped[ok])  # motion is really explained
        # the background moves with the pan, exactly
        bg = a.mask == 0
        assert np.allclose(a.flow[bg], [-0.75, 0.0])
        assert np.allclose(a.flow_inv[b.mask == 0], [0.75, 0.0])


def _affine_fit(points, values):
    """Least-squares affine map points (N, 2) -> values (N, 2)."""
    A = np.hstack([points, np.ones((len(points), 1))])
    coef, *_ = np.linalg.lstsq(A, values, rcond=None)
    return lambda p: np.hstack([p, np.ones((len(p), 1))]) @ coef


RIGID = [("head_left", FACE), ("left_hand", HAND_LEFT), ("right_hand", HAND_RIGHT),
         ("right_foot", [J["RHeel"], J["RBigToe"], J["RSmallToe"]]),
         ("torso_front", [J["Neck"], J["MidHip"], J["RHip"], J["LHip"], J["RShoulder"]])]


def test_flow_carries_keypoints_exactly():
    """Each part moves rigidly, so its flow field is affine in the pixel position: fitted on
    the part's pixels and evaluated at the keypoints on that part, it must carry them
    exactly onto the next frame's keypoints (and the backward flow back again)."""
    seq = frames(3, seed=2, size=256, style="wave")
    for a, b in itertools.pairwise(seq):
        for name, points in RIGID:
            for flow, I, src, dst in ((a.flow, a.iuv[0], a.keypoints, b.keypoints),
                                      (a.flow_inv, b.iuv[0], b.keypoints, a.keypoints)):
                ys, xs = np.nonzero(I == PART[name])
                assert len(xs) > 10, name
                fit = _affine_fit(np.stack([xs, ys], 1).astype(float), flow[ys, xs])
                moved = src[points, :2] + fit(src[points, :2].astype(float))
                assert np.abs(moved - dst[points, :2]).max() < 2e-3, name


def test_feet_stay_on_the_floor_when_standing():
    for style in ("groove", "march"):
        scene = Scene(seed=1, style=style)
        standing = []
        for t in range(0, 96, 3):
            sk, _ = scene.pose_at(t)
            planted = [sk[f"{side}Lift"] == 0 for side in "RL"]
            for side, down in zip("RL", planted):
                if down:
                    assert abs(sk[f"{side}Ankle"][1] - (scene.floor_y - scene.body.ankle)) < 1e-6
            assert any(planted), (style, t)  # one foot at a time
            standing += planted
        if style == "groove":
            assert np.mean(standing) > 0.6  # feet mostly planted, stepping in turn


def test_figures_differ_in_proportions_and_style():
    tall = Scene(scale=0.84, leg_length=1.15, build=0.8, n_frames=1)
    base = Scene(n_frames=1)
    assert tall.body.height > base.body.height
    assert tall.body.thigh / tall.body.height > base.body.thigh / base.body.height
    assert tall.body.r_thigh[0] / tall.body.height < base.body.r_thigh[0] / base.body.height
    for style in ("wave", "march"):
        f = frames(1, style=style)[0]
        assert (f.mask > 0).sum() > 1000


def test_face_points_follow_the_openpose_layout():
    f = frames(1, seed=0, amplitude=0.0, size=256)[0]  # amplitude 0: standing upright
    face = f.keypoints[FACE, :2]
    x, y = face[:, 0], face[:, 1]
    assert x[0] < x[8] < x[16] and y[8] == y.max()            # jaw round the chin
    assert x[17] < x[21] < x[22] < x[26]                      # brows
    assert y[27] < y[30] and x[31] < x[33] < x[35]            # nose down, nostrils
    assert x[36] < x[39] < x[42] < x[45]                      # eye corners
    assert x[48] < x[51] < x[54] and y[51] < y[57]            # mouth, upper lip above
    assert np.allclose(face[68], f.keypoints[J["REye"], :2]) and x[68] < x[69]


def test_figure_partly_outside_the_frame():
    f = frames(2, offset=[0.45, 0.0])[0]
    assert 0 < (f.mask > 0).sum() and f.keypoints[J["LWrist"], 0] > 160


def test_unknown_or_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown demo parameter"):
        Scene(colour=[1, 2, 3])
    with pytest.raises(ValueError, match="style"):
        Scene(style="tango")
    with pytest.raises(ValueError, match="size"):
        Scene(size=8)


def test_schema_defaults_match_the_generator():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    figure = schema["properties"]["demo"]["properties"]["figures"]["additionalProperties"]
    defaults = {k: v["default"] for k, v in figure["properties"].items()}
    assert defaults == DEFAULTS


def test_write_demo_layout(synth_clip):
    truth = synth_clip.truth
    n = 24
    for folder, suffix, count in (("frames", ".png", n), ("mask", ".png", n), ("iuv", ".png", n),
                                  ("keypoints", "_keypoints.json", n), ("flow", ".flo", n - 1),
                                  ("flow_inv", ".flo", n - 1)):
        names = sorted(p.name for p in (truth / folder).iterdir())
        assert names == [f"{i:06d}{suffix}" for i in range(count)], folder
    assert read_image(truth / "texture.png").shape == (1200, 800, 3)
    assert read_image(truth / "background.png").shape == (192, 192, 3)
    assert read_flo(truth / "flow" / "000000.flo").shape == (192, 192, 2)
    meta = read_json(truth / "meta.json")
    assert meta["n_frames"] == n and meta["size"] == 192 and meta["fps"] == 12
    assert meta["params"]["seed"] == 0
    kp = read_openpose_folder(truth / "keypoints", n_frames=n)
    expected = np.array([f.keypoints for f in render_sequence(seed=0, n_frames=n, size=192,
                                                              fps=12)])
    assert np.abs(kp - expected).max() < 1e-3
    first = read_image(truth / "frames" / "000000.png")
    cap = cv2.VideoCapture(str(synth_clip.video))
    ok, decoded = cap.read()
    count = 1
    while cap.read()[0]:
        count += 1
    assert ok and count == n and psnr(decoded, first) > 30


def test_write_demo_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    calls = []

    def failing_write_flo(path, flow):
        calls.append(path)
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(demo_module, "write_flo", failing_write_flo)
    with pytest.raises(RuntimeError):
        write_demo(tmp_path / "clip", n_frames=4, size=64)
    assert list((tmp_path / "clip").iterdir()) == []


def test_mediapipe_sees_the_person():
    pytest.importorskip("mediapipe")
    from pose_animate.synth.detectability import detect_mediapipe, detection_stats

    seq = list(render_sequence(seed=1, n_frames=24, size=256))
    detected = detect_mediapipe(f.image for f in seq)
    stats = detection_stats(np.array([f.keypoints for f in seq]), detected)
    assert stats["detection_rate"] >= 0.95
    assert stats["median_error"] < 0.03


def test_truth_sheet(synth_clip):
    from pose_animate.synth.qa import truth_sheet

    sheet = truth_sheet(synth_clip.truth, n_frames=2, tile_width=96)
    assert sheet.shape[1] > 5 * 96 and sheet.shape[0] > 2 * 96  # 2 rows of 5 pictures


def test_demo_video_stage_writes_the_rule_layout(tmp_path):
    from pose_animate.synth.demo import demo_video

    clip = tmp_path / "clip"
    meta = demo_video(clip / "video.mp4", clip / "truth", {"n_frames": 3, "size": 64})
    assert meta["n_frames"] == 3 and (clip / "video.mp4").is_file()
    assert len(list((clip / "truth" / "frames").iterdir())) == 3
    with pytest.raises(ValueError, match="video.mp4 and .*truth"):
        demo_video(clip / "video.mp4", tmp_path / "elsewhere", {"n_frames": 3, "size": 64})


def test_variation_makes_poses_that_never_come_back_and_zero_keeps_the_cycle():
    from pose_animate.synth import render_sequence

    def novelty(**params):
        kps = np.stack([f.keypoints[:25, :2] for f in render_sequence(
            seed=1, n_frames=96, size=128, **params)])
        held = 86  # the renderer's evaluation holds out the last 10%
        return min(np.linalg.norm(kps[:held] - kps[t], axis=2).mean(1).min()
                   for t in range(held + 4, 96)) / 100.0  # figure height ~100 px at 128

    assert novelty() < 0.005  # a strict cycle: every late pose was already seen
    assert novelty(variation=1.0) > 0.02
