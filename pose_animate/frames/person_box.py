"""A fast pose pass that finds the person's box in a few sampled frames (for the stable crop).

mediapipe Pose (BlazePose) in static-image mode, since the sampled frames are far apart in
time. It runs the bundled full landmark model: the 0.10.21 wheel ships only
`pose_landmark_full` (model_complexity=1); 0 and 2 would be downloaded at run time, which we
never do. On the small frames it is given (long side 320) it costs about 18 ms per frame on
one CPU core, so 32 samples take well under a second.

A frame's box is the union of the visible landmarks and of the segmentation mask: the mask
reaches the hair, hands, feet and clothes that the joints do not, the landmarks cover limbs
the mask misses in motion blur.
"""

import numpy as np

MASK_THRESHOLD = 0.5
MIN_VISIBILITY = 0.5


class PersonBoxFinder:
    """Call with an RGB uint8 image; returns (x0, y0, x1, y1) in its pixels, or None.

    with PersonBoxFinder() as find:
        box = find(rgb)
    """

    def __init__(self, min_confidence: float = 0.5):
        import mediapipe as mp

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, enable_segmentation=True,
            min_detection_confidence=min_confidence)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        self._pose.close()

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        height, width = rgb.shape[:2]
        result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        points = np.array([(p.x * width, p.y * height) for p in result.pose_landmarks.landmark
                           if p.visibility > MIN_VISIBILITY], np.float32).reshape(-1, 2)
        boxes = []
        if len(points):
            # Occluded landmarks can be predicted outside the image: keep the box inside it.
            lo = np.clip(points.min(0), 0, [width, height])
            hi = np.clip(points.max(0), 0, [width, height])
            boxes.append(np.concatenate([lo, hi]))
        if result.segmentation_mask is not None:
            ys, xs = np.nonzero(result.segmentation_mask > MASK_THRESHOLD)
            if len(xs):
                boxes.append(np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                                      np.float32))
        return union_boxes(boxes)


def union_boxes(boxes) -> np.ndarray | None:
    """The smallest (x0, y0, x1, y1) box holding every box given (None entries skipped)."""
    boxes = [np.asarray(b, np.float64) for b in boxes if b is not None]
    if not boxes:
        return None
    stack = np.stack(boxes)
    return np.concatenate([stack[:, :2].min(0), stack[:, 2:].max(0)])
