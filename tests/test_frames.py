"""pose_animate.frames: probe, the person pass, crop geometry, extraction, coordinate maps, the
crop QA sheet and bad input."""

import subprocess

import av
import cv2
import numpy as np
import pytest

from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import list_frames, read_image, read_openpose_folder
from pose_animate.core.videoio import ffmpeg_exe, write_video
from pose_animate.frames.crop import (center_square, crop_plan, fills_frame,
                                      frame_source_indices,
                                      person_square, source_to_frame)
from pose_animate.frames.extract import extract_frames
from pose_animate.frames.person import _Prefetch, find_person
from pose_animate.frames.probe import _keyframe_times, probe, sample_frames
from pose_animate.frames.qa import crop_sheet


def ffmpeg(*args):
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def dot_video(path, width=160, height=96, dot=(100, 40), n=6, fps=12):
    """Dark frames with a bright 5x5 square centred on `dot` (source pixels)."""
    frame = np.full((height, width, 3), 20, np.uint8)
    x, y = dot
    frame[y - 2:y + 3, x - 2:x + 3] = 255
    write_video(path, [frame] * n, fps=fps, crf=1)
    return path


def bright_centroid(img):
    gray = img[..., 1].astype(np.float64)
    weight = np.clip(gray - 60, 0, None)
    ys, xs = np.indices(gray.shape)
    return (xs * weight).sum() / weight.sum(), (ys * weight).sum() / weight.sum()


def assert_nothing_left(parent):
    assert not any(p.name.startswith((".frames", "frames")) for p in parent.iterdir())


# ---- geometry --------------------------------------------------------------------------

def test_person_square_is_padded_centred_and_kept_inside():
    # 40 px wide x 100 px tall person in a 400x300 frame: side 100 + 2 x 15.
    assert person_square((100, 50, 140, 150), 400, 300, 0.15) == [55, 35, 130, 130]
    # At the top edge: the padding stops at the edge (115 tall, not 130).
    assert person_square((100, 0, 140, 100), 400, 300, 0.15) == [62, 0, 115, 115]
    # Near the right edge: the square shifts to stay inside.
    assert person_square((370, 50, 400, 150), 400, 300, 0.15) == [270, 35, 130, 130]
    # Taller than the frame is wide: covers the whole width, black beyond it, never shrunk.
    x, y, side, _ = person_square((10, 0, 90, 300), 100, 300, 0.15)
    assert side == 300 and y == 0 and x + side >= 100 and x <= 0


def test_a_box_fills_the_frame_when_its_padding_reaches_every_edge():
    assert fills_frame((20, 10, 380, 290), 400, 300, 0.15)  # 54 px of padding
    assert not fills_frame((100, 10, 380, 290), 400, 300, 0.15)  # 46 px short on the left
    assert not fills_frame((20, 10, 380, 290), 400, 300, 0.0)
    # Filling the frame, any larger box makes the same square.
    square = person_square((20, 10, 380, 290), 400, 300, 0.15)
    assert square == person_square((0, 0, 400, 300), 400, 300, 0.15) == [0, -50, 400, 400]


def test_crop_plan_pads_after_scaling_and_maps_exactly():
    plan = crop_plan([-420, 0, 1920, 1920], 1080, 1920, 512)
    assert plan["inside"] == [0, 0, 1080, 1920] and plan["padded"]
    assert plan["size"] == [512, 512] and plan["content"] == [112, 0, 288, 512]
    record = {"crop_box": plan["crop_box"], "scale": plan["scale"]}
    # The frame's corners land on the content box's corners (pixel edges at -0.5).
    corners = source_to_frame([[-0.5, -0.5], [1079.5, 1919.5]], record)
    np.testing.assert_allclose(corners, [[111.5, -0.5], [399.5, 511.5]], atol=1e-3)
    assert center_square(160, 96) == [32, 0, 96, 96]


