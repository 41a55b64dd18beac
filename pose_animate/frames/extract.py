"""Probe a video (or a folder of images) and extract square PNG frames around the person.

Coordinates: "source pixels" are pixels of the upright source frame, i.e. after its rotation
metadata is applied, as players show it (ffmpeg autorotates; the probe reports that upright
size). `source_to_frame` maps them to extracted-frame pixels (pixel centres at integers, as in
OpenPose JSON).

Crop (`crop`):
- person: ONE square for the whole video (never one that jitters per frame), around the union
  of the person boxes that a low-resolution pose pass (pose_animate.keypoints.person_box)
  finds in `person_samples` frames spread evenly over the video, padded on each side by
  `person_padding` x the union's long side, centred on the person and shifted to stay inside
  the frame. The square is never shrunk to fit: where it is larger than the frame (a
  full-body dancer in a portrait video) the part outside the frame is black (`padded: true` in the
  record), so the whole person stays in view. Nobody found in any sample: the centre crop, a
  logged warning and `crop_fallback` in the record.
- center: the largest centred square. none: the whole frame.
`size` is the square side (the long side with crop none); null keeps the native size.

ffmpeg decodes, autorotates, resamples (`fps`), crops, scales and encodes the PNGs itself, with
`threads` threads; frames never pass through Python and memory does not grow with length.
A folder of images (natural order, all the size of the first) is decoded image by image with
OpenCV (so PNG and JPEG may be mixed) and piped through the same ffmpeg filters; its frame
rate is `fps` when given, else 25 (images carry none), and it is never resampled.
"""

import math
import queue
import subprocess
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import ffmpeg
import numpy as np

from ..core.atomic import atomic_dir
from ..core.draw import contact_sheet, evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import list_frames, list_images, read_image, write_image
from .person_box import PersonBoxFinder, union_boxes
from ..core.runlog import log, progress
from ..core.videoio import ffmpeg_exe

IMAGE_FOLDER_FPS = 25.0
PERSON_PASS_LONG_SIDE = 320  # the pose detector sees 224 px anyway; larger only costs time
REENCODE = "re-encode it, e.g. `ffmpeg -i in.mp4 -c:v libx264 -crf 18 out.mp4`"


# ---- probe -----------------------------------------------------------------------------

def probe(source, fps: float | None = None) -> dict:
    """What the source holds: kind, codec, upright width/height, rotation, fps, frames, duration.

    A video is demuxed once (no decoding but its first frame) to count its frames exactly and
    to catch truncated files; a folder of images takes `fps` (else 25).
    """
    source = Path(source)
    if source.is_dir():
        return _probe_images(source, fps)
    if not source.is_file():
        raise PoseAnimateError("the video does not exist.", path=source,
                               fix="correct the video column of the subject sheet.")
    return _probe_video(source)


def _probe_video(path: Path) -> dict:
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise PoseAnimateError(f"cannot be opened as a video ({exc}).", path=path,
                               fix=f"check that it is a complete video file; {REENCODE}.")
    with container:
        if not container.streams.video:
            raise PoseAnimateError("the file has no video stream (zero frames).", path=path,
                                   fix="point the subject sheet at a video with frames.")
        stream = container.streams.video[0]
        packets, first = 0, None
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                packets += 1
                if first is None:
                    first = next(iter(packet.decode()), None)
            if first is None and packets:
                first = next(iter(stream.decode(None)), None)  # flush a delayed decoder
        except av.FFmpegError as exc:
            raise PoseAnimateError(
                f"the video is truncated or corrupt after {packets} frames ({exc}).",
                path=path, fix=f"copy or download it again, or {REENCODE}.")
        declared = stream.frames
        if packets == 0 or first is None:
            raise PoseAnimateError("the video has zero decodable frames.", path=path,
                                   fix="point the subject sheet at a video with frames.")
        if declared and packets < declared:
            raise PoseAnimateError(
                f"the video is truncated: its header lists {declared} frames but the file "
                f"holds only {packets}.", path=path,
                fix=f"copy or download it again, or {REENCODE}.")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps_in = float(rate) if rate else 25.0
        rotation = int(round(first.rotation or 0)) % 360
        coded = (first.width, first.height)
        upright = coded[::-1] if rotation in (90, 270) else coded
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = packets / fps_in
        return {"kind": "video", "codec": stream.codec_context.name,
                "pix_fmt": first.format.name, "width": upright[0], "height": upright[1],
                "coded_size": list(coded), "rotation": rotation, "fps": fps_in,
                "frames": packets, "duration_s": round(duration, 4),
                "start_s": float(first.time or 0.0)}


