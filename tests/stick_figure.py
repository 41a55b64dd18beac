"""A tiny subject dataset folder for the renderer's tests: a thick stick figure waving its
arms over a gradient, with exact keypoints, masks, IUV and background (milliseconds to make)."""

from pathlib import Path

import cv2
import numpy as np

from pose_animate.appearance.flow import compute_flow
from pose_animate.core.body import BODY_25_LIMBS, J, N_POINTS, empty_person
from pose_animate.core.config import settings
from pose_animate.core.formats import frame_name, write_image, write_iuv, write_openpose
from pose_animate.densepose.texture import build_texture


# A standing person, in body heights from the mid-hip (x right, y down).
STANDING = {"Nose": (0, -0.42), "Neck": (0, -0.30), "RShoulder": (-0.13, -0.30),
            "RElbow": (-0.15, -0.12), "RWrist": (-0.16, 0.03), "LShoulder": (0.13, -0.30),
            "LElbow": (0.15, -0.12), "LWrist": (0.16, 0.03), "MidHip": (0, 0),
            "RHip": (-0.065, 0), "RKnee": (-0.07, 0.25), "RAnkle": (-0.07, 0.5),
            "LHip": (0.065, 0), "LKnee": (0.07, 0.25), "LAnkle": (0.07, 0.5),
            "REye": (-0.02, -0.44), "LEye": (0.02, -0.44), "REar": (-0.04, -0.43),
            "LEar": (0.04, -0.43), "LBigToe": (0.09, 0.53), "LSmallToe": (0.11, 0.52),
            "LHeel": (0.06, 0.52), "RBigToe": (-0.09, 0.53), "RSmallToe": (-0.11, 0.52),
            "RHeel": (-0.06, 0.52)}
LEGS = ["MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "LBigToe",
        "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]


def standing_person(cx, cy, height, conf=0.9, without=()):
    """A standing person `height` px tall, mid-hip at (cx, cy); `without` joints unseen."""
    out = empty_person()
    for name, (x, y) in STANDING.items():
        if name not in without:
            out[J[name]] = (cx + x * height, cy + y * height, conf)
    return out


def stick_pose(t: int, n: int, size: int) -> np.ndarray:
    """(137, 3) keypoints of the figure at frame t of n: arms swing, body still."""
    s = size
    phase = 2 * np.pi * t / max(n, 1)
    pts = {
        "Nose": (0.5, 0.18), "Neck": (0.5, 0.28), "MidHip": (0.5, 0.55),
        "RShoulder": (0.40, 0.29), "LShoulder": (0.60, 0.29),
        "RHip": (0.44, 0.56), "LHip": (0.56, 0.56), "RKnee": (0.43, 0.72),
        "LKnee": (0.57, 0.72), "RAnkle": (0.43, 0.88), "LAnkle": (0.57, 0.88),
        "REye": (0.48, 0.16), "LEye": (0.52, 0.16),
    }
    swing = 0.12 * np.sin(phase)
    pts["RElbow"] = (0.32, 0.38 - swing)
    pts["RWrist"] = (0.26, 0.46 - 2 * swing)
    pts["LElbow"] = (0.68, 0.38 + swing)
    pts["LWrist"] = (0.74, 0.46 + 2 * swing)
    person = np.zeros((N_POINTS, 3), np.float32)
    for name, (x, y) in pts.items():
        person[J[name]] = (x * s, y * s, 0.9)
    return person


def background(size: int) -> np.ndarray:
    ramp = np.linspace(40, 200, size, dtype=np.float32)
    bg = np.stack([np.tile(ramp, (size, 1)), np.tile(ramp[:, None], (1, size)),
                   np.full((size, size), 90, np.float32)], axis=2)
    return bg.astype(np.uint8)


def draw_figure(person: np.ndarray, size: int):
    """(BGR frame, 0/255 mask, part index map) of the figure over the background."""
    img = background(size)
    parts = np.zeros((size, size), np.uint8)
    width = max(2, size // 16)
    for i, (a, b) in enumerate(BODY_25_LIMBS):
        if person[a, 2] > 0 and person[b, 2] > 0:
            pa = tuple(int(v) for v in person[a, :2])
            pb = tuple(int(v) for v in person[b, :2])
            colour = (60 + 37 * i % 190, 200 - 23 * i % 150, 30 + 53 * i % 200)
            cv2.line(img, pa, pb, colour, width)
            cv2.line(parts, pa, pb, i % 24 + 1, width)
    mask = np.where(parts > 0, 255, 0).astype(np.uint8)
    return img, mask, parts


def make_subject_folder(root, n_frames: int = 12, size: int = 64, blank_frames=(),
                        flow: bool = False) -> Path:
    """results/subjects/{subject}-style folder: frames, openpose_json, mask, densepose, bg.jpg;
    with `flow`, also flow/ and flow_inv/ (DIS) and texture.jpg (unfolded): the whole folder.

    Frames listed in `blank_frames` get an empty keypoints file (nobody found)."""
    root = Path(root)
    for sub in ("frames", "openpose_json", "mask", "densepose"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for t in range(n_frames):
        person = stick_pose(t, n_frames, size)
        img, mask, parts = draw_figure(person, size)
        write_image(root / "frames" / frame_name(t), img)
        write_image(root / "mask" / frame_name(t), mask)
        u = np.full(parts.shape, 0.5, np.float32)
        write_iuv(root / "densepose" / frame_name(t), parts, u, u)
        write_openpose(root / "openpose_json" / f"{t:06d}_keypoints.json",
                       [] if t in blank_frames else [person])
    cv2.imwrite(str(root / "bg.jpg"), background(size), [cv2.IMWRITE_JPEG_QUALITY, 98])
    if flow:
        add_flow_and_texture(root)
    return root


def add_flow_and_texture(root: Path) -> None:
    """The flow stage's and the texture stage's outputs of a subject folder."""
    compute_flow(root / "frames", root / "flow", root / "flow_inv", root / "flow_valid",
                 settings("flow"), workers=1)
    build_texture(root / "frames", root / "densepose", root / "texture.jpg", settings("texture"))
