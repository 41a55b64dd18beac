"""SAM2 video segmentation for the masks stage (`masks.backend: sam2`), where the `sam2` package
and its weights are installed (a GPU cluster; the package needs torchvision, so it is imported
only when this backend runs).

The video predictor is prompted with the subject's own keypoints, as today's animation
preprocessing prompts it (Wan2.2-Animate's): positive points at the nose, neck, shoulders, hips
and ankles seen on `key_frames` frames of every `chunk` frames. It propagates forward from the
first prompted frame to the chunk's end, then backward to the chunk's start, and its
probabilities go through the same refinement as the mediapipe backend's (the subject's
components, small holes), so both backends write alike masks. Frames where the subject is not
tracked get empty masks, as with mediapipe.
"""

from pathlib import Path

import cv2
import numpy as np

from ..core.body import J
from ..core.draw import evenly_spaced
from ..core.config import configured_path
from ..core.errors import PoseAnimateError
from ..core.runlog import log

PROMPT_JOINTS = [J[n] for n in ("Nose", "Neck", "RShoulder", "LShoulder", "RHip", "LHip",
                                "RAnkle", "LAnkle")]
MIN_PROMPTS = 3  # points a frame needs to be a key frame


def check_sam2(cfg: dict) -> None:
    """Before any job: the checkpoint and the model config are where the config says."""
    configured_path(cfg["sam2"]["checkpoint"], "masks.sam2.checkpoint",
                    "the SAM2 checkpoint (sam2.1_hiera_large.pt)")
    # the model config may also be a name inside the sam2 package (its Hydra search path)
    if not cfg["sam2"]["config"]:
        configured_path(None, "masks.sam2.config",
                        "its model config (configs/sam2.1/sam2.1_hiera_l.yaml)")


def build_predictor(cfg: dict, device: str):
    """SAM2's video predictor (`sam2.build_sam.build_sam2_video_predictor`)."""
    try:
        from sam2.build_sam import build_sam2_video_predictor
    except ImportError as exc:
        raise PoseAnimateError(
            f"masks.backend sam2 needs the sam2 package ({exc}).",
            fix="install it in this environment (pip install from facebookresearch/sam2 with "
                "its torchvision), or set masks.backend: mediapipe.")
    return build_sam2_video_predictor(cfg["sam2"]["config"],
                                      str(Path(cfg["sam2"]["checkpoint"]).expanduser()),
                                      device=device)


def prompt_points(person: np.ndarray, min_conf: float):
    """(points (k, 2) float32, labels (k,) int32, all positive) of the prompt joints seen."""
    pts = person[PROMPT_JOINTS]
    seen = pts[:, 2] > min_conf
    return pts[seen, :2].astype(np.float32), np.ones(int(seen.sum()), np.int32)


def key_frames(people: np.ndarray, start: int, stop: int, n: int, min_conf: float) -> list[int]:
    """`n` frames of [start, stop) spread over those showing enough prompt joints."""
    able = [t for t in range(start, stop)
            if (people[t][PROMPT_JOINTS, 2] > min_conf).sum() >= MIN_PROMPTS]
    return [able[k] for k in evenly_spaced(len(able), n)]


def _probability(logits) -> np.ndarray:
    """Object 1's mask logits (a (1, 1, H, W) tensor or array) as a uint8 probability."""
    values = logits.float().cpu().numpy() if hasattr(logits, "cpu") else np.asarray(logits)
    prob = 1 / (1 + np.exp(-np.clip(values.reshape(values.shape[-2:]), -30, 30)))
    return np.rint(prob * 255).astype(np.uint8)


def chunk_probabilities(predictor, chunk_dir, people, start: int, stop: int,
                        settings: dict) -> dict[int, np.ndarray]:
    """Frame -> uint8 probability for the frames [start, stop) whose JPEGs are in
    `chunk_dir` (SAM2 reads a folder of numbered JPEGs)."""
    cfg, min_conf = settings["sam2"], settings["min_conf"]
    keys = key_frames(people, start, stop, cfg["key_frames"], min_conf)
    if not keys:
        return {}
    state = predictor.init_state(video_path=str(chunk_dir),
                                 offload_video_to_cpu=cfg["offload_to_cpu"])
    for t in keys:
        points, labels = prompt_points(people[t], min_conf)
        predictor.add_new_points_or_box(inference_state=state, frame_idx=t - start, obj_id=1,
                                        points=points, labels=labels)
    probs = {}
    for idx, _, logits in predictor.propagate_in_video(state):
        probs[start + idx] = _probability(logits)
    if keys[0] > start:  # the frames before the first prompt
        for idx, _, logits in predictor.propagate_in_video(state, reverse=True):
            probs.setdefault(start + idx, _probability(logits))
    predictor.reset_state(state)
    return probs


def sam2_probabilities(seq, people, settings: dict, scratch, predictor):
    """Yield (t, float32 probability) for every frame of `seq`, a chunk at a time (memory
    stays at one chunk); frames SAM2 did not reach get 0."""
    chunk = settings["sam2"]["chunk"]
    for start in range(0, len(seq), chunk):
        stop = min(start + chunk, len(seq))
        folder = Path(scratch) / f"chunk{start:06d}"
        folder.mkdir()
        for t in range(start, stop):
            cv2.imwrite(str(folder / f"{t - start:05d}.jpg"), seq.read(t),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        probs = chunk_probabilities(predictor, folder, people, start, stop, settings)
        log.info("sam2: frames %d-%d, %d reached by propagation", start, stop - 1, len(probs))
        for t in range(start, stop):
            prob = probs.get(t)
            yield t, (np.zeros(seq.size, np.float32) if prob is None
                      else prob.astype(np.float32) / 255)
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
