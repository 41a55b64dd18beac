"""DensePose R-CNN (detectron2's DensePose project) as an IUV backend, for machines that have
it installed. Nothing is downloaded: the config file and the weights are local paths.

Written against detectron2 0.6 (its `main` branch API since 2021: `build_model`,
`DetectionCheckpointer`, `ResizeShortestEdge`) and its `projects/DensePose` package
(`densepose`, `add_densepose_config`, chart models `densepose_rcnn_*_s1x.yaml`). Frames go
through the model `densepose.batch_size` at a time (`BatchPredictor`: DefaultPredictor's
resize and colour order, one forward pass for the batch). The model's raw chart output per
detected box (coarse and fine segmentation, U, V at the head resolution) is converted by
`convert.chart_output_to_result`, the same code the tests check.
"""


import numpy as np
import torch

from ..core.config import configured_path
from ..core.errors import PoseAnimateError
from .convert import chart_output_to_result, paste, select_person

INSTALL_FIX = ("install detectron2 and its DensePose project (pip install "
               "'git+https://github.com/facebookresearch/detectron2@main#subdirectory="
               "projects/DensePose' after detectron2), or use densepose.backend: skeleton.")


def check_files(cfg: dict) -> None:
    """Before any job: the model config and weights are where the config says."""
    for key, what in (("detectron2_config", "a DensePose chart config "
                                            "(densepose_rcnn_R_50_FPN_s1x.yaml)"),
                      ("detectron2_weights", "its weights (the model zoo's model_final_*.pkl)")):
        configured_path(cfg[key], f"densepose.{key}", what)


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
    check_files({"detectron2_config": config_path, "detectron2_weights": weights_path})
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(config_path))
    cfg.MODEL.WEIGHTS = str(weights_path)
    cfg.MODEL.DEVICE = device or ("cuda" if torch.cuda.is_available() else "cpu")
    cfg.freeze()
    del DefaultPredictor  # imported above only to fail early on a broken install
    return BatchPredictor(cfg)


class BatchPredictor:
    """detectron2's DefaultPredictor for a list of BGR frames: the same test-time resize and
    input colour order, one forward pass for all of them; returns their outputs."""

    def __init__(self, cfg):
        import detectron2.data.transforms as T
        from detectron2.checkpoint import DetectionCheckpointer
        from detectron2.modeling import build_model

        self.model = build_model(cfg.clone()).eval()
        DetectionCheckpointer(self.model).load(cfg.MODEL.WEIGHTS)
        self.resize = T.ResizeShortestEdge([cfg.INPUT.MIN_SIZE_TEST] * 2,
                                           cfg.INPUT.MAX_SIZE_TEST)
        self.rgb = cfg.INPUT.FORMAT == "RGB"

    def __call__(self, images: list[np.ndarray]) -> list[dict]:
        inputs = []
        for image in images:
            h, w = image.shape[:2]
            image = image[:, :, ::-1] if self.rgb else image
            resized = self.resize.get_transform(image).apply_image(image)
            inputs.append({"image": torch.as_tensor(resized.astype("float32").transpose(2, 0, 1)),
                           "height": h, "width": w})
        with torch.inference_mode():
            return self.model(inputs)


def predict_iuv_batch(predictor, images: list[np.ndarray], people: list,
                      min_score: float = 0.0) -> list[tuple]:
    """(I, U, V) of the subject in each BGR frame of a batch (`people`: each frame's
    keypoints, to pick the subject among the boxes); empty where nobody is detected."""
    outputs = predictor(images)
    return [iuv_of(out["instances"].to("cpu"), image.shape[:2], person, min_score)
            for out, image, person in zip(outputs, images, people)]


def iuv_of(instances, shape, person: np.ndarray | None = None, min_score: float = 0.0):
    """(I, U, V) at frame size `shape` of the subject among one frame's predicted instances."""
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
