"""The low-resolution person pass: where the person is, in a few frames spread over the video
(for the frames stage's one stable crop).

`find_person` decodes `n_samples` evenly spaced frames small (PERSON_PASS_LONG_SIDE), in a
thread that runs ahead of the detector, and finds the person's box in each (`PersonBoxFinder`).

The detector is mediapipe Pose (BlazePose) in static-image mode, since the sampled frames are
far apart in time. It runs the bundled full landmark model: the 0.10.21 wheel ships only
`pose_landmark_full` (model_complexity=1); 0 and 2 would be downloaded at run time, which we
never do. On the small frames it costs about 18 ms per frame on one CPU core, so 32 samples
take well under a second.

A frame's box is the union of the visible landmarks and of the segmentation mask: the mask
reaches the hair, hands, feet and clothes that the joints do not, the landmarks cover limbs
the mask misses in motion blur.
"""

import queue
import threading

import numpy as np

from ..core.draw import evenly_spaced
from .probe import sample_frames

PERSON_PASS_LONG_SIDE = 320  # the pose detector sees 224 px anyway; larger only costs time
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


def find_person(source, info: dict, n_samples: int = 16, span: int | None = None,
                threads: int = 2, final=None) -> dict:
    """Person boxes of the sampled frames, in source pixels, and their union (None: nobody).

    `final(union) -> bool` may end the pass early: once it says no further box can change
    what the union is used for (the crop fills the frame: crop.fills_frame), the remaining
    frames are not searched and no more are decoded than the few the decoding thread has
    read ahead (`stopped_early`)."""
    boxes, stopped = [], False
    span = min(span or info["frames"], info["frames"])
    indices = evenly_spaced(span, n_samples)
    # Decoding (a thread, started here) overlaps the detector's start-up and inference.
    small = sample_frames(source, info, indices, PERSON_PASS_LONG_SIDE, threads)
    with _Prefetch(small) as samples, PersonBoxFinder() as find:
        for index, rgb in samples:
            box = find(rgb)
            if box is not None:
                to_source = np.array([info["width"] / rgb.shape[1], info["height"] / rgb.shape[0]])
                box = [round(float(v), 1) for v in box * np.tile(to_source, 2)]
            boxes.append([index, box])
            if box is not None and final and final(union_boxes([b for _, b in boxes])):
                stopped = len(boxes) < len(indices)
                break
    found = [b for _, b in boxes if b is not None]
    union = union_boxes(found)
    return {"sampled": len(boxes), "found": len(found), "stopped_early": stopped,
            "box": None if union is None else [round(float(v), 1) for v in union],
            "boxes": boxes}


class _Prefetch:
    """Iterate `iterable` in a thread started at once, `depth` items ahead; its exceptions are
    re-raised here. Leaving the `with` block early (an error) stops the thread."""

    def __init__(self, iterable, depth: int = 8):
        self._items, self._end, self._failure = queue.Queue(depth), object(), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iterable,), daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        """Queue `item` unless stopped meanwhile; False when stopped."""
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def _run(self, iterable):
        try:
            for item in iterable:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            self._failure.append(exc)
        finally:
            self._put(self._end)

    def __iter__(self):
        while (item := self._items.get()) is not self._end:
            yield item
        if self._failure:
            raise self._failure[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False
