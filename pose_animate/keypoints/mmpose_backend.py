"""Optional mmpose backend for GPU clusters: RTMPose / DWPose whole-body (COCO-WholeBody 133).

Needs mmpose (>= 1.1) installed and local files: the pose model's config and checkpoint, and
optionally a person detector's (mmdet) config and checkpoint. Nothing is downloaded: without a
detector the whole frame is the one person box (fine after the frames stage's person crop).
Every person found is returned; `detect.detect_folder` follows the most prominent one.
The 133 points map to OpenPose's 137 with `mapping.wholebody_to_openpose`.
"""


import numpy as np

from ..core.config import configured_path
from ..core.errors import PoseAnimateError
from .mapping import wholebody_to_openpose


def _local_file(path, key: str) -> str:
    return str(configured_path(path, f"keypoints.{key}", "a local mmpose file (or use "
                                                         "keypoints.backend: mediapipe)"))


class MMPoseBackend:
    """Whole-body keypoints of everyone in a frame, each (137, 3) in frame pixels."""

    name = "mmpose"
    mode = "wholebody"
    sees_one_person = False

    def __init__(self, config, checkpoint, det_config=None, det_checkpoint=None,
                 min_confidence: float = 0.5, device: str | None = None):
        config = _local_file(config, "mmpose_config")
        checkpoint = _local_file(checkpoint, "mmpose_checkpoint")
        if det_config or det_checkpoint:
            det_config = _local_file(det_config, "mmpose_det_config")
            det_checkpoint = _local_file(det_checkpoint, "mmpose_det_checkpoint")
        try:
            from mmpose.apis import MMPoseInferencer
        except ImportError as exc:
            raise PoseAnimateError(f"the mmpose backend needs mmpose, which is not installed "
                                   f"({exc}).", fix="pip install -U openmim && mim install "
                                   "mmengine mmcv mmpose (and mmdet for a person detector), or "
                                   "use keypoints.backend: mediapipe.")
        self.min_confidence = min_confidence
        self._inferencer = MMPoseInferencer(
            # device None: mmengine picks CUDA when available, else the CPU.
            pose2d=config, pose2d_weights=checkpoint, device=device,
            det_model=det_config or "whole_image", det_weights=det_checkpoint, det_cat_ids=[0])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def detect_all(self, frame_bgr: np.ndarray) -> list[np.ndarray]:
        """Everyone the model finds in the frame (BGR, as mmcv reads images)."""
        result = next(self._inferencer(frame_bgr, return_vis=False,
                                       bbox_thr=self.min_confidence))
        return [instances_to_openpose(inst) for inst in result["predictions"][0]]


def instances_to_openpose(instance: dict) -> np.ndarray:
    """One mmpose prediction ({'keypoints': 133 x [x, y], 'keypoint_scores': 133}) -> (137, 3)."""
    xy = np.asarray(instance["keypoints"], np.float32).reshape(-1, 2)
    scores = np.asarray(instance["keypoint_scores"], np.float32).reshape(-1, 1)
    return wholebody_to_openpose(np.concatenate([xy, scores], axis=1))
