"""The frames stage: probe a video (or a folder of images) and extract square PNG frames around
the person, `out_dir/000000.png ...`, written atomically.

The crop (`crop`, `size`, `person_padding`, `person_samples`: see `crop` and `person`) is
chosen once for the whole video. ffmpeg then decodes, autorotates, resamples (`fps`), crops,
scales and encodes the PNGs itself, with `threads` threads; frames never pass through Python
and memory does not grow with length. A folder of images (see `probe`) is decoded image by
image with OpenCV and piped through the same ffmpeg filters; its frame rate is `fps` when
given, else 25, and it is never resampled.
"""

import math
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import ffmpeg

from ..core.atomic import atomic_dir
from ..core.errors import PoseAnimateError, disk_full_error, disk_is_full
from ..core.formats import list_frames, list_images
from ..core.runlog import log, progress
from ..core.videoio import ffmpeg_exe
from .crop import center_square, crop_plan, fills_frame, person_square
from .person import find_person
from .probe import REENCODE, probe, read_folder_image


def extract_frames(source, out_dir, settings: dict, *, threads: int = 2) -> dict:
    """The frames stage: write `out_dir/000000.png ...` (atomically) and return the record
    (frames.json). `settings` is the config's `frames` section.

    The record: source; probe (see `probe`); crop, crop_fallback (None or "center");
    person_pass (None, or sampled, found, box = union (x0, y0, x1, y1) and boxes = [frame, box
    or None] per sample, in source pixels); square ([x, y, side, side], the chosen square in
    source pixels); crop_box ([x, y, w, h], the source region the frames show exactly) and
    scale ([sx, sy]), which `crop.source_to_frame` uses; size ([w, h]); source_region (the
    part of the source inside the frame that ffmpeg crops) and content_box ([x, y, w, h] in
    frame pixels, where it lands; the rest is black when padded); padded; fps, resampled (see
    `crop.frame_source_indices`); frames (written); seconds per step; warnings.
    """
    source, out_dir = Path(source), Path(out_dir)
    crop, size, fps = settings["crop"], settings["size"], settings["fps"]
    max_frames = settings["max_frames"]
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
        padding = settings["person_padding"]
        person = find_person(source, info, settings["person_samples"], span, threads,
                             final=lambda union: fills_frame(union, width, height, padding))
        record["person_pass"] = person
        seconds["person_pass"] = time.perf_counter() - step
        log.info("person pass: a person in %d of %d sampled frames (%.1f s)%s",
                 person["found"], person["sampled"], seconds["person_pass"],
                 "; the crop fills the frame, so no more were needed"
                 if person["stopped_early"] else "")
        if person["box"] is None:
            record["crop_fallback"] = "center"
            _warn(record, f"nobody found in any of the {person['sampled']} sampled frames: "
                          "falling back to the centre crop.")
            box = center_square(width, height)
        else:
            box = person_square(person["box"], width, height, settings["person_padding"])
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
                    max_frames, settings["png_compression"], threads, expected)
        written = len(list_frames(tmp))
        if written < expected and disk_is_full(tmp):
            raise disk_full_error(out_dir)
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
            if "No space left on device" in message or disk_is_full(out_dir):
                raise disk_full_error(out_dir)
            raise PoseAnimateError(f"ffmpeg failed ({code}): {message}", path=source,
                                   fix=f"check that the video plays; {REENCODE}.")


def _feed_images(proc, images, info, max_frames, errors):
    """Write the folder's images as raw BGR frames to ffmpeg (runs in a thread)."""
    try:
        for path in images[:max_frames] if max_frames else images:
            img = read_folder_image(path, (info["height"], info["width"]))
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

