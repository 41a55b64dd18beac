"""How an export places files: linked where the consumer reads the cached file as it is,
written anew (resized, re-encoded) only where its layout needs another size or format.

`Placer(how)` links with `how` = "hardlink" (the default: the export holds the data even if the
cache is cleaned, and costs no space), "symlink" (relative links into results/subjects: moving
results/ keeps them valid, deleting the cache breaks them) or "copy" (an export to take
elsewhere). A hard link across disks falls back to a copy, counted in the record. Every file
loader of the consumers here (cv2, PIL, numpy, decord) follows both kinds of link.
"""

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..core.formats import write_flo, write_image

LINKS = ("hardlink", "symlink", "copy")


class Placer:
    """Places files into an export folder and counts what it did (`counts`)."""

    def __init__(self, how: str = "hardlink"):
        if how not in LINKS:
            raise ValueError(f"link must be one of {LINKS}, got {how!r}")
        self.how = how
        self.counts = {"linked": 0, "copied": 0, "written": 0}

    def place(self, src, dst) -> None:
        """`dst` holds `src`'s bytes: a link or a copy, per `how`."""
        src, dst = Path(src), Path(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if self.how == "symlink":
            dst.symlink_to(os.path.relpath(src.resolve(), dst.parent.resolve()))
            self.counts["linked"] += 1
            return
        if self.how == "hardlink":
            try:
                os.link(src, dst)
                self.counts["linked"] += 1
                return
            except OSError as exc:  # another disk, or a file system without hard links
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
        shutil.copyfile(src, dst)
        self.counts["copied"] += 1

    def image(self, dst, img: np.ndarray, params=()) -> None:
        """Write a new image (PNG, or JPEG by the suffix) into the export."""
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        write_image(dst, np.ascontiguousarray(img), params)
        self.counts["written"] += 1

    def image_or_link(self, src, dst, img_fn) -> None:
        """Link `src` when `img_fn` is None (the file is right as it is), else write
        `img_fn()`; for parts that only some settings resize."""
        if img_fn is None:
            self.place(src, dst)
        else:
            self.image(dst, img_fn())

    def text(self, dst, text: str) -> None:
        dst = Path(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text)
        self.counts["written"] += 1

    def json(self, dst, data) -> None:
        self.text(dst, json.dumps(data, indent=1))

    def npy(self, dst, array: np.ndarray) -> None:
        dst = Path(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        np.save(dst, array)
        self.counts["written"] += 1

    def flo(self, dst, flow: np.ndarray) -> None:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        write_flo(dst, flow)
        self.counts["written"] += 1
