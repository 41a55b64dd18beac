"""RTMPose / DWPose / RTMW whole-body keypoints from rtmlib's ONNX models
(`keypoints.backend: rtmlib`), run by onnxruntime: the CUDA execution provider where
onnxruntime-gpu has it, else the CPU.

The models are the ones rtmlib distributes (a YOLOX person detector, e.g. yolox_l.onnx, and a
whole-body pose model, e.g. DWPose's dw-ll_ucoco_384.onnx or rtmw-x 384 x 288), from local
paths: nothing is downloaded. The pipeline is written here rather than imported from the
rtmlib package because that package requires opencv-python beside opencv-contrib-python, two
distributions of one cv2 module that overwrite each other (this project's OpenCV is
mediapipe's opencv-contrib). It follows the models' own conventions: the detector sees the
frame letterboxed into its input (padded with 114), raw YOLOX outputs are decoded on its grids
and strides (or boxes taken as they are from end-to-end exports); each person box, grown 1.25
x to the pose model's aspect, is warped into its input, normalised with ImageNet's mean and
std in RGB, and the SimCC outputs give each point where their maxima are (split ratio 2).
Everyone found is returned; `detect.detect_folder` follows the most prominent person. The 133
points map to OpenPose's 137 with `mapping.wholebody_to_openpose`, as the mmpose backend's do.
"""

from pathlib import Path

import cv2
import numpy as np

from ..core.config import configured_path
from ..core.errors import PoseAnimateError
from .mapping import wholebody_to_openpose

MEAN = np.float32([123.675, 116.28, 103.53])  # RGB, as mmpose normalises
STD = np.float32([58.395, 57.12, 57.375])
PADDING = 1.25  # the box grows by this before the crop (mmpose's top-down setting)
SIMCC_SPLIT = 2.0  # SimCC bins per input pixel
STRIDES = (8, 16, 32)  # YOLOX's output grids


def check_models(cfg: dict) -> None:
    """Before any job: both ONNX files are where the config says."""
    for key, what in (("det_model", "the person detector (yolox_l.onnx or another YOLOX)"),
                      ("pose_model", "the whole-body pose model (dw-ll_ucoco_384.onnx, rtmw)")):
        configured_path(cfg["rtmlib"][key], f"keypoints.rtmlib.{key}", what)


def session(path, device: str = "auto"):
    """An onnxruntime session on CUDA when asked and available (auto: when available)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise PoseAnimateError(f"keypoints.backend rtmlib needs onnxruntime ({exc}).",
                               fix="pip install onnxruntime (onnxruntime-gpu on a GPU "
                                   "machine), or set keypoints.backend: mediapipe.")
    available = ort.get_available_providers()
    cuda = "CUDAExecutionProvider" in available and device in ("auto", "cuda")
    if device == "cuda" and not cuda:
        raise PoseAnimateError("keypoints.rtmlib.device is cuda, and this onnxruntime has no "
                               "CUDA execution provider.", fix="install onnxruntime-gpu, or "
                               "set keypoints.rtmlib.device: auto.")
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else \
        ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(Path(path).expanduser()), providers=providers)
    except Exception as exc:  # onnxruntime raises its own types for a bad file
        raise PoseAnimateError(f"not a loadable ONNX model ({exc}).", path=path,
                               fix="check the file (a complete download of the .onnx model).")


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """`image` scaled to fit (h, w) `size`, top-left, padded with 114; and the scale."""
    h, w = size
    ratio = min(h / image.shape[0], w / image.shape[1])
    resized = cv2.resize(image, (int(image.shape[1] * ratio), int(image.shape[0] * ratio)),
                         interpolation=cv2.INTER_LINEAR)
    out = np.full((h, w, 3), 114, np.uint8)
    out[:resized.shape[0], :resized.shape[1]] = resized
    return out, ratio


def decode_yolox(raw: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Raw YOLOX predictions (N, 5 + classes) on the grids of `size` -> person boxes (N, 4)
    x0 y0 x1 y1 in input pixels and their scores."""
    grids, strides = [], []
    for stride in STRIDES:
        hs, ws = size[0] // stride, size[1] // stride
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), stride))
    grids, strides = np.concatenate(grids), np.concatenate(strides)
    centre = (raw[:, :2] + grids) * strides
    wh = np.exp(raw[:, 2:4]) * strides
    boxes = np.concatenate([centre - wh / 2, centre + wh / 2], axis=1)
    return boxes, raw[:, 4] * raw[:, 5]  # objectness x the person class


