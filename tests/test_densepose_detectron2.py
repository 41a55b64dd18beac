"""The detectron2 DensePose backend around the model (detectron2 cannot be installed here): its
frames go through a stand-in of the batched predictor, `batch_size` at a time, and each
frame's chart output becomes its IUV PNG; missing config or weights name the key."""

import types

import numpy as np
import pytest
import torch

from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_iuv
from pose_animate.densepose.detectron2_backend import check_files
from pose_animate.densepose.stage import densepose_iuv
from stick_figure import make_subject_folder

BOX = [8.0, 4.0, 56.0, 60.0]  # the person every frame shows
PART = 2  # torso front: the chart labels every pixel of the box with it


class Instances:
    """What DensePose R-CNN predicts for one frame: one box, its chart output."""

    def __init__(self, size=14):
        self.pred_boxes = types.SimpleNamespace(tensor=torch.tensor([BOX]))
        self.scores = torch.tensor([0.98])
        fine = torch.full((1, 25, size, size), -5.0)
        fine[:, PART] = 5.0
        coarse = torch.stack([torch.full((size, size), -5.0), torch.full((size, size), 5.0)])[None]
        u = torch.full((1, 25, size, size), 0.25)
        v = torch.full((1, 25, size, size), 0.75)
        self.pred_densepose = [types.SimpleNamespace(coarse_segm=coarse, fine_segm=fine, u=u, v=v)]

    def to(self, device):
        return self

    def has(self, name):
        return name in ("pred_boxes", "pred_densepose")


class StandInPredictor:
    """BatchPredictor's contract: a list of BGR frames in, one output dict per frame out."""

    def __init__(self):
        self.batches = []

    def __call__(self, images):
        self.batches.append(len(images))
        assert all(img.ndim == 3 and img.dtype == np.uint8 for img in images)
        return [{"instances": Instances()} for _ in images]


def test_frames_go_through_the_model_in_batches(tmp_path):
    subject = make_subject_folder(tmp_path / "alice", n_frames=10, size=64)
    cfg = settings("densepose", backend="detectron2", batch_size=4,
                   detectron2_config="cfg.yaml", detectron2_weights="w.pkl")
    predictor = StandInPredictor()
    record = densepose_iuv(subject / "frames", subject / "openpose_json", tmp_path / "iuv", cfg,
                           predictor=predictor)
    assert predictor.batches == [4, 4, 2]
    assert record["batch_size"] == 4 and record["frames_without_person"] == 0
    parts, u, v = read_iuv(tmp_path / "iuv" / "000009.png")
    x0, y0, x1, y1 = (int(c) for c in BOX)
    assert (parts[y0:y1, x0:x1] == PART).all() and parts.sum() == PART * (x1 - x0) * (y1 - y0)
    assert np.allclose(u[parts > 0], 0.25, atol=1 / 255) and np.allclose(v[parts > 0], 0.75,
                                                                          atol=1 / 255)


def test_missing_config_or_weights_name_the_key(tmp_path):
    cfg = settings("densepose", backend="detectron2")
    with pytest.raises(PoseAnimateError, match=r"densepose\.detectron2_config is not set"):
        check_files(cfg)
    (tmp_path / "cfg.yaml").write_text("x")
    cfg.update(detectron2_config=str(tmp_path / "cfg.yaml"),
               detectron2_weights=str(tmp_path / "none.pkl"))
    with pytest.raises(PoseAnimateError, match=r"densepose\.detectron2_weights is .*no such"):
        check_files(cfg)