def _probe_images(folder: Path, fps: float | None) -> dict:
    images = list_images(folder)
    if not images:
        raise PoseAnimateError("the image folder holds no images (zero frames).", path=folder,
                               fix="put the frames there as .png/.jpg files, or point the "
                                   "subject sheet at a video.")
    height, width = _read_folder_image(images[0]).shape[:2]
    fps = float(fps or IMAGE_FOLDER_FPS)
    return {"kind": "images", "codec": "images", "width": width, "height": height,
            "coded_size": [width, height], "rotation": 0, "fps": fps, "frames": len(images),
            "duration_s": round(len(images) / fps, 4), "start_s": 0.0}


def _read_folder_image(path: Path, size: tuple | None = None) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise PoseAnimateError("cannot read this image.", path=path,
                               fix="replace the file or remove it from the folder.")
    if size is not None and img.shape[:2] != size:
        raise PoseAnimateError(
            f"image is {img.shape[1]}x{img.shape[0]} but the folder's first image is "
            f"{size[1]}x{size[0]}; every frame must have the same size.", path=path,
            fix="resize the images to one size or remove the odd ones.")
    return img


# ---- the person pass -------------------------------------------------------------------

def sample_frames(source, info: dict, indices, long_side: int = PERSON_PASS_LONG_SIDE,
                  threads: int = 2):
    """Yield (source frame index, small upright RGB image, `long_side` long) for the source
    frames `indices` (ascending), in order.

    A video is decoded only where needed: seek to the keyframe before a frame when one lies
    ahead of the decoder, skip non-reference frames (nothing depends on them) and the
    deblocking filter. A frame that was skipped is stood in for by the next decoded one (its
    own index is yielded; one frame never twice).
    """
    targets = sorted(set(int(i) for i in indices))
    scale = long_side / max(info["width"], info["height"])
    small = (max(1, round(info["width"] * scale)), max(1, round(info["height"] * scale)))
    if info["kind"] == "images":
        images = list_images(source)
        for index in targets:
            img = _read_folder_image(images[index], (info["height"], info["width"]))
            yield int(index), cv2.cvtColor(cv2.resize(img, small, interpolation=cv2.INTER_AREA),
                                           cv2.COLOR_BGR2RGB)
        return
    quarter_turns = info["rotation"] // 90
    coded_small = small[::-1] if quarter_turns % 2 else small
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = threads
        stream.codec_context.skip_frame = "NONREF"
        # Deblocking is ~15% of H.264 decoding and invisible at the detector's 320 px.
        stream.codec_context.options = {"skip_loop_filter": "all"}
        base = stream.time_base
        keyframes = _keyframe_times(source)
        frames = container.decode(stream)
        position = keyframes[0] if keyframes else None  # where the decoder stands
        last = None  # the frame yielded last: the first one at or after its target
        for index in targets:
            target = (info["start_s"] + (index - 0.5) / info["fps"]) / base
            behind = [k for k in keyframes if k <= target]
            if behind and position is not None and behind[-1] > position:
                container.seek(int(target), stream=stream, backward=True)
                frames, last = container.decode(stream), None
            if last is not None and last.pts >= target:
                continue  # skipped non-reference frames: the last one serves this target too
            for frame in frames:
                if frame.pts is None:
                    continue
                position = frame.pts
                if frame.pts >= target:
                    break
            else:
                return
            last = frame
            found = round((frame.time - info["start_s"]) * info["fps"])
            rgb = frame.to_ndarray(width=coded_small[0], height=coded_small[1],
                                   format="rgb24", interpolation="AREA")
            yield found, np.ascontiguousarray(np.rot90(rgb, quarter_turns))