def centre_scale(box, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """The crop of a person box: centre, and (w, h) grown by PADDING to the model's w / h."""
    x0, y0, x1, y1 = box
    centre = np.float32([(x0 + x1) / 2, (y0 + y1) / 2])
    w, h = (x1 - x0) * PADDING, (y1 - y0) * PADDING
    w, h = (h * aspect, h) if w < h * aspect else (w, w / aspect)
    return centre, np.float32([w, h])


def crop(image: np.ndarray, centre, scale, size: tuple[int, int]) -> np.ndarray:
    """The crop (centre, scale (w, h)) warped to the model's (h, w) `size`."""
    h, w = size
    sx, sy = w / scale[0], h / scale[1]
    matrix = np.float32([[sx, 0, w / 2 - centre[0] * sx], [0, sy, h / 2 - centre[1] * sy]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, centre, scale,
                 size: tuple[int, int]) -> np.ndarray:
    """(K, 3) points in frame pixels from one person's SimCC outputs (K, Wx), (K, Wy)."""
    h, w = size
    x = simcc_x.argmax(axis=1) / SIMCC_SPLIT
    y = simcc_y.argmax(axis=1) / SIMCC_SPLIT
    score = np.minimum(simcc_x.max(axis=1), simcc_y.max(axis=1))
    px = x / w * scale[0] + centre[0] - scale[0] / 2
    py = y / h * scale[1] + centre[1] - scale[1] / 2
    return np.stack([px, py, np.clip(score, 0, 1)], axis=1).astype(np.float32)


class RTMLibBackend:
    """Whole-body keypoints of everyone in a frame, each (137, 3) in frame pixels."""

    name = "rtmlib"
    mode = "wholebody"
    sees_one_person = False

    def __init__(self, cfg: dict, min_confidence: float = 0.5, sessions=None):
        check_models(cfg)
        rt = cfg["rtmlib"]
        self.det, self.pose = sessions or (session(rt["det_model"], rt["device"]),
                                           session(rt["pose_model"], rt["device"]))
        self.det_size = tuple(self.det.get_inputs()[0].shape[2:4])
        self.pose_size = tuple(self.pose.get_inputs()[0].shape[2:4])
        self.min_confidence, self.nms = min_confidence, rt["nms_threshold"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def boxes(self, image: np.ndarray) -> np.ndarray:
        """Person boxes (N, 4) in frame pixels, after non-maximum suppression."""
        padded, ratio = letterbox(image, self.det_size)
        inputs = {self.det.get_inputs()[0].name:
                  padded.transpose(2, 0, 1)[None].astype(np.float32)}
        outputs = self.det.run(None, inputs)
        if len(outputs) == 2 and outputs[0].shape[-1] == 5:  # end-to-end: boxes, labels
            dets, labels = outputs[0][0], outputs[1][0]
            boxes, scores = dets[:, :4], np.where(labels == 0, dets[:, 4], 0)
        else:
            boxes, scores = decode_yolox(outputs[0][0], self.det_size)
        keep = scores > self.min_confidence
        boxes, scores = boxes[keep] / ratio, scores[keep]
        if not len(boxes):
            return np.zeros((0, 4), np.float32)
        xywh = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
                for x0, y0, x1, y1 in boxes]
        kept = cv2.dnn.NMSBoxes(xywh, scores.tolist(), self.min_confidence, self.nms)
        return boxes[np.asarray(kept, int).reshape(-1)]

    def keypoints(self, image: np.ndarray, box) -> np.ndarray:
        """The 133 whole-body points (133, 3) of the person in `box`."""
        h, w = self.pose_size
        centre, scale = centre_scale(box, w / h)
        rgb = cv2.cvtColor(crop(image, centre, scale, self.pose_size), cv2.COLOR_BGR2RGB)
        x = ((rgb.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
        simcc_x, simcc_y = self.pose.run(None, {self.pose.get_inputs()[0].name: x})[:2]
        return decode_simcc(simcc_x[0], simcc_y[0], centre, scale, self.pose_size)

    def detect_all(self, frame_bgr: np.ndarray) -> list[np.ndarray]:
        """Everyone found in the frame, each (137, 3) in OpenPose order."""
        return [wholebody_to_openpose(self.keypoints(frame_bgr, box))
                for box in self.boxes(frame_bgr)]