def test_source_to_frame_keeps_missing_points_missing():
    record = {"crop_box": [32, 0, 96, 96], "scale": [0.5, 0.5]}
    points = np.array([[[100, 40, 0.9], [0, 0, 0]]], np.float32)
    out = source_to_frame(points, record)
    np.testing.assert_allclose(out[0, 0], [33.75, 19.75, 0.9], atol=1e-5)
    np.testing.assert_array_equal(out[0, 1], [0, 0, 0])


# ---- videos ----------------------------------------------------------------------------

def test_probe_reports_size_fps_frames_and_codec(tmp_path):
    info = probe(dot_video(tmp_path / "v.mp4", n=10, fps=12))
    assert (info["width"], info["height"], info["frames"]) == (160, 96, 10)
    assert info["fps"] == 12 and info["codec"] == "h264" and info["rotation"] == 0
    assert info["duration_s"] == pytest.approx(10 / 12, abs=0.01)


def test_center_crop_frames_and_dot_position(tmp_path):
    video = dot_video(tmp_path / "v.mp4")
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="center", size=48))
    frames = list_frames(tmp_path / "frames")
    assert len(frames) == record["frames"] == 6
    assert record["crop_box"] == [32, 0, 96, 96] and record["size"] == [48, 48]
    assert record["person_pass"] is None and not record["padded"]
    img = read_image(frames[3])
    assert img.shape == (48, 48, 3)
    expected = source_to_frame([[100, 40]], record)[0]
    np.testing.assert_allclose(bright_centroid(img), expected, atol=0.35)


def test_crop_qa_sheet_shows_the_crop_square(tmp_path):
    video = dot_video(tmp_path / "v.mp4")
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="center", size=48))
    sheet = crop_sheet(video, record, tmp_path / "frames")
    assert sheet.shape[0] == 480 and sheet.shape[1] > 480
    # The red square's left edge: source x = 32 at 480 / 96 = 5 canvas px per source px.
    column = sheet[100:400, 160].astype(int)
    assert (column[:, 2] > 150).all() and (column[:, 1] < 100).all()


def test_crop_none_scales_the_long_side_and_max_frames(tmp_path):
    video = dot_video(tmp_path / "v.mp4", n=8)
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="none", size=80, max_frames=5))
    assert record["size"] == [80, 48] and record["frames"] == 5
    assert read_image(list_frames(tmp_path / "frames")[0]).shape == (48, 80, 3)
    np.testing.assert_allclose(bright_centroid(read_image(list_frames(tmp_path / "frames")[0])),
                               source_to_frame([[100, 40]], record)[0], atol=0.35)


def binary_frame(j):
    """A frame showing the number j as six black/white 8x8 blocks (robust to compression)."""
    bits = [(j >> b) & 1 for b in range(6)]
    return np.repeat(np.repeat(np.array(bits, np.uint8)[None] * 255, 8, 0), 8, 1)[..., None] \
        .repeat(3, 2)


def read_binary_frame(img):
    return sum(int(img[:, 8 * b:8 * b + 8].mean() > 127) << b for b in range(6))


def test_fps_resampling_picks_the_frames_frame_source_indices_names(tmp_path):
    write_video(tmp_path / "v.mp4", [binary_frame(j) for j in range(50)], fps=25, crf=1)
    for fps in (10, 30):
        out = tmp_path / f"f{fps}"
        record = extract_frames(tmp_path / "v.mp4", out,
                                settings("frames", crop="none", size=None, fps=fps))
        assert record["fps"] == fps and record["resampled"]
        shown = [read_binary_frame(read_image(p)) for p in list_frames(out)]
        assert shown == frame_source_indices(record).tolist()
        assert len(shown) == 2 * fps


