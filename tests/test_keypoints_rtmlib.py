"""The rtmlib backend's pipeline on tiny ONNX models the test builds with the real models'
inputs and outputs: a YOLOX detector (raw grid predictions, or an end-to-end export's boxes
and labels) and a whole-body SimCC pose model that puts all 133 points on the brightest pixel
of its crop. A white dot at a known place in the frame must come back there: letterbox,
box decoding, crop, normalisation and SimCC decoding all undo each other."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from pose_animate.core.body import J  # noqa: E402
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.errors import PoseAnimateError  # noqa: E402
from pose_animate.core.formats import read_openpose_folder, write_image  # noqa: E402
from pose_animate.keypoints.detect import detect_folder  # noqa: E402
from pose_animate.keypoints.rtmlib_backend import (RTMLibBackend, check_models,  # noqa: E402
                                                   decode_yolox)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's legacy exporter
DET = (64, 64)   # detector input (h, w): grids of 8, 4 and 2 cells
POSE = (32, 24)  # pose input (h, w), SimCC bins twice that
BOX = (20.0, 12.0, 44.0, 52.0)  # the person box the detector reports, in its input pixels


class Detector(torch.nn.Module):
    """Raw YOLOX output: one confident person at BOX, nothing elsewhere."""

    def __init__(self, end_to_end=False):
        super().__init__()
        self.end_to_end = end_to_end
        cells = sum((DET[0] // s) * (DET[1] // s) for s in (8, 16, 32))
        raw = torch.zeros(1, cells, 6)
        x0, y0, x1, y1 = BOX
        # stride-8 cell (3, 4): centre (cell + offset) * 8, size exp(v) * 8
        cell = 4 * (DET[1] // 8) + 3
        raw[0, cell] = torch.tensor([(x0 + x1) / 2 / 8 - 3, (y0 + y1) / 2 / 8 - 4,
                                     np.log((x1 - x0) / 8), np.log((y1 - y0) / 8), 0.9, 0.95])
        self.register_buffer("raw", raw)

    def forward(self, x):
        if self.end_to_end:
            dets = torch.tensor([[[*BOX, 0.9]]]) + 0 * x.mean()
            return dets, torch.zeros(1, 1, dtype=torch.int64)
        return self.raw + 0 * x.mean()


class Pose(torch.nn.Module):
    """SimCC outputs: every one of the 133 points at the crop's brightest pixel."""

    def forward(self, x):
        h, w = POSE
        idx = x.sum(dim=1).reshape(-1).argmax()
        y, xx = idx // w, idx % w
        simcc_x = (torch.arange(2 * w) == 2 * xx).float().reshape(1, 1, -1).repeat(1, 133, 1)
        simcc_y = (torch.arange(2 * h) == 2 * y).float().reshape(1, 1, -1).repeat(1, 133, 1)
        return simcc_x, simcc_y


def export(module, shape, path, outputs):
    torch.onnx.export(module, torch.zeros(1, 3, *shape), str(path), input_names=["input"],
                      output_names=outputs, dynamo=False)
    return str(path)


@pytest.fixture(params=[False, True], ids=["raw-yolox", "end-to-end"])
def models(tmp_path, request):
    det = export(Detector(request.param), DET, tmp_path / "det.onnx",
                 ["dets", "labels"] if request.param else ["output"])
    pose = export(Pose(), POSE, tmp_path / "pose.onnx", ["simcc_x", "simcc_y"])
    return settings("keypoints", backend="rtmlib", face_hands=True,
                    rtmlib={"det_model": det, "pose_model": pose, "device": "cpu"})


def dot_frame(x, y):
    img = np.full((128, 128, 3), 20, np.uint8)
    img[y - 1:y + 2, x - 1:x + 2] = 255
    return img


def test_a_dot_in_the_frame_comes_back_where_it_is(models):
    # frames 128 x 128: the detector's letterbox halves them, so BOX is (40, 24, 88, 104) here
    backend = RTMLibBackend(models, min_confidence=0.5)
    for x, y in [(60, 50), (64, 80), (45, 30), (80, 100)]:
        (person,) = backend.detect_all(dot_frame(x, y))
        nose = person[J["Nose"]]
        # the crop is 60 x 80 px into 24 x 32 input pixels, 48 x 64 bins: within 1.7 px
        assert abs(nose[0] - x) <= 1.7 and abs(nose[1] - y) <= 1.7 and nose[2] == 1.0
        assert (person[25:, 2] > 0).all()  # face and hands mapped from the 133 points


def test_the_stage_writes_what_the_backend_finds(tmp_path, models):
    frames = tmp_path / "frames"
    frames.mkdir()
    for t in range(3):
        write_image(frames / f"{t:06d}.png", dot_frame(60, 50))
    record = detect_folder(frames, tmp_path / "raw", models)
    seq = read_openpose_folder(tmp_path / "raw", n_frames=3)
    assert record["backend"] == "rtmlib" and record["frames_with_person"] == 3
    assert seq[:, J["Nose"], :2] == pytest.approx(np.tile([60, 50], (3, 1)), abs=1.7)


def test_yolox_decoding_on_its_grids():
    raw = Detector().raw[0].numpy()
    boxes, scores = decode_yolox(raw, DET)
    best = scores.argmax()
    assert boxes[best] == pytest.approx(BOX, abs=1e-4) and scores[best] == pytest.approx(0.855)
    assert (np.delete(scores, best) == 0).all()


def test_missing_models_name_the_key(tmp_path):
    cfg = settings("keypoints", backend="rtmlib")
    with pytest.raises(PoseAnimateError, match=r"keypoints\.rtmlib\.det_model is not set"):
        check_models(cfg)
    cfg["rtmlib"].update(det_model=str(tmp_path / "a.onnx"), pose_model=str(tmp_path / "b.onnx"))
    (tmp_path / "a.onnx").write_bytes(b"x")
    with pytest.raises(PoseAnimateError, match=r"keypoints\.rtmlib\.pose_model is .*no such"):
        check_models(cfg)
    (tmp_path / "b.onnx").write_bytes(b"not onnx")
    with pytest.raises(PoseAnimateError, match="not a loadable ONNX model"):
        RTMLibBackend(cfg)
