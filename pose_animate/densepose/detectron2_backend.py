"""DensePose R-CNN (detectron2's DensePose project) as an IUV backend, for machines that have
it installed. Nothing is downloaded: the config file and the weights are local paths.

The model's raw chart output per detected box (coarse and fine segmentation, U, V at the head
resolution) is converted by `convert.chart_output_to_result`, the same code the tests check.
"""

from pathlib import Path

import numpy as np
import torch

from ..core.errors import PoseAnimateError
from .convert import chart_output_to_result, paste, select_person

INSTALL_FIX = ("install detectron2 and its DensePose project (pip install "
               "'git+https://github.com/facebookresearch/detectron2@main#subdirectory="
               "projects/DensePose' after detectron2), or use densepose.backend: skeleton.")


def load_predictor(config_path, weights_path, device: str | None = None):
    """A detectron2 DefaultPredictor for a DensePose chart model (clear errors when detectron2,
    the config or the weights are missing)."""
    try:  # detectron2 is optional: imported only when this backend runs
        from densepose import add_densepose_config
        from detectron2.config import get_cfg
        from detectron2.engine.defaults import DefaultPredictor
    except ImportError as exc:
        raise PoseAnimateError(f"detectron2 with DensePose is not importable ({exc}).",
                               fix=INSTALL_FIX)
    for what, path, key in (("config", config_path, "densepose.detectron2_config"),
                            ("weights", weights_path, "densepose.detectron2_weights")):
        if not path or not Path(path).is_file():
            raise PoseAnimateError(
                f"the DensePose {what} file is missing.", path=path or "(not set)",
                fix=f"set {key} to a local file (e.g. densepose_rcnn_R_50_FPN_s1x.yaml and "
                    f"its model_final_*.pkl from the DensePose model zoo, downloaded "
                    f"beforehand).")
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(config_path))
    cfg.MODEL.WEIGHTS = str(weights_path)
    cfg.MODEL.DEVICE = device or ("cuda" if torch.cuda.is_available() else "cpu")
    cfg.freeze()
    return DefaultPredictor(cfg)


def predict_iuv(predictor, image: np.ndarray, person: np.ndarray | None = None,
                min_score: float = 0.0):
    """(I, U, V) of the subject in one BGR frame; empty when nobody is detected."""
    with torch.no_grad():
        instances = predictor(image)["instances"].to("cpu")
    shape = image.shape[:2]
    empty = (np.zeros(shape, np.uint8), np.zeros(shape, np.float32),
             np.zeros(shape, np.float32))
    if not (instances.has("pred_densepose") and instances.has("pred_boxes")):
        return empty
    boxes = instances.pred_boxes.tensor.numpy()
    scores = instances.scores.numpy()
    k = select_person(boxes, scores, person, min_score)
    if k is None:
        return empty
    out = instances.pred_densepose[k]
    if not hasattr(out, "fine_segm"):
        raise PoseAnimateError(
            "this DensePose model predicts CSE embeddings, not IUV charts.",
            fix="use a chart model config (densepose_rcnn_*_s1x.yaml, not configs/cse/).")
    result = chart_output_to_result(out.coarse_segm, out.fine_segm, out.u, out.v, boxes[k])
    return paste(shape, [result], boxes[[k]])
