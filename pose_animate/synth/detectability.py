"""Does a real detector see the demo figure as a person? mediapipe Pose (video mode) on the
frames, compared with the exact keypoints.

Deliberately independent of the keypoints stage (its own twelve-joint mapping of the raw
mediapipe landmarks), so that the demo is validated on its own and can then validate that
stage.
"""

import numpy as np

from ..core.body import J, body_height_px

# BODY_25 joint -> mediapipe Pose landmark (mediapipe's "left" is the person's left too)
MEDIAPIPE_OF = {"Nose": 0, "LShoulder": 11, "RShoulder": 12, "LElbow": 13, "RElbow": 14,
                "LWrist": 15, "RWrist": 16, "LHip": 23, "RHip": 24, "LKnee": 25,
                "RKnee": 26, "LAnkle": 27, "RAnkle": 28}


def detect_mediapipe(frames_bgr, model_complexity: int = 1) -> np.ndarray:
    """(T, len(MEDIAPIPE_OF), 3) [x, y, visibility] in pixels; zeros where nobody is found."""
    import mediapipe as mp  # imported here: heavy, and only this check needs it

    out = []
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=model_complexity,
                                min_detection_confidence=0.5) as pose:
        for frame in frames_bgr:
            h, w = frame.shape[:2]
            res = pose.process(np.ascontiguousarray(frame[..., ::-1]))
            pts = np.zeros((len(MEDIAPIPE_OF), 3), np.float32)
            if res.pose_landmarks is not None:
                lm = res.pose_landmarks.landmark
                for k, idx in enumerate(MEDIAPIPE_OF.values()):
                    pts[k] = (lm[idx].x * w, lm[idx].y * h, lm[idx].visibility)
            out.append(pts)
    return np.array(out)


def detection_stats(truth: np.ndarray, detected: np.ndarray) -> dict:
    """Detection rate and joint errors as fractions of the figure's height.

    truth: (T, 137, 3) exact keypoints; detected: detect_mediapipe's output.
    """
    idx = [J[name] for name in MEDIAPIPE_OF]
    found = detected[:, :, 2].sum(1) > 0
    errors = []
    for t in np.flatnonzero(found):
        height = body_height_px(truth[t])
        d = np.hypot(*(detected[t, :, :2] - truth[t, idx, :2]).T) / height
        errors.append(d)
    errors = np.array(errors) if errors else np.zeros((0, len(idx)))
    per_joint = {name: float(np.median(errors[:, k])) if len(errors) else float("nan")
                 for k, name in enumerate(MEDIAPIPE_OF)}
    return dict(frames=int(len(found)), detected=int(found.sum()),
                detection_rate=float(found.mean()) if len(found) else 0.0,
                median_error=float(np.median(errors)) if len(errors) else float("nan"),
                per_joint_median_error=per_joint)
