"""The renderer's input: a pose drawn as a label map, plus optional IUV and background channels.

Channels, in order:
- one per BODY_25 limb (24), then the face, the left hand and the right hand (1 each): lines
  drawn with cv2 in 0/1, so the network can tell every bone apart (Everybody Dance Now draws
  them in colours; separate channels carry the same information without colour mixing);
- with `iuv`: I / 24, U, V of the DensePose IUV image (3);
- with `background`: the subject's background plate in -1..1 (3, BGR).

Keypoints are in pixels of the dataset frame (`frame_hw`); the map is `map_hw` (the model's
resolution), so points are scaled per axis.
"""

import cv2
import numpy as np

from ..core.body import BODY, BODY_25_LIMBS, FACE, FACE_LIMBS, HAND_LEFT, HAND_LIMBS, HAND_RIGHT

POSE_CHANNELS = len(BODY_25_LIMBS) + 3
MIN_CONF = 0.05


def input_channels(iuv: bool, background: bool) -> int:
    """Channels of one frame's conditioning map."""
    return POSE_CHANNELS + 3 * bool(iuv) + 3 * bool(background)


def model_size(frame_hw, size: int, multiple: int) -> tuple[int, int]:
    """The model's (H, W): the frame's long side scaled to `size`, each side a multiple of
    `multiple` (the generator's total downsampling), aspect kept as closely as that allows."""
    h, w = frame_hw
    scale = size / max(h, w)
    return (max(multiple, int(round(h * scale / multiple)) * multiple),
            max(multiple, int(round(w * scale / multiple)) * multiple))


def to_map(person: np.ndarray, frame_hw, map_hw) -> np.ndarray:
    """(137, 3) keypoints in frame pixels -> the model's pixels, confidence kept."""
    out = np.array(person, np.float32)
    out[:, 0] *= map_hw[1] / frame_hw[1]
    out[:, 1] *= map_hw[0] / frame_hw[0]
    return out


def has_person(person: np.ndarray) -> bool:
    return bool(np.any(person[BODY, 2] > MIN_CONF))


def draw_pose(person: np.ndarray, frame_hw, map_hw) -> np.ndarray:
    """(POSE_CHANNELS, H, W) float32 0/1 label map of one person ((137, 3) keypoints)."""
    h, w = map_hw
    sx, sy = w / frame_hw[1], h / frame_hw[0]
    out = np.zeros((POSE_CHANNELS, h, w), np.uint8)
    # Bones about 1/64 of the image wide, at least one pixel; face and hands half that.
    body_width = max(1, round(max(h, w) / 64))
    part_width = max(1, body_width // 2)
    pts = np.stack([person[:, 0] * sx, person[:, 1] * sy], axis=1)
    ok = person[:, 2] > MIN_CONF
    groups = ([(BODY.start, [limb], body_width) for limb in BODY_25_LIMBS]
              + [(FACE.start, FACE_LIMBS, part_width), (HAND_LEFT.start, HAND_LIMBS, part_width),
                 (HAND_RIGHT.start, HAND_LIMBS, part_width)])
    for channel, (offset, limbs, width) in enumerate(groups):
        canvas = out[channel]
        for a, b in limbs:
            a, b = a + offset, b + offset
            if ok[a] and ok[b]:
                cv2.line(canvas, _px(pts[a]), _px(pts[b]), 1, width, cv2.LINE_AA)
    return out.astype(np.float32)


def _px(point) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))


def iuv_channels(parts: np.ndarray, u: np.ndarray, v: np.ndarray, map_hw) -> np.ndarray:
    """(3, H, W) float32: I / 24, U, V resized (nearest, so part borders stay crisp)."""
    h, w = map_hw
    stack = np.stack([parts.astype(np.float32) / 24, u, v], axis=2)
    return cv2.resize(stack, (w, h), interpolation=cv2.INTER_NEAREST).transpose(2, 0, 1).copy()


def image_to_tensor_layout(img_bgr: np.ndarray, map_hw) -> np.ndarray:
    """(3, H, W) float32 in -1..1 of a BGR uint8 image resized to the model's size."""
    h, w = map_hw
    if img_bgr.shape[:2] != (h, w):
        img_bgr = cv2.resize(img_bgr, (w, h), interpolation=cv2.INTER_AREA)
    return img_bgr.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1


def tensor_layout_to_image(chw: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) of a (3, H, W) array in -1..1."""
    return np.clip((np.asarray(chw).transpose(1, 2, 0) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
