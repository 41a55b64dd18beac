"""Import of `apply_net.py dump` files (made here in the same structure, without detectron2)
and of IUV PNG folders."""

import pickle
import sys
import types
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
import torch

from pose_animate.densepose.import_dump import import_dump, import_iuv_folder, load_dump
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import frame_name, read_iuv, write_image, write_iuv


@pytest.fixture
def densepose_classes(monkeypatch):
    """detectron2's DensePose result class, under its real module name, for writing dumps."""
    module = types.ModuleType("densepose.structures.chart_result")

    @dataclass
    class DensePoseChartResultWithConfidences:
        labels: torch.Tensor
        uv: torch.Tensor
        sigma_1: Optional[torch.Tensor] = None
        sigma_2: Optional[torch.Tensor] = None
        kappa_u: Optional[torch.Tensor] = None
        kappa_v: Optional[torch.Tensor] = None
        fine_segm_confidence: Optional[torch.Tensor] = None
        coarse_segm_confidence: Optional[torch.Tensor] = None

    DensePoseChartResultWithConfidences.__module__ = module.__name__
    DensePoseChartResultWithConfidences.__qualname__ = "DensePoseChartResultWithConfidences"
    module.DensePoseChartResultWithConfidences = DensePoseChartResultWithConfidences
    for name in ("densepose", "densepose.structures"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def _frames(tmp_path, n=3, shape=(48, 64)):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(n):
        write_image(folder / frame_name(i), np.full(shape + (3,), 100, np.uint8))
    return sorted(folder.iterdir())


def _result(cls, h, w, part, u, v):
    return cls(labels=torch.full((h, w), part, dtype=torch.long),
               uv=torch.stack([torch.full((h, w), u), torch.full((h, w), v)]),
               fine_segm_confidence=torch.ones(h, w))


def _write_dump(path, densepose_classes, frames):
    cls = densepose_classes.DensePoseChartResultWithConfidences
    dump = []
    for i, f in enumerate(frames):
        # two people: a confident one far from the subject, and the subject at (20..40, 10..30)
        dump.append({
            "file_name": str(f),
            "scores": torch.tensor([0.99, 0.9]),
            "pred_boxes_XYXY": torch.tensor([[0.0, 0.0, 8.0, 8.0], [20.3, 10.8, 40.9, 30.2]]),
            "pred_densepose": [_result(cls, 8, 8, 1, 0.1, 0.1),
                               _result(cls, 19, 20, 2 + i, 0.4, 0.6)],
        })
    with open(path, "wb") as f:
        torch.save(dump, f)
    for name in list(sys.modules):         # reading must not need the densepose package
        if name.split(".")[0] == "densepose":
            del sys.modules[name]


def test_dump_loads_without_densepose(tmp_path, densepose_classes):
    frames = _frames(tmp_path)
    _write_dump(tmp_path / "results.pkl", densepose_classes, frames)
    entries = load_dump(tmp_path / "results.pkl")
    assert len(entries) == 3 and entries[1]["file_name"].endswith("000001.png")
    labels, uv = entries[2]["results"][1]
    assert labels.shape == (19, 20) and uv.shape == (2, 19, 20) and (labels == 4).all()


def test_import_dump_pastes_the_subject(tmp_path, densepose_classes):
    frames = _frames(tmp_path)
    _write_dump(tmp_path / "results.pkl", densepose_classes, frames)
    keypoints = np.zeros((3, 137, 3), np.float32)
    keypoints[:, :8] = [30, 20, 0.9]
    out = tmp_path / "iuv"
    record = import_dump(tmp_path / "results.pkl", frames, out, keypoints=keypoints)
    assert record == {"frames": 3, "frames_without_person": 0}
    parts, u, v = read_iuv(out / frame_name(1))
    assert parts.shape == (48, 64)
    assert (parts[10:29, 20:40] == 3).all() and parts.sum() == 3 * 19 * 20
    assert np.allclose(u[parts > 0], 102 / 255) and np.allclose(v[parts > 0], 153 / 255)
    # without keypoints the most confident detection is taken
    import_dump(tmp_path / "results.pkl", frames, out)
    parts, _, _ = read_iuv(out / frame_name(0))
    assert (parts[0:8, 0:8] == 1).all() and parts.sum() == 64


def test_plain_pickle_dump_and_missing_frame(tmp_path, densepose_classes):
    frames = _frames(tmp_path)
    cls = densepose_classes.DensePoseChartResultWithConfidences
    dump = [{"file_name": f"/data/{frame_name(i, '.jpg')}", "scores": torch.tensor([0.9]),
             "pred_boxes_XYXY": torch.tensor([[0.0, 0.0, 10.0, 10.0]]),
             "pred_densepose": [_result(cls, 10, 10, 5, 0.5, 0.5)]} for i in range(2)]
    with open(tmp_path / "two.pkl", "wb") as f:
        pickle.dump(dump, f)
    with pytest.raises(PoseAnimateError, match="no entry for 1 of 3 frames"):
        import_dump(tmp_path / "two.pkl", frames, tmp_path / "iuv")


def test_bad_dump_is_a_clear_error(tmp_path):
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(PoseAnimateError, match="cannot read this DensePose dump"):
        load_dump(tmp_path / "bad.pkl")
    torch.save({"file_name": "x"}, tmp_path / "dict.pkl")
    with pytest.raises(PoseAnimateError, match="list of per-image dicts"):
        load_dump(tmp_path / "dict.pkl")


def test_import_iuv_folder_validates(tmp_path):
    frames = _frames(tmp_path, n=2)
    src = tmp_path / "src"
    for i in range(2):
        parts = np.zeros((48, 64), np.uint8)
        parts[5:10, 5:10] = 24
        write_iuv(src / f"frame{i + 1}_IUV.png", parts, np.full((48, 64), 0.5),
                  np.full((48, 64), 0.25))
    record = import_iuv_folder(src, frames, tmp_path / "out")
    assert record["frames"] == 2
    parts, u, v = read_iuv(tmp_path / "out" / frame_name(1))
    assert (parts[5:10, 5:10] == 24).all() and abs(u[7, 7] - 0.5) < 0.01
    write_iuv(src / "frame2_IUV.png", np.zeros((20, 20), np.uint8), np.zeros((20, 20)),
              np.zeros((20, 20)))
    with pytest.raises(PoseAnimateError, match="extracted frames"):
        import_iuv_folder(src, frames, tmp_path / "out2")