@pytest.mark.parametrize("n_samples, keyframe_every", [(32, None), (6, 8)])
def test_person_pass_samples_span_the_video_and_know_their_frame(tmp_path, n_samples,
                                                                 keyframe_every):
    video = tmp_path / "v.mp4"
    write_video(video, [binary_frame(j) for j in range(40)], fps=25, crf=1)
    if keyframe_every:  # many keyframes: the pass seeks instead of decoding everything
        ffmpeg("-i", video, "-g", keyframe_every, "-bf", 2, "-crf", 1, tmp_path / "gop.mp4")
        video = tmp_path / "gop.mp4"
    info = probe(video)
    samples = list(sample_frames(video, info, np.linspace(0, 39, n_samples).round(),
                                 long_side=48))
    indices = [index for index, _ in samples]
    assert indices == sorted(set(indices)) and indices[0] == 0 and indices[-1] >= 37
    # Non-reference frames are skipped, never the rest of the video.
    assert len(samples) >= min(n_samples, 16)
    for index, small in samples:  # 48 px: the native size, blocks stay 8 px
        assert read_binary_frame(cv2.cvtColor(small, cv2.COLOR_RGB2BGR)) == index


def test_keyframe_times_are_presentation_times_so_seeks_land_on_them(tmp_path):
    write_video(tmp_path / "v.mp4", [binary_frame(j) for j in range(40)], fps=25, crf=1)
    video = tmp_path / "gop.mp4"
    ffmpeg("-i", tmp_path / "v.mp4", "-g", 8, "-bf", 2, "-crf", 1, video)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        decoding_times = sorted(e.timestamp for e in stream.index_entries if e.is_keyframe)
        stream.codec_context.skip_frame = "NONKEY"
        shown = [frame.pts for frame in container.decode(stream)]
    times = _keyframe_times(video)
    assert times == shown and len(times) >= 5
    assert times != decoding_times  # B-frames delay presentation: the index is earlier
    with av.open(str(video)) as container:  # a seek to a keyframe's time lands on it
        stream = container.streams.video[0]
        container.seek(times[2], stream=stream, backward=True)
        assert next(container.decode(stream)).pts == times[2]


def test_prefetch_passes_items_and_errors_and_stops_when_left_early():
    def items(n, fail=False):
        yield from range(n)
        if fail:
            raise ValueError("broken video")

    with _Prefetch(items(20), depth=2) as ahead:
        assert list(ahead) == list(range(20))
    with pytest.raises(ValueError, match="broken video"):
        with _Prefetch(items(3, fail=True)) as ahead:
            list(ahead)
    produced = []
    with pytest.raises(RuntimeError):  # the consumer fails (e.g. the detector's start-up)
        with _Prefetch(produced.append(i) or i for i in range(10 ** 6)) as ahead:
            raise RuntimeError("detector")
    assert ahead._thread.is_alive() is False and len(produced) < 100


def test_rotation_metadata_gives_upright_frames(tmp_path):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :16] = 255  # a bright band on the left of the stored picture
    write_video(tmp_path / "plain.mp4", [frame] * 4, fps=10, crf=1)
    ffmpeg("-display_rotation", 90, "-i", tmp_path / "plain.mp4", "-c", "copy",
           tmp_path / "rotated.mp4")
    info = probe(tmp_path / "rotated.mp4")
    assert info["rotation"] == 90 and (info["width"], info["height"]) == (48, 64)
    record = extract_frames(tmp_path / "rotated.mp4", tmp_path / "frames",
                            settings("frames", crop="none", size=None))
    img = read_image(list_frames(tmp_path / "frames")[0])
    upright = np.rot90(frame, 1)  # display rotation 90 = a quarter turn counter-clockwise
    assert img.shape == upright.shape == (64, 48, 3) and record["size"] == [48, 64]
    assert np.abs(img.astype(int) - upright).mean() < 8
    _, small = next(sample_frames(tmp_path / "rotated.mp4", info, [2], long_side=32))
    assert small.shape[:2] == (32, 24)


