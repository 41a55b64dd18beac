"""Import IUV made elsewhere: the dump of DensePose's `apply_net.py dump`, or a folder of IUV
PNGs, into the contract's IUV PNGs (one per frame, validated).

`apply_net.py dump <config> <model> <images> --output results.pkl` saves, with `torch.save`,
a list with one dict per image: `file_name`, `scores` (tensor [N]), `pred_boxes_XYXY`
(tensor [N, 4]) and `pred_densepose`: a list of N `DensePoseChartResultWithConfidences`
(labels [H, W] long and uv [2, H, W] float at each box's integer size, plus optional
confidences). Older DensePose versions wrote `DensePoseChartResult` or quantized/compressed
results, and some scripts `pickle.dump` the same list. The classes live in detectron2's
`densepose` package, which is not needed here: they are read as plain records.
"""

import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, list_images, natural_key, read_image, read_iuv, write_iuv
from ..core.runlog import log, progress
from .convert import (decode_compressed, decode_quantized, paste, result_to_box_size,
                      select_person)


class _Record(SimpleNamespace):
    """Stand-in for any `densepose.*` class found in a dump: its fields, nothing else."""

    def __setstate__(self, state):
        for part in (state if isinstance(state, tuple) else (state,)):
            self.__dict__.update(part or {})


def _stand_in(name):
    return type(name, (_Record,), {})


class _DumpUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] == "densepose":
            return _stand_in(name)
        return super().find_class(module, name)


_pickle_module = SimpleNamespace(Unpickler=_DumpUnpickler, load=pickle.load,
                                 __name__="pose_animate_dump_pickle")


def load_dump(path) -> list[dict]:
    """The entries of an `apply_net.py dump` file, each {file_name, scores [N], boxes [N, 4],
    results: [(labels, uv)]} with numpy arrays."""
    path = Path(path)
    fix = ("give the file written by `apply_net.py dump <config> <model> <frames> "
           "--output <file>` for a DensePose chart model (IUV, not CSE embeddings).")
    try:
        raw = torch.load(path, map_location="cpu", pickle_module=_pickle_module,
                         weights_only=False)
    except Exception:
        try:
            with open(path, "rb") as f:
                raw = _DumpUnpickler(f).load()
        except Exception as exc:
            raise PoseAnimateError(f"cannot read this DensePose dump ({exc}).", path=path,
                                   fix=fix)
    if not isinstance(raw, list):
        raise PoseAnimateError(f"a DensePose dump is a list of per-image dicts, got "
                               f"{type(raw).__name__}.", path=path, fix=fix)
    entries = []
    for k, item in enumerate(raw):
        if not isinstance(item, dict) or "file_name" not in item:
            raise PoseAnimateError(f"entry {k} has no 'file_name'.", path=path, fix=fix)
        boxes = _numpy(item.get("pred_boxes_XYXY", np.zeros((0, 4)))).reshape(-1, 4)
        scores = _numpy(item.get("scores", np.ones(len(boxes)))).reshape(-1)
        dp = item.get("pred_densepose", [])
        if isinstance(dp, tuple):          # (results, boxes_xywh) from a DensePoseResultExtractor
            dp = dp[0]
        results = [_chart(r, path, fix) for r in (dp or [])]
        if len(results) != len(boxes) or len(scores) != len(boxes):
            raise PoseAnimateError(
                f"entry {k} ({item['file_name']}): {len(boxes)} boxes, {len(scores)} scores "
                f"and {len(results)} DensePose results do not match.", path=path, fix=fix)
        entries.append({"file_name": str(item["file_name"]), "scores": scores, "boxes": boxes,
                        "results": results})
    return entries


def _numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "tensor"):               # a detectron2 Boxes
        return _numpy(x.tensor)
    return np.asarray(x)


def _chart(result, path, fix):
    """(labels, uv [2, H, W]) of one result, whatever chart-result class wrote it."""
    fields = result if isinstance(result, dict) else vars(result)
    if "labels" in fields and "uv" in fields:
        return _numpy(fields["labels"]), _numpy(fields["uv"])
    if "labels_uv_uint8" in fields:
        return decode_quantized(fields["labels_uv_uint8"])
    if "labels_uv_str" in fields:
        return decode_compressed(tuple(fields["shape_chw"]), fields["labels_uv_str"])
    raise PoseAnimateError(
        f"a DensePose result of type {type(result).__name__} holds no chart labels/UV "
        f"(fields: {', '.join(sorted(fields))}).", path=path, fix=fix)


