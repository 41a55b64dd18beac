"""Distinct GPUs for the jobs of rules that declare `resources: gpu=N`.

Snakemake's `--resources gpu=N` caps how many GPUs the running jobs ask for at once but does
not say which devices each gets. `allocate_gpu(count)` takes an exclusive lock file per device
(fcntl.flock, in a folder shared by the machine's jobs) and sets CUDA_VISIBLE_DEVICES to the
ones it holds, so concurrent local jobs get distinct devices. A job needing several takes them
all at once or none (it never sits on some while waiting for the rest, which could leave two
jobs each holding half of what the other needs). The kernel drops the lock when the process ends,
however it ends: a crashed job never leaves a device taken. With no CUDA device the job runs
on the CPU. Call it before anything initialises CUDA in the process.
"""

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import PoseAnimateError
from .runlog import log

DEFAULT_LOCK_DIR = Path(tempfile.gettempdir()) / f"pose_animate-gpu-locks-{os.getuid()}"


def visible_gpus() -> list[str]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES when set (a cluster scheduler's
    choice), else every GPU nvidia-smi lists; [] without NVIDIA GPUs."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def _try_lock(path: Path):
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _take(devices, count: int, lock_dir: Path):
    """Locks on `count` free devices of `devices` (device, handle), or None, holding none."""
    held = []
    for device in devices:
        handle = _try_lock(lock_dir / f"gpu{device}.lock")
        if handle is not None:
            held.append((device, handle))
            if len(held) == count:
                return held
    for _, handle in held:
        handle.close()
    return None


@contextlib.contextmanager
def allocate_gpu(devices=None, lock_dir=DEFAULT_LOCK_DIR, wait_s: float = 3600,
                 poll_s: float = 2.0, environ=os.environ, count: int = 1):
    """Hold `count` free devices of `devices` (default: `visible_gpus()`) for the block.

    Yields their ids as "a" or "a,b", with CUDA_VISIBLE_DEVICES set to them in `environ`, or
    None when there are no devices (the job then runs on the CPU). Waits up to `wait_s` for
    enough of them to be free at once.
    """
    devices = visible_gpus() if devices is None else list(devices)
    if not devices:
        yield None
        return
    if count > len(devices):
        raise PoseAnimateError(
            f"the job needs {count} GPUs and this machine shows {len(devices)} "
            f"({', '.join(devices)}).", fix="ask for at most that many (the family's gpus: "
                                            "setting), or run it where there are more.")
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while (held := _take(devices, count, lock_dir)) is None:
        if time.monotonic() >= deadline:
            raise PoseAnimateError(
                f"{count} of the GPUs ({', '.join(devices)}) were not free at once for "
                f"{wait_s:.0f} s.", path=lock_dir,
                fix="run with --resources gpu=N where N is at most the number of GPUs, or "
                    "stop the other GPU jobs.")
        time.sleep(poll_s)
    chosen = ",".join(device for device, _ in held)
    old = environ.get("CUDA_VISIBLE_DEVICES")
    environ["CUDA_VISIBLE_DEVICES"] = chosen
    log.info("using GPU %s", chosen)
    try:
        yield chosen
    finally:
        if old is None:
            environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            environ["CUDA_VISIBLE_DEVICES"] = old
        for _, handle in held:
            handle.close()  # releases the flock