def test_tiny_video_without_a_person_falls_back_to_the_centre(tmp_path):
    video = tmp_path / "tiny.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", 1, "-pix_fmt", "yuv420p",
           video)
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="person", size=128, person_samples=4))
    assert record["crop_fallback"] == "center" and record["crop_box"] == [8, 0, 48, 48]
    assert record["person_pass"]["sampled"] == 4 and record["person_pass"]["found"] == 0
    assert record["frames"] == 10 and record["size"] == [128, 128]
    assert any("upscaled" in w for w in record["warnings"])


@pytest.mark.parametrize("n", [1, 2])
def test_one_and_two_frame_videos_are_sampled_and_extracted(tmp_path, n):
    video = tmp_path / "short.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", n,
           "-pix_fmt", "yuv420p", video)
    assert probe(video)["start_s"] == 0.0  # a frame flushed out of the decoder has no time
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="person", size=32, person_samples=4))
    assert record["frames"] == n and record["person_pass"]["sampled"] == n
    assert crop_sheet(video, record, tmp_path / "frames").ndim == 3


def test_a_full_disk_is_blamed_on_the_disk_not_the_video(tmp_path, monkeypatch):
    import pose_animate.frames.extract as extract

    video = dot_video(tmp_path / "v.mp4")
    monkeypatch.setattr(extract, "_run_ffmpeg", lambda *args: None)  # ffmpeg wrote nothing
    monkeypatch.setattr(extract, "disk_is_full", lambda path: True)
    with pytest.raises(PoseAnimateError, match="the disk is full") as err:
        extract_frames(video, tmp_path / "out" / "frames", settings("frames", crop="center"))
    assert "re-encode" not in str(err.value) and "df -h" in str(err.value)
    assert_nothing_left(tmp_path / "out")


# ---- folders of images -----------------------------------------------------------------