def _match_frames(names: list[str], n_frames: int, dump_path) -> list[int]:
    """Frame index of each dump entry: by the frame's file name (000012.png -> 12), or, when
    no name is a frame name, by position in natural order if the counts agree."""
    stems = [Path(n).stem for n in names]
    frame_stems = {Path(frame_name(i)).stem: i for i in range(n_frames)}
    if any(s in frame_stems for s in stems):
        index = [frame_stems.get(s, -1) for s in stems]
    elif len(names) == n_frames:
        order = sorted(range(len(names)), key=lambda k: natural_key(names[k]))
        index = [0] * len(names)
        for frame, k in enumerate(order):
            index[k] = frame
        log.info("dump file names are not the frames' names: matched %d entries in order",
                 len(names))
    else:
        raise PoseAnimateError(
            f"the dump has {len(names)} images whose names are not frame names, for "
            f"{n_frames} frames.", path=dump_path,
            fix="run apply_net.py dump on the subject's frames folder "
                "(results/subjects/<subject>/frames).")
    missing = sorted(set(range(n_frames)) - set(index))
    if missing:
        raise PoseAnimateError(
            f"the dump has no entry for {len(missing)} of {n_frames} frames (first: "
            f"{frame_name(missing[0])}).", path=dump_path,
            fix="dump every frame of results/subjects/<subject>/frames.")
    return index


def import_dump(dump_path, frames: list[Path], out_dir, keypoints=None,
                min_score: float = 0.0) -> dict:
    """Write one IUV PNG per frame into `out_dir` from an apply_net dump; the subject is the
    box holding most of its keypoints (`keypoints` (T, 137, 3)), else the best-scored box.
    Returns counts for the stage record."""
    entries = load_dump(dump_path)
    index = _match_frames([e["file_name"] for e in entries], len(frames), dump_path)
    by_frame = {i: e for i, e in zip(index, entries) if i >= 0}
    empty = 0
    for t, frame in enumerate(progress(frames, desc="import densepose")):
        shape = read_image(frame).shape[:2]
        entry = by_frame[t]
        person = None if keypoints is None else keypoints[t]
        k = select_person(entry["boxes"], entry["scores"], person, min_score)
        if k is None:
            parts = np.zeros(shape, np.uint8)
            u = v = np.zeros(shape, np.float32)
            empty += 1
        else:
            labels, uv = entry["results"][k]
            result = result_to_box_size(labels, uv, entry["boxes"][k])
            parts, u, v = paste(shape, [result], entry["boxes"][[k]])
        write_iuv(Path(out_dir) / frame_name(t), parts, u, v)
    return {"frames": len(frames), "frames_without_person": empty}


def import_iuv_folder(src, frames: list[Path], out_dir) -> dict:
    """Copy a folder of IUV PNGs (one per frame, in natural order, the frames' size) into
    `out_dir` after checking each one."""
    src = Path(src)
    if not src.is_dir():
        raise PoseAnimateError("the IUV folder to import does not exist.", path=src,
                               fix="set densepose.import_path to a folder of IUV PNGs or an "
                                   "apply_net dump file.")
    files = [p for p in list_images(src) if p.suffix.lower() == ".png"]
    if len(files) != len(frames):
        raise PoseAnimateError(f"{len(files)} IUV PNGs for {len(frames)} frames.", path=src,
                               fix="give exactly one IUV PNG per frame, named in frame order.")
    empty = 0
    for t, (iuv_file, frame) in enumerate(progress(list(zip(files, frames)),
                                                   desc="import IUV")):
        parts, u, v = read_iuv(iuv_file)
        shape = read_image(frame).shape[:2]
        if parts.shape != shape:
            raise PoseAnimateError(
                f"IUV is {parts.shape[1]}x{parts.shape[0]} but frame {frame.name} is "
                f"{shape[1]}x{shape[0]}.", path=iuv_file,
                fix="compute the IUV on the extracted frames (results/subjects/<subject>/"
                    "frames), not on the original video.")
        empty += int(not parts.any())
        write_iuv(Path(out_dir) / frame_name(t), parts, u, v)
    return {"frames": len(frames), "frames_without_person": empty}
