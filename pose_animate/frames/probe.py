"""What a source holds and reading a few of its frames: probe, sampled small frames, keyframes.

A source is a video file or a folder of images (natural order, all the size of the first; PNG
and JPEG may be mixed, OpenCV decodes them). Sizes are upright: after the video's rotation
metadata is applied, as players show it (ffmpeg autorotates on extraction too). A folder of
images carries no frame rate: it takes the one given, else 25.
"""

import math
from pathlib import Path

import av
import cv2
import numpy as np

from ..core.errors import PoseAnimateError
from ..core.formats import list_images

IMAGE_FOLDER_FPS = 25.0
REENCODE = "re-encode it, e.g. `ffmpeg -i in.mp4 -c:v libx264 -crf 18 out.mp4`"


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
                "start_s": _start_time(first, stream)}


def _start_time(first, stream) -> float:
    """The first frame's presentation time, s. A frame flushed out of the decoder (1- or
    2-frame videos) has no time of its own: then the stream's start time."""
    if first.time is not None and math.isfinite(first.time):
        return float(first.time)
    if stream.start_time is not None:
        return float(stream.start_time * stream.time_base)
    return 0.0


def _probe_images(folder: Path, fps: float | None) -> dict:
    images = list_images(folder)
    if not images:
        raise PoseAnimateError("the image folder holds no images (zero frames).", path=folder,
                               fix="put the frames there as .png/.jpg files, or point the "
                                   "subject sheet at a video.")
    height, width = read_folder_image(images[0]).shape[:2]
    fps = float(fps or IMAGE_FOLDER_FPS)
    return {"kind": "images", "codec": "images", "width": width, "height": height,
            "coded_size": [width, height], "rotation": 0, "fps": fps, "frames": len(images),
            "duration_s": round(len(images) / fps, 4), "start_s": 0.0}


def read_folder_image(path: Path, size: tuple | None = None) -> np.ndarray:
    """One image of a source folder (BGR); `size` (height, width): the size it must have."""
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


def sample_frames(source, info: dict, indices, long_side: int, threads: int = 2):
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
            img = read_folder_image(images[index], (info["height"], info["width"]))
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
        # Deblocking is ~15% of H.264 decoding and invisible at these small sizes (the person
        # pass's 320 px).
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