def test_image_folder_natural_order_mixed_formats_and_fps(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(12):  # f0 .. f11: natural order puts f2 before f10
        level = 20 + 15 * i
        cv2.imwrite(str(folder / f"f{i}.{'jpg' if i % 3 == 0 else 'png'}"),
                    np.full((40, 60, 3), level, np.uint8))
    record = extract_frames(folder, tmp_path / "frames",
                            settings("frames", crop="none", size=None))
    assert record["probe"]["kind"] == "images" and record["fps"] == 25 and record["frames"] == 12
    levels = [round((read_image(p).mean() - 20) / 15) for p in list_frames(tmp_path / "frames")]
    assert levels == list(range(12))
    record = extract_frames(folder, tmp_path / "frames10",
                            settings("frames", crop="center", size=20, fps=10))
    assert record["fps"] == 10 and not record["resampled"] and record["frames"] == 12


def test_image_folder_with_an_odd_size_names_the_file(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        cv2.imwrite(str(folder / f"{i}.png"), np.zeros((40, 60 if i != 2 else 62, 3), np.uint8))
    with pytest.raises(PoseAnimateError, match=r"2\.png.*62x40.*60x40.*Fix: resize") as err:
        extract_frames(folder, tmp_path / "out" / "frames", settings("frames", crop="none"))
    assert_nothing_left(tmp_path / "out")


# ---- bad input -------------------------------------------------------------------------

def bad_inputs(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    good = tmp_path / "good.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", 4, "-g", 10,
           "-pix_fmt", "yuv420p", good)
    ffmpeg("-i", good, "-c", "copy", "-movflags", "+faststart", tmp_path / "faststart.mp4")
    for name in ("good", "faststart"):
        data = (tmp_path / f"{name}.mp4").read_bytes()
        (tmp_path / f"{name}_half.mp4").write_bytes(data[:len(data) // 2])
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", 0,
           tmp_path / "zero.mp4")
    (tmp_path / "empty").mkdir()
    return {"text": (text, "cannot be opened as a video"),
            "truncated (index at the end)": (tmp_path / "good_half.mp4",
                                             "cannot be opened as a video"),
            "truncated (index first)": (tmp_path / "faststart_half.mp4",
                                        r"truncated: its header lists 100 frames"),
            "zero frames": (tmp_path / "zero.mp4", "zero frames"),
            "empty folder": (tmp_path / "empty", "no images"),
            "missing": (tmp_path / "absent.mp4", "does not exist")}


def test_bad_input_is_a_clear_error_and_leaves_no_output(tmp_path):
    for case, (source, problem) in bad_inputs(tmp_path).items():
        out = tmp_path / "out" / case
        def state():  # size and modification time: the input is never touched
            return (source.stat().st_size, source.stat().st_mtime_ns) if source.exists() \
                else None

        before = state()
        with pytest.raises(PoseAnimateError, match=problem) as err:
            extract_frames(source, out / "frames", settings("frames"))
        message = str(err.value)
        assert str(source) in message and "Fix:" in message, case
        assert not out.exists() or not any(out.iterdir()), case
        assert state() == before, case


# ---- the person crop on the demo figure and on real video ------------------------------

@pytest.mark.parametrize("source", ["video.mp4", "truth/frames"])
def test_person_crop_holds_the_whole_demo_figure(synth_clip, tmp_path, source):
    record = extract_frames(synth_clip.root / source, tmp_path / "frames",
                            settings("frames", crop="person", size=128, person_samples=8))
    assert record["crop_fallback"] is None and record["frames"] == 24
    assert record["person_pass"]["found"] >= 7
    truth = read_openpose_folder(synth_clip.truth / "keypoints")
    inside = source_to_frame(truth, record)
    seen = truth[..., 2] > 0
    assert seen.any()
    assert (inside[seen][:, :2] >= 0).all() and (inside[seen][:, :2] <= 127).all()
    # The whole silhouette too (hair, hands and feet reach past the joints).
    masks = np.stack([read_image(p, cv2.IMREAD_GRAYSCALE)
                      for p in sorted((synth_clip.truth / "mask").glob("*.png"))])
    ys, xs = np.nonzero(masks.max(0) > 127)
    corners = source_to_frame([[xs.min(), ys.min()], [xs.max(), ys.max()]], record)
    assert (corners >= -0.5).all() and (corners <= 127.5).all()


def test_person_crop_on_real_dance_video_holds_the_dancer(realdata, tmp_path):
    video = realdata / "videos" / "musepose_dance.mp4"
    record = extract_frames(video, tmp_path / "frames",
                            settings("frames", crop="person", size=128, max_frames=48,
                                     person_samples=6))
    person = record["person_pass"]
    # The dancer's padded box reaches every edge of the frame in the first sample: that
    # already is the crop, so the pass stops (see the next test: the same crop as all 6).
    assert person["sampled"] == person["found"] == 1 and person["stopped_early"]
    for _, box in person["boxes"]:  # every person box lies inside the frames
        corners = source_to_frame([box[:2], box[2:]], record)
        assert (corners >= -0.5).all() and (corners <= 127.5).all()
    assert record["frames"] == 48 and record["size"] == [128, 128]
    # A portrait video: the square is the frame's height, black on both sides.
    assert record["padded"] and record["content_box"][3] == 128


@pytest.mark.parametrize("name", ["musepose_dance.mp4", "mmhuman3d_single_person_demo.mp4",
                                  "mmhuman3d_multi_person_demo.mp4"])
def test_stopping_the_person_pass_early_never_changes_the_crop(realdata, name):
    video = realdata / "videos" / name
    info = probe(video)
    width, height, padding = info["width"], info["height"], 0.15
    every = find_person(video, info, 16)
    early = find_person(video, info, 16,
                        final=lambda union: fills_frame(union, width, height, padding))
    assert person_square(early["box"], width, height, padding) == \
        person_square(every["box"], width, height, padding)
    assert early["stopped_early"] == (early["sampled"] < 16)
    assert early["stopped_early"] == (name == "musepose_dance.mp4")  # the one that fills it
