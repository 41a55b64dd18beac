"""The one error type users see: it names the subject, the file and the fix."""

import errno
import shutil
from pathlib import Path


class PoseAnimateError(Exception):
    """A problem a user can act on.

    str() reads: "subject 'bob': results/x.json: the problem. Fix: what to do."
    `job` replaces the subject for jobs about several subjects ("render edn a__b").
    """

    def __init__(self, problem: str, *, subject: str | None = None, path=None,
                 fix: str | None = None, job: str | None = None):
        self.problem, self.subject, self.path, self.fix, self.job = problem, subject, path, fix, job
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.subject:
            parts.append(f"subject '{self.subject}'")
        elif self.job:
            parts.append(self.job)
        if self.path is not None:
            parts.append(str(self.path))
        text = ": ".join(parts + [self.problem])
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def name_job(self, subject: str | None = None, job: str | None = None) -> "PoseAnimateError":
        """Name the subject (or the job) where the code that raised could not; in place, so a
        re-raise keeps the traceback."""
        if not self.subject and not self.job:
            self.subject, self.job = subject, job
            self.args = (self._message(),)
        return self


DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
NO_ACCESS = {errno.EACCES, errno.EPERM, errno.EROFS}


def _nearest_existing(path) -> Path:
    where = Path(path).resolve()
    return next((p for p in (where, *where.parents) if p.exists()), Path("/"))


def disk_is_full(path, min_free: int = 16 * 2**20) -> bool:
    """Whether the disk holding `path` has less than `min_free` bytes left (to tell a full
    disk from a bad input when a tool fails without saying why)."""
    return shutil.disk_usage(_nearest_existing(path)).free < min_free


def disk_full_error(path) -> PoseAnimateError:
    """The error for a write that ran out of disk space (or quota) at `path`."""
    disk = _nearest_existing(path)
    return PoseAnimateError(
        f"the disk is full ({shutil.disk_usage(disk).free / 2**20:.0f} MiB free on the disk "
        f"of {disk}).", path=path,
        fix="free space there (df -h shows the disks), or run from a working directory on a "
            "larger disk; then rerun: nothing partial was kept.")


def no_access_error(path, exc: OSError) -> PoseAnimateError:
    """The error for a file or folder the job may not read or write (permissions, a read-only
    file system)."""
    return PoseAnimateError(
        f"{exc.strerror or 'permission denied'} (errno {exc.errno}).", path=path,
        fix="check the permissions of that file and its folder (ls -ld) and that the disk "
            "is not mounted read-only, or run from a working directory of your own.")
