"""Backend construction errors (what a user sees on a misconfigured machine) and the mmpose
output conversion, without mmpose installed."""

import importlib.util

import numpy as np
import pytest

from pose_animate.core.body import FACE, HAND_RIGHT, J
from pose_animate.core.errors import PoseAnimateError
from pose_animate.keypoints.detect import make_backend
from pose_animate.keypoints.mediapipe_backend import MediapipeBackend
from pose_animate.keypoints.mmpose_backend import instances_to_openpose

MMPOSE = {"backend": "mmpose", "face_hands": True, "model_complexity": 1, "min_confidence": 0.5,
          "mmpose_config": None, "mmpose_checkpoint": None, "mmpose_det_config": None,
          "mmpose_det_checkpoint": None}


def test_mmpose_without_local_files_says_which_key_to_set():
    with pytest.raises(PoseAnimateError) as err:
        make_backend(MMPOSE)
    assert "keypoints.mmpose_config" in str(err.value) and "Fix:" in str(err.value)


def test_mmpose_with_a_missing_checkpoint_names_the_file(tmp_path):
    config = tmp_path / "rtmpose.py"
    config.write_text("")
    with pytest.raises(PoseAnimateError) as err:
        make_backend(dict(MMPOSE, mmpose_config=str(config),
                          mmpose_checkpoint=str(tmp_path / "missing.pth")))
    assert str(tmp_path / "missing.pth") in str(err.value)


@pytest.mark.skipif(importlib.util.find_spec("mmpose") is not None, reason="mmpose installed")
def test_mmpose_not_installed_is_a_clear_error(tmp_path):
    for name in ("rtmpose.py", "rtmpose.pth"):
        (tmp_path / name).write_text("")
    with pytest.raises(PoseAnimateError) as err:
        make_backend(dict(MMPOSE, mmpose_config=str(tmp_path / "rtmpose.py"),
                          mmpose_checkpoint=str(tmp_path / "rtmpose.pth")))
    assert "mmpose, which is not installed" in str(err.value)
    assert "keypoints.backend: mediapipe" in str(err.value)


def test_mmpose_prediction_maps_to_openpose():
    xy = np.stack([np.arange(133, dtype=float), np.arange(133, dtype=float) + 1000], 1)
    scores = np.full(133, 0.9)
    scores[120] = 0.0  # a right-hand point the model did not see
    person = instances_to_openpose({"keypoints": xy.tolist(), "keypoint_scores": scores.tolist(),
                                    "bbox": [[0, 0, 10, 10]]})
    assert person[J["RAnkle"], :2].tolist() == [16, 1016]
    assert person[J["LHeel"], :2].tolist() == [19, 1019]
    assert person[FACE][0, :2].tolist() == [23, 1023]
    assert person[HAND_RIGHT][120 - 112].tolist() == [0, 0, 0]
    assert person[HAND_RIGHT][0, :2].tolist() == [112, 1112]


def test_unbundled_mediapipe_model_is_a_clear_error():
    with pytest.raises(PoseAnimateError) as err:
        MediapipeBackend(face_hands=False, model_complexity=2)
    assert "pose_landmark_heavy.tflite" in str(err.value)
    assert "model_complexity: 1" in str(err.value)
