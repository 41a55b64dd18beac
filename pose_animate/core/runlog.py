"""Logging and progress for stages: one log file per job, progress bars with rate and ETA."""

import contextlib
import logging
import resource
import sys
import time
import traceback
from pathlib import Path

from tqdm import tqdm

from .errors import PoseAnimateError

log = logging.getLogger("pose_animate")


@contextlib.contextmanager
def to_log(path=None, level=logging.INFO):
    """Send the package's log to `path` and to stderr for the duration of a job.

    An exception is written to the log with its traceback. A PoseAnimateError is printed as
    one clear line (what the user needs to read) and, when it ends the process (a workflow
    script), without the traceback on the terminal: that stays in the log.
    """
    handlers = [logging.StreamHandler(sys.stderr)]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    old_level = log.level
    log.setLevel(level)
    start = time.perf_counter()
    try:
        yield log
    except PoseAnimateError as exc:
        log.error("%s", exc)
        if path:
            with open(path, "a") as f:
                f.write(traceback.format_exc())
        exc.reported = True
        sys.excepthook = _quiet_when_reported
        raise
    except BaseException:
        log.error("failed:\n%s", traceback.format_exc())
        raise
    else:
        log.info("done in %.1f s, peak memory %.0f MiB", time.perf_counter() - start,
                 peak_memory_mib())
    finally:
        for h in handlers:
            log.removeHandler(h)
            h.close()
        log.setLevel(old_level)


def peak_memory_mib() -> float:
    """The peak resident memory of this process and of the largest child it waited for
    (ffmpeg), MiB."""
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) * unit / 2**20


def _quiet_when_reported(kind, value, tb):
    """The process's last word on an error already printed: nothing more (a traceback that
    repeats the message two or three times is what buries it)."""
    if not getattr(value, "reported", False):
        sys.__excepthook__(kind, value, tb)


def progress(iterable=None, total=None, desc="", unit="frame"):
    """A progress bar on stderr with rate and ETA (quiet when stderr is not a terminal
    except for a line every 10 seconds, so logs of long jobs stay readable)."""
    interactive = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr,
                mininterval=0.5 if interactive else 10.0, dynamic_ncols=True,
                disable=None if interactive else False)