def _keyframe_times(path) -> list[int]:
    """Presentation times of the video's keyframes (stream time base), from one demux pass.

    Not the index entries: those hold decoding times, earlier by the B-frame delay, and a seek
    to a time between a keyframe's decoding and presentation times lands on the keyframe
    before it (measured: musepose_dance.mp4 went back to its start and decoded it twice)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(p.pts for p in container.demux(stream) if p.is_keyframe and p.pts is not None)


def find_person(source, info: dict, n_samples: int = 16, span: int | None = None,
                threads: int = 2) -> dict:
    """Person boxes of the sampled frames, in source pixels, and their union (None: nobody)."""
    boxes = []
    span = min(span or info["frames"], info["frames"])
    indices = evenly_spaced(span, n_samples)
    # Decoding (a thread, started here) overlaps the detector's start-up and inference.
    with _Prefetch(sample_frames(source, info, indices, threads=threads)) as samples, \
            PersonBoxFinder() as find:
        for index, rgb in samples:
            box = find(rgb)
            if box is not None:
                to_source = np.array([info["width"] / rgb.shape[1], info["height"] / rgb.shape[0]])
                box = [round(float(v), 1) for v in box * np.tile(to_source, 2)]
            boxes.append([index, box])
    found = [b for _, b in boxes if b is not None]
    union = union_boxes(found)
    return {"sampled": len(boxes), "found": len(found),
            "box": None if union is None else [round(float(v), 1) for v in union],
            "boxes": boxes}


class _Prefetch:
    """Iterate `iterable` in a thread started at once, `depth` items ahead; its exceptions are
    re-raised here. Leaving the `with` block early (an error) stops the thread."""

    def __init__(self, iterable, depth: int = 8):
        self._items, self._end, self._failure = queue.Queue(depth), object(), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iterable,), daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        """Queue `item` unless stopped meanwhile; False when stopped."""
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def _run(self, iterable):
        try:
            for item in iterable:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            self._failure.append(exc)
        finally:
            self._put(self._end)

    def __iter__(self):
        while (item := self._items.get()) is not self._end:
            yield item
        if self._failure:
            raise self._failure[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


# ---- geometry --------------------------------------------------------------------------

def person_square(box, width: int, height: int, padding: float) -> list[int]:
    """[x, y, side, side]: the square around `box` (x0, y0, x1, y1) padded by `padding` x its
    long side, in source pixels.

    Padding never reaches past the frame (it would only add black); the square is centred on
    the padded box and shifted to stay inside the frame where it fits, else it covers the whole
    frame along that axis with black beyond it (never shrunk: the whole person stays in view).
    """
    x0, y0, x1, y1 = box
    pad = padding * max(x1 - x0, y1 - y0)
    x0, x1 = max(x0 - pad, 0), min(x1 + pad, width)
    y0, y1 = max(y0 - pad, 0), min(y1 + pad, height)
    side = max(1, math.ceil(max(x1 - x0, y1 - y0)))
    x = _place(round((x0 + x1 - side) / 2), side, width)
    y = _place(round((y0 + y1 - side) / 2), side, height)
    return [x, y, side, side]


def _place(start: int, side: int, limit: int) -> int:
    if side <= limit:
        return min(max(start, 0), limit - side)
    return min(max(start, limit - side), 0)


def center_square(width: int, height: int) -> list[int]:
    side = min(width, height)
    return [(width - side) // 2, (height - side) // 2, side, side]


def output_size(box_w: int, box_h: int, size: int | None) -> tuple[int, int]:
    """(width, height) of the frames: `size` on the long side of the crop box."""
    if size is None:
        return box_w, box_h
    scale = size / max(box_w, box_h)
    return max(1, round(box_w * scale)), max(1, round(box_h * scale))


def crop_plan(box, width: int, height: int, size: int | None) -> dict:
    """How ffmpeg makes frames of `box` ([x, y, w, h] in source pixels, possibly reaching
    past the frame): crop the part inside the frame, scale it, pad it with black to the
    output size (padding the small output is far cheaper than padding the source).

    Returns the ffmpeg steps (`inside` [x, y, w, h] in source pixels, `content` [x, y, w, h]
    in frame pixels, `size` [w, h]) and the exact map they make: `scale` [sx, sy] and
    `crop_box`, the source region the frames show (fractional where padding and whole-pixel
    sizes disagree by a fraction of a pixel).
    """
    x, y, w, h = box
    out_w, out_h = output_size(w, h, size)
    ix0, iy0 = max(x, 0), max(y, 0)
    ix1, iy1 = min(x + w, width), min(y + h, height)
    inside = [ix0, iy0, ix1 - ix0, iy1 - iy0]
    content_w = min(out_w, max(1, round(inside[2] * out_w / w)))
    content_h = min(out_h, max(1, round(inside[3] * out_h / h)))
    left = min(out_w - content_w, round((ix0 - x) * out_w / w))
    top = min(out_h - content_h, round((iy0 - y) * out_h / h))
    sx, sy = content_w / inside[2], content_h / inside[3]
    return {"inside": inside, "content": [left, top, content_w, content_h],
            "size": [out_w, out_h], "scale": [sx, sy],
            "crop_box": [ix0 - left / sx, iy0 - top / sy, out_w / sx, out_h / sy],
            "padded": inside != [x, y, w, h]}


def source_to_frame(points, record: dict) -> np.ndarray:
    """Map source-video pixel coordinates to extracted-frame pixels (through crop and resize).

    `points` is (..., 2) [x, y] or (..., 3) [x, y, confidence]; with a confidence, missing
    points (confidence 0, stored as 0, 0, 0) stay (0, 0, 0). Points outside the crop keep
    their (outside) coordinates. Pixel centres are at integers on both sides, so the map is
    x_frame = (x_source - crop_x + 0.5) * scale_x - 0.5.
    """
    points = np.array(points, np.float32, copy=True)
    x, y = record["crop_box"][:2]
    sx, sy = record["scale"]
    out = points.copy()
    out[..., 0] = (points[..., 0] - x + 0.5) * sx - 0.5
    out[..., 1] = (points[..., 1] - y + 0.5) * sy - 0.5
    if points.shape[-1] == 3:
        out[points[..., 2] <= 0] = 0
    return out


def frame_source_indices(record: dict) -> np.ndarray:
    """For each extracted frame, the index of the source frame it shows.

    Without fps resampling frame i is source frame i. With it, ffmpeg's fps filter rounds each
    source frame j to the nearest output tick, round(j * fps_out / fps_in) (halves up), and
    tick i shows the LAST source frame rounded to it or before it (ticks that no frame reaches
    repeat the previous one): j = ceil((i + 1/2) * fps_in / fps_out) - 1. Measured exact in
    tests/test_frames.py for 25 -> 10, 12, 24 and 30 fps.
    """
    n = record["frames"]
    if not record["resampled"]:
        return np.arange(n)
    ratio = _fraction(record["probe"]["fps"]) / _fraction(record["fps"])
    ticks = [math.ceil((Fraction(2 * i + 1, 2)) * ratio) - 1 for i in range(n)]
    return np.clip(np.array(ticks, int), 0, record["probe"]["frames"] - 1)


def _fraction(rate: float) -> Fraction:
    return Fraction(rate).limit_denominator(1001000)


# ---- extraction ------------------------------------------------------------------------

def extract_frames(source, out_dir, *, crop: str = "person", size: int | None = 512,
                   fps: float | None = None, max_frames: int | None = None,
                   person_padding: float = 0.15, person_samples: int = 16,
                   png_compression: int = 1, threads: int = 2,
                   subject: str | None = None) -> dict:
    """Write `out_dir/000000.png ...` (atomically) and return the record (for frames.json):

    source; probe (see `probe`); crop, crop_fallback (None or "center"); person_pass (None,
    or sampled, found, box = union (x0, y0, x1, y1) and boxes = [frame, box or None] per
    sample, in source pixels); square ([x, y, side, side], the chosen square in source
    pixels); crop_box ([x, y, w, h], the source region the frames show exactly) and scale
    ([sx, sy]), which `source_to_frame` uses; size ([w, h]); source_region (the part of the
    source inside the frame that ffmpeg crops) and content_box ([x, y, w, h] in frame pixels,
    where it lands; the rest is black when padded); padded; fps, resampled (see
    `frame_source_indices`); frames (written); seconds per step; warnings.
    """
    try:
        return _extract(Path(source), Path(out_dir), crop, size, fps, max_frames,
                        person_padding, person_samples, png_compression, threads)
    except PoseAnimateError as exc:
        raise exc.for_subject(subject) if subject else exc


def _extract(source, out_dir, crop, size, fps, max_frames, person_padding, person_samples,
             png_compression, threads):
    started = time.perf_counter()
    info = probe(source, fps)
    width, height = info["width"], info["height"]
    resampled = info["kind"] == "video" and fps is not None and \
        abs(float(fps) - info["fps"]) > 1e-6
    fps_out = float(fps) if resampled else info["fps"]
    expected = round(info["duration_s"] * fps_out) if resampled else info["frames"]
    if max_frames:
        expected = min(expected, max_frames)
    log.info("%s: %s %dx%d, %.3g fps, %d frames, %.1f s, rotation %d", source, info["codec"],
             width, height, info["fps"], info["frames"], info["duration_s"], info["rotation"])
    seconds = {"probe": time.perf_counter() - started}

    record = {"source": str(source), "probe": info, "crop": crop, "crop_fallback": None,
              "person_pass": None, "warnings": []}
    if crop == "person":
        step = time.perf_counter()
        span = math.ceil(expected * info["fps"] / fps_out)
        person = find_person(source, info, person_samples, span, threads)
        record["person_pass"] = person
        seconds["person_pass"] = time.perf_counter() - step
        log.info("person pass: a person in %d of %d sampled frames (%.1f s)", person["found"],
                 person["sampled"], seconds["person_pass"])
        if person["box"] is None:
            record["crop_fallback"] = "center"
            _warn(record, f"nobody found in any of the {person['sampled']} sampled frames: "
                          "falling back to the centre crop.")
            box = center_square(width, height)
        else:
            box = person_square(person["box"], width, height, person_padding)
    elif crop == "center":
        box = center_square(width, height)
    else:
        box = [0, 0, width, height]
    plan = crop_plan(box, width, height, size)
    out_w, out_h = plan["size"]
    record.update(square=box, crop_box=[round(v, 4) for v in plan["crop_box"]],
                  scale=plan["scale"], size=plan["size"], source_region=plan["inside"],
                  content_box=plan["content"], padded=plan["padded"], fps=fps_out,
                  resampled=resampled)
    if plan["padded"]:
        _warn(record, f"the {box[2]} px square around the person is larger than the "
                      f"{width}x{height} frame: the part outside it is black.")
    if max(plan["scale"]) > 2:
        _warn(record, f"frames are upscaled x{max(plan['scale']):.1f} from a {box[2]} px "
                      "crop: they hold less detail than their size suggests.")

    step = time.perf_counter()
    with atomic_dir(out_dir) as tmp:
        _run_ffmpeg(source, info, tmp, plan, fps_out if resampled else None,
                    max_frames, png_compression, threads, expected)
        written = len(list_frames(tmp))
        if written == 0:
            raise PoseAnimateError("ffmpeg wrote no frames.", path=source,
                                   fix=f"check that the video plays; {REENCODE}.")
        if written < expected - max(2, 0.02 * expected):
            raise PoseAnimateError(
                f"only {written} of {expected} frames could be decoded: the video is "
                "damaged.", path=source, fix=f"copy or download it again, or {REENCODE}.")
        if written < expected:
            _warn(record, f"{expected - written} of {expected} frames could not be decoded.")
    seconds["extract"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - started
    record.update(frames=written, seconds={k: round(v, 3) for k, v in seconds.items()})
    log.info("wrote %d frames %dx%d to %s: crop %s %s%s, %.3g fps, %.1f s (%.1f frames/s)",
             written, out_w, out_h, out_dir, crop, record["crop_box"],
             f" (fallback {record['crop_fallback']})" if record["crop_fallback"] else "",
             fps_out, seconds["total"], written / max(seconds["extract"], 1e-9))
    return record


def _warn(record: dict, message: str) -> None:
    log.warning("%s", message)
    record["warnings"].append(message)


def _run_ffmpeg(source, info, out_dir, plan, fps, max_frames, png_compression, threads,
                expected):
    """One ffmpeg process: [fps] -> crop -> [scale] -> [pad] -> PNG, with a progress bar."""
    if info["kind"] == "images":
        stream = ffmpeg.input("pipe:0", format="rawvideo", pix_fmt="bgr24",
                              s=f"{info['width']}x{info['height']}", framerate=info["fps"])
    else:
        stream = ffmpeg.input(str(source), threads=threads)
    video = stream.video
    if fps is not None:
        video = video.filter("fps", fps=fps)
    x, y, w, h = plan["inside"]
    if plan["inside"] != [0, 0, info["width"], info["height"]]:
        video = video.filter("crop", w, h, x, y, exact=1)
    left, top, content_w, content_h = plan["content"]
    if (content_w, content_h) != (w, h):
        video = video.filter("scale", content_w, content_h)
    if plan["padded"]:
        # in RGB: yuv420 would round odd pad offsets down to even ones.
        video = video.filter("format", "rgb24").filter(
            "pad", plan["size"][0], plan["size"][1], left, top, color="black")
    options = {"start_number": 0, "vcodec": "png", "pix_fmt": "rgb24",
               "compression_level": png_compression, "fps_mode": "passthrough",
               "threads": threads}
    if max_frames:
        options["frames:v"] = max_frames
    cmd = (ffmpeg.output(video, str(out_dir / "%06d.png"), **options)
           .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
                        "-filter_threads", str(threads), "-progress", "pipe:1")
           .compile(cmd=ffmpeg_exe()))
    if info["kind"] == "images":
        cmd.remove("-nostdin")
    log.info("ffmpeg: %s", " ".join(cmd))
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr,
                                stdin=subprocess.PIPE if info["kind"] == "images" else None)
        feeder_errors = []
        try:
            if info["kind"] == "images":
                feeder = threading.Thread(target=_feed_images, daemon=True,
                                          args=(proc, list_images(source), info, max_frames,
                                                feeder_errors))
                feeder.start()
            done = 0
            with progress(total=expected, desc="frames") as bar:
                for line in proc.stdout:
                    key, _, value = line.decode(errors="replace").strip().partition("=")
                    if key == "frame" and value.isdigit():
                        bar.update(int(value) - done)
                        done = int(value)
            code = proc.wait()
        finally:  # interrupted (Ctrl-C) or failed: stop ffmpeg with us
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if info["kind"] == "images":
            feeder.join()
            if feeder_errors:
                raise feeder_errors[0]
        if code != 0:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace").strip()[-800:]
            raise PoseAnimateError(f"ffmpeg failed ({code}): {message}", path=source,
                                   fix=f"check that the video plays; {REENCODE}.")


def _feed_images(proc, images, info, max_frames, errors):
    """Write the folder's images as raw BGR frames to ffmpeg (runs in a thread)."""
    try:
        for path in images[:max_frames] if max_frames else images:
            img = _read_folder_image(path, (info["height"], info["width"]))
            proc.stdin.write(img.tobytes())
    except PoseAnimateError as exc:
        errors.append(exc)
        proc.kill()
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its exit status tells why
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


