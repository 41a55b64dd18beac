"""The export stage: one layout of one subject or dataset, `results/export/{layout}/{name}/`.

    record = export("gfla", plan, "results/export/gfla/dancers", settings)

`plan` names the subjects (train, test, an optional driving subject) and where their parts are;
the layout module writes into a temporary folder that replaces the export when complete, so an
export that stopped half-way never looks finished. QA: `export_sheet` shows the first image of
every image folder and video of the export, labelled with its path and size.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import atomic_dir
from ..core.draw import contact_sheet
from ..core.formats import IMAGE_SUFFIXES, natural_key
from ..core.runlog import log
from .files import Placer
from .plan import LAYOUTS
from .source import Subject


@dataclass
class ExportJob:
    """What a layout writes from: its name, where it lands, the subjects by role."""
    name: str
    final: Path
    train: list
    test: list
    driving: tuple | None = None  # (Subject, the normalized driving keypoints folder)


def _subject(name: str, where: dict) -> Subject:
    return Subject(name, where["folder"], raw=where.get("raw"), record=where.get("record"))


def export(layout: str, plan: dict, out, settings: dict) -> dict:
    """Write `layout`'s export of `plan` to `out`; returns the record."""
    module = LAYOUTS[layout]
    out = Path(out)
    where = plan["subjects"]
    job = ExportJob(plan["name"], out.resolve(),
                    [_subject(s, where[s]) for s in plan["train"]],
                    [_subject(s, where[s]) for s in plan.get("test", [])])
    if plan.get("driving"):
        job.driving = (_subject(plan["driving"], where[plan["driving"]]), plan["normalized"])
    placer = Placer(settings["link"])
    with atomic_dir(out) as tmp:
        record = module.write(job, tmp, settings[layout], placer)
    record = {"layout": layout, "name": plan["name"], "train": plan["train"],
              "test": plan.get("test", []), **record, "files": placer.counts,
              "link": settings["link"]}
    log.info("export %s/%s: %s; %d linked, %d copied, %d written", layout, plan["name"],
             ", ".join(f"{k} {v}" for k, v in record.items() if k in ("frames", "size")),
             placer.counts["linked"], placer.counts["copied"], placer.counts["written"])
    return record


def _first_frame(path: Path):
    if path.suffix == ".mp4":
        capture = cv2.VideoCapture(str(path))
        ok, frame = capture.read()
        capture.release()
        return frame if ok else None
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def export_sheet(folder, max_tiles: int = 12) -> np.ndarray:
    """The first image of each image folder (and the first frame of each video) of an export,
    each labelled with its path in the export and its size: what its consumer will read."""
    folder = Path(folder)
    picked, seen = [], set()
    for path in sorted(folder.rglob("*"), key=lambda p: natural_key(p.relative_to(folder))):
        kind = path.suffix.lower()
        if not path.is_file() or (kind not in IMAGE_SUFFIXES and kind != ".mp4"):
            continue
        key = path.parent if kind != ".mp4" else path
        if key in seen:
            continue
        seen.add(key)
        picked.append(path)
    images, labels = [], []
    for path in picked[:max_tiles]:
        frame = _first_frame(path)
        if frame is None:
            continue
        images.append(frame)
        labels.append(f"{path.relative_to(folder)} {frame.shape[1]}x{frame.shape[0]}")
    if not images:
        images, labels = [np.zeros((64, 64, 3), np.uint8)], ["no images in this export"]
    square = [cv2.resize(_letterbox(img), (256, 256), interpolation=cv2.INTER_AREA)
              for img in images]
    return contact_sheet(square, cols=4, labels=labels)


def _letterbox(img: np.ndarray) -> np.ndarray:
    """`img` centred on a grey square, so tiles of any aspect share one sheet."""
    h, w = img.shape[:2]
    side = max(h, w)
    out = np.full((side, side, 3), 48, np.uint8)
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = img
    return out
