"""Dataset folders for the export tests, made in milliseconds, with exactly known content: a
stick figure with face and hands over a gradient, its right wrist marked by a magenta square (so
a test can find a keypoint in an exported image after any resize), a constant flow, noisy raw
keypoints beside the clean ones and a frames record with the frame rate."""

from pathlib import Path

import cv2
import numpy as np

from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J
from pose_animate.core.draw import draw_skeleton
from pose_animate.core.formats import (frame_name, keypoints_name, write_flo, write_image,
                                       write_iuv, write_json, write_openpose)

MARK = (255, 0, 255)  # BGR magenta: no gradient or limb colour comes near it
FLOW = (1.5, -0.5)    # every flow vector, in frame pixels
NOISE = 2.0           # raw keypoints = clean + this many pixels to the right


def person_at(t: int, n: int, h: int, w: int) -> np.ndarray:
    """(137, 3): a figure centred in an h x w frame, arms swinging, face and hands seen."""
    s = min(h, w)
    cx, top = w / 2, (h - s) / 2
    swing = 0.1 * np.sin(2 * np.pi * t / max(n, 1))
    body = {"Nose": (0, 0.16), "Neck": (0, 0.27), "RShoulder": (-0.1, 0.28),
            "RElbow": (-0.18, 0.38 - swing), "RWrist": (-0.24, 0.47 - 2 * swing),
            "LShoulder": (0.1, 0.28), "LElbow": (0.18, 0.38 + swing),
            "LWrist": (0.24, 0.47 + 2 * swing), "MidHip": (0, 0.55), "RHip": (-0.06, 0.56),
            "RKnee": (-0.07, 0.72), "RAnkle": (-0.07, 0.88), "LHip": (0.06, 0.56),
            "LKnee": (0.07, 0.72), "LAnkle": (0.07, 0.88), "REye": (-0.02, 0.14),
            "LEye": (0.02, 0.14), "REar": (-0.04, 0.15), "LEar": (0.04, 0.15),
            "LBigToe": (0.09, 0.91), "LSmallToe": (0.11, 0.9), "LHeel": (0.06, 0.9),
            "RBigToe": (-0.09, 0.91), "RSmallToe": (-0.11, 0.9), "RHeel": (-0.06, 0.9)}
    person = np.zeros((137, 3), np.float32)
    for name, (x, y) in body.items():
        person[J[name]] = (cx + x * s, top + y * s, 0.9)
    angles = np.linspace(0, 2 * np.pi, 70, endpoint=False)
    nose = person[J["Nose"], :2]
    person[FACE] = np.c_[nose[0] + 0.05 * s * np.cos(angles),
                         nose[1] + 0.06 * s * np.sin(angles), np.full(70, 0.8)]
    for where, wrist in ((HAND_LEFT, "LWrist"), (HAND_RIGHT, "RWrist")):
        wx, wy = person[J[wrist], :2]
        k = np.arange(21)
        person[where] = np.c_[wx + 0.01 * s * (k % 5), wy + 0.01 * s * (k // 5), np.full(21, 0.7)]
    return person


def make_subject(root, name: str = "alice", n: int = 12, h: int = 64, w: int = 64,
                 fps: float = 24.0, blank=()) -> dict:
    """results/subjects/{name}/ and results/work/{name}/ (keypoints_raw, frames.json) under
    `root`; frames in `blank` have nobody. Returns the export plan entry of the subject."""
    root = Path(root)
    folder, work = root / "subjects" / name, root / "work" / name
    for sub in ("frames", "openpose_json", "mask", "densepose", "flow", "flow_inv"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (work / "keypoints_raw").mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(40, 200, w, dtype=np.uint8)
    bg = np.dstack([np.tile(ramp, (h, 1)), np.full((h, w), 90, np.uint8),
                    np.tile(np.linspace(60, 160, h, dtype=np.uint8)[:, None], (1, w))])
    for t in range(n):
        person = person_at(t, n, h, w)
        img = draw_skeleton(bg.copy(), person, thickness=2)
        mask = np.zeros((h, w, 3), np.uint8)
        draw_skeleton(mask, person, thickness=5, face=False, hands=False)
        mask = np.where(mask.max(axis=2) > 0, 255, 0).astype(np.uint8)
        x, y = (int(round(v)) for v in person[J["RWrist"], :2])
        cv2.rectangle(img, (x - 2, y - 2), (x + 2, y + 2), MARK, -1)
        write_image(folder / "frames" / frame_name(t), img)
        write_image(folder / "mask" / frame_name(t), mask)
        parts = np.where(mask > 0, 1 + t % 24, 0).astype(np.uint8)
        u = np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1))
        write_iuv(folder / "densepose" / frame_name(t), parts, u, u.T[:h, :w] if h == w else u)
        people = [] if t in blank else [person]
        write_openpose(folder / "openpose_json" / keypoints_name(t), people)
        noisy = person.copy()
        noisy[:, 0] += NOISE * (noisy[:, 2] > 0)
        write_openpose(work / "keypoints_raw" / keypoints_name(t), [] if t in blank else [noisy])
        if t < n - 1:
            flow = np.broadcast_to(np.float32(FLOW), (h, w, 2)).copy()
            write_flo(folder / "flow" / f"{t:06d}.flo", flow)
            write_flo(folder / "flow_inv" / f"{t:06d}.flo", -flow)
    cv2.imwrite(str(folder / "bg.jpg"), bg, [cv2.IMWRITE_JPEG_QUALITY, 98])
    cv2.imwrite(str(folder / "texture.jpg"), np.full((1200, 800, 3), 128, np.uint8))
    write_json(work / "frames.json", {"fps": fps, "size": [w, h]})
    return {"folder": str(folder), "raw": str(work / "keypoints_raw"),
            "record": str(work / "frames.json")}


def plan(name, subjects: dict, train, test=(), driving=None, normalized=None) -> dict:
    return {"name": name, "train": list(train), "test": list(test), "driving": driving,
            "normalized": normalized, "subjects": subjects}