# ---- QA picture ------------------------------------------------------------------------

def crop_qa_sheet(source, record: dict, frames_dir, out_path, n_frames: int = 4,
                  height: int = 480) -> None:
    """Left: a middle source frame on a grey margin with each sampled person box (yellow),
    their union (green) and the crop square (red; beyond the frame it is black in the output).
    Right: `n_frames` evenly spaced extracted frames. Written atomically as one JPEG."""
    info = record["probe"]
    _, small = next(sample_frames(source, info, [info["frames"] // 2], long_side=height))
    x, y, side, _ = record["square"]
    x0, y0 = min(0, x), min(0, y)
    x1, y1 = max(info["width"], x + side), max(info["height"], y + side)
    scale = height / (y1 - y0)
    canvas = np.full((height, max(1, round((x1 - x0) * scale)), 3), 96, np.uint8)
    ox, oy = round(-x0 * scale), round(-y0 * scale)
    frame = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                       (round(info["width"] * scale), round(info["height"] * scale)),
                       interpolation=cv2.INTER_AREA)
    canvas[oy:oy + frame.shape[0], ox:ox + frame.shape[1]] = frame

    def box(b, color, thickness):
        p0 = (round(b[0] * scale) + ox, round(b[1] * scale) + oy)
        p1 = (round(b[2] * scale) + ox - 1, round(b[3] * scale) + oy - 1)
        cv2.rectangle(canvas, p0, p1, color, thickness, cv2.LINE_AA)

    person = record["person_pass"] or {"boxes": [], "box": None}
    for _, b in person["boxes"]:
        if b is not None:
            box(b, (0, 220, 255), 1)
    if person["box"] is not None:
        box(person["box"], (0, 200, 0), 2)
    box([x, y, x + side, y + side], (0, 0, 255), 2)
    label = f"crop {record['crop']}" + (f" -> {record['crop_fallback']} (nobody found)"
                                       if record["crop_fallback"] else "")
    if record["person_pass"]:
        label += f", person in {person['found']}/{person['sampled']} samples"
    cv2.putText(canvas, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    paths = list_frames(frames_dir)
    picks = evenly_spaced(len(paths), n_frames)
    sheet = contact_sheet([read_image(paths[t]) for t in picks], cols=2,
                          labels=[f"frame {t}" for t in picks])
    sheet = cv2.resize(sheet, (max(1, round(sheet.shape[1] * height / sheet.shape[0])), height),
                       interpolation=cv2.INTER_AREA)
    write_image(out_path, np.hstack([canvas, np.full((height, 8, 3), 32, np.uint8), sheet]))
