"""Video files through the ffmpeg binary: PATH's when present, else the imageio-ffmpeg wheel's.

Reading and writing stream one frame at a time (memory does not grow with video length).
"""

import functools
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .errors import PoseAnimateError


@functools.cache
def ffmpeg_exe() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise PoseAnimateError("no ffmpeg binary found.",
                               fix="install ffmpeg on PATH or `pip install imageio-ffmpeg`.")


class VideoWriter:
    """Write BGR uint8 frames to an H.264 MP4, atomically (the file appears when closed).

    with VideoWriter("out.mp4", fps=24) as w:
        w.write(frame)
    """

    def __init__(self, path, fps: float, crf: int = 18, preset: str = "medium"):
        self.path, self.fps, self.crf, self.preset = Path(path), float(fps), crf, preset
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp-{os.getpid()}{self.path.suffix}")
        self._proc = None
        self._size = None
        self.frames_written = 0

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, np.uint8)
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        h, w = frame.shape[:2]
        if self._proc is None:
            self._size = (w, h)
            # yuv420p needs even sides: pad by one pixel where odd.
            cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo",
                   "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", f"{self.fps}", "-i", "-",
                   "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264",
                   "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
                   "-movflags", "+faststart", "-f", "mp4", str(self._tmp)]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        elif (w, h) != self._size:
            raise ValueError(f"frame size {w}x{h} differs from the first frame's {self._size}")
        self._proc.stdin.write(frame.tobytes())
        self.frames_written += 1

    def __exit__(self, exc_type, exc, tb):
        failure = None
        if self._proc is not None:
            self._proc.stdin.close()
            err = self._proc.stderr.read().decode(errors="replace")
            if self._proc.wait() != 0:
                failure = PoseAnimateError(f"ffmpeg failed writing the video: {err[-500:]}",
                                           path=self.path, fix="see the ffmpeg message.")
        elif exc_type is None:
            failure = ValueError(f"no frames written to {self.path}")
        if exc_type is None and failure is None:
            os.replace(self._tmp, self.path)
            return False
        self._tmp.unlink(missing_ok=True)
        if exc_type is None:
            raise failure
        return False


def write_video(path, frames, fps: float, **kwargs) -> int:
    """Write an iterable of BGR frames to `path`; returns the number of frames."""
    with VideoWriter(path, fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.frames_written
