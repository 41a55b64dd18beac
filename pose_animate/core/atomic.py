"""Atomic outputs: write under a temporary name, rename when complete.

An interrupted or failed stage leaves no file or folder that looks complete. A killed one
(kill -9, a node lost) cannot clean up after itself, so temporaries are named after their
target, host and process (`.flow.tmp-<host>-<pid>-<random>`), and the next write of the same
target removes the leftovers whose process is gone: nothing hidden stays in a dataset folder.
"""

import contextlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"
_OWNER = re.compile(r"(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)-")


def _tag() -> str:
    return f"{_HOST}-{os.getpid()}-"


def _alive(host: str, pid: int) -> bool:
    """Whether the process that made a temporary may still be writing it. Snakemake never runs
    two jobs for one output, so a temporary from another host is a dead job's leftover."""
    if host != _HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        pass
    return True


def clear_leftovers(path) -> list[Path]:
    """Remove the temporaries of `path` left by killed writers; return what was removed."""
    path = Path(path)
    # Inside a fresh temporary folder (a stage writing its frames) there is nothing to clear,
    # and listing the folder for each of thousands of files would cost O(n^2).
    if ".tmp-" in path.parent.name or not path.parent.is_dir():
        return []
    removed = []
    for prefix in {f".{path.name}.tmp-", f".{path.name}.old-", f".{path.stem}.tmp-"}:
        for leftover in path.parent.iterdir():
            owner = leftover.name.startswith(prefix) and _OWNER.match(leftover.name[len(prefix):])
            if not owner or _alive(owner["host"], int(owner["pid"])):
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a temporary folder beside `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{_tag()}", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual permissions
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        old = path.with_name(f".{path.name}.old-{_tag()}0")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


@contextlib.contextmanager
def atomic_file(path):
    """Yield a temporary file path beside `path` (same suffix); renamed to `path` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.tmp-{_tag()}", suffix=path.suffix,
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.chmod(0o666 & ~_umask())
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


@contextlib.contextmanager
def scratch_dir(path):
    """Yield a scratch folder beside `path` for a program's raw output, removed afterwards;
    named as `path`'s temporaries are, so a killed job's scratch is cleared on the rerun."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{_tag()}", dir=path.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
