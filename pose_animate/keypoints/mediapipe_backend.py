"""mediapipe 0.10.21 legacy solutions (bundled models, CPU): pose, or holistic with face + hands.

Both run in video (tracking) mode, as mediapipe intends for videos: the landmarks of one frame
give the region searched in the next, which is both faster and steadier than detecting anew.
They see one person per frame; `detect_roi` runs a second instance on a crop around a given
box, which is how the caller keeps following its subject when the full-frame tracker has
moved to someone else (see pose_animate.keypoints.detect).

Coordinates: mediapipe's landmarks are normalised to the processed image; they are scaled to
its pixels. Confidence: a pose landmark's visibility. Face-mesh and hand landmarks carry no
score in the legacy API, so the face points take the mean visibility of the pose's face points
(nose, eyes, ears, mouth) and each hand the visibility of its pose wrist. Points outside the
image or below `MIN_POINT_CONFIDENCE` are missing (0, 0, 0), as in OpenPose output.
"""

from pathlib import Path

import cv2
import numpy as np

from ..core.body import FACE, HAND_LEFT, HAND_RIGHT
from ..core.errors import PoseAnimateError
from .mapping import face_mesh_to_face70, mediapipe_pose_to_body25
from .track import Box

MIN_POINT_CONFIDENCE = 0.05
_POSE_FACE = list(range(11))  # nose, eyes, ears, mouth corners of the 33 pose landmarks
_POSE_WRISTS = {"left": 15, "right": 16}
_MODEL_FILES = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite",
                2: "pose_landmark_heavy.tflite"}


def _check_model(model_complexity: int) -> None:
    """mediapipe downloads the lite and heavy pose models on first use; say so clearly."""
    import mediapipe

    models = Path(mediapipe.__file__).parent / "modules" / "pose_landmark"
    if not (models / _MODEL_FILES[model_complexity]).is_file():
        raise PoseAnimateError(
            f"mediapipe's model for model_complexity {model_complexity} "
            f"({_MODEL_FILES[model_complexity]}) is not installed, and nothing is downloaded "
            f"at run time.", path=models,
            fix="use keypoints.model_complexity: 1 (bundled with mediapipe), or place the "
                "model file in that folder.")


def _landmarks(landmark_list, width: int, height: int, conf=None) -> np.ndarray:
    """(N, 3) [x_px, y_px, confidence] of a landmark list; `conf` replaces visibility."""
    pts = np.array([(lm.x, lm.y, lm.visibility) for lm in landmark_list.landmark], np.float32)
    pts[:, 0] *= width
    pts[:, 1] *= height
    if conf is not None:
        pts[:, 2] = conf
    return pts


def _drop_unseen(person: np.ndarray, width: int, height: int) -> np.ndarray:
    x, y, c = person[:, 0], person[:, 1], person[:, 2]
    unseen = (c < MIN_POINT_CONFIDENCE) | (x < 0) | (y < 0) | (x > width - 1) | (y > height - 1)
    person[unseen] = 0
    return person


class MediapipeBackend:
    """Keypoints of the one person mediapipe follows, as (137, 3) in the image's pixels.

    with MediapipeBackend(face_hands=False) as backend:
        person = backend.detect(frame_bgr)   # None when nobody is found
    """

    name = "mediapipe"
    sees_one_person = True

    def __init__(self, face_hands: bool = True, model_complexity: int = 1,
                 min_confidence: float = 0.5):
        _check_model(model_complexity)
        self.face_hands = face_hands
        self._args = dict(static_image_mode=False, model_complexity=model_complexity,
                          min_detection_confidence=min_confidence,
                          min_tracking_confidence=min_confidence)
        self._full = self._new()
        self._roi = None  # made on first use: most videos never need it

    @property
    def mode(self) -> str:
        return "holistic" if self.face_hands else "pose"

    def _new(self):
        import mediapipe as mp

        if self.face_hands:
            return mp.solutions.holistic.Holistic(refine_face_landmarks=True, **self._args)
        return mp.solutions.pose.Pose(**self._args)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        for solution in (self._full, self._roi):
            if solution is not None:
                solution.close()
        self._full = self._roi = None

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        """The tracked person in the whole frame."""
        return self._run(self._full, frame_bgr)

    def detect_roi(self, frame_bgr: np.ndarray, box: Box, margin: float = 1.0) -> np.ndarray | None:
        """The person inside a square around `box` (side (1 + 2 margin) x box size), in frame
        pixels. A separate tracker instance, so the full-frame one keeps its state."""
        if self._roi is None:
            self._roi = self._new()
        height, width = frame_bgr.shape[:2]
        half = box.size * (0.5 + margin)
        x0, x1 = int(max(0, box.cx - half)), int(min(width, box.cx + half))
        y0, y1 = int(max(0, box.cy - half)), int(min(height, box.cy + half))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        person = self._run(self._roi, frame_bgr[y0:y1, x0:x1])
        if person is not None:
            seen = person[:, 2] > 0
            person[seen, 0] += x0
            person[seen, 1] += y0
        return person

    def _run(self, solution, image_bgr: np.ndarray) -> np.ndarray | None:
        height, width = image_bgr.shape[:2]
        result = solution.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        pose = _landmarks(result.pose_landmarks, width, height)
        person = mediapipe_pose_to_body25(pose)
        if self.face_hands:
            if result.face_landmarks is not None:
                face_conf = float(pose[_POSE_FACE, 2].mean())
                mesh = _landmarks(result.face_landmarks, width, height, conf=face_conf)
                person[FACE] = face_mesh_to_face70(mesh)
            for side, where in (("left", HAND_LEFT), ("right", HAND_RIGHT)):
                hand = getattr(result, f"{side}_hand_landmarks")
                if hand is not None:
                    # holistic's left hand is the subject's left (found from the pose's wrist).
                    person[where] = _landmarks(hand, width, height,
                                               conf=pose[_POSE_WRISTS[side], 2])
        return _drop_unseen(person, width, height)
