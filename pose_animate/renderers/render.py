"""Rendering a driving subject's motion onto a trained target, frame by frame.

Each frame is generated from its pose, the previous pose and the previous output, as the model
was trained. Frames of the driving video where nobody was found (all keypoints missing) are
rendered by the `missing` policy:
- `hold`: the last pose seen is held (leading empty frames take the first pose seen);
- `blank`: the target's background plate (black when the model has none), and the temporal
  chain restarts at the next pose.
Outputs: `video.mp4` at the driving video's fps and `compare.mp4`: driving frame | normalized
skeleton | result, side by side.
"""

from pathlib import Path

import cv2
import numpy as np
import torch

from ..core.draw import draw_skeleton, evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import read_json, read_openpose_folder, write_image
from ..core.frameseq import FrameSequence
from .edn import model as pix2pixhd
from .posemap import draw_pose, has_person, tensor_layout_to_image
from ..core.runlog import log, progress
from .engine import load_checkpoint, pick_device
from ..core.videoio import VideoWriter


class Renderer:
    """A trained generator run frame by frame: `render(person)` -> BGR uint8 frame."""

    def __init__(self, model_path, device: str = "auto"):
        state = load_checkpoint(model_path)
        spec = state["spec"]
        self.spec, self.model_path = spec, Path(model_path)
        self.map_hw = tuple(spec["inputs"]["map_hw"])
        self.frame_hw = tuple(state["frame_hw"])
        self.background = state.get("background")
        self.training_frames = state.get("training_frames")
        self.device = pick_device(device)
        arch = pix2pixhd.Architecture(**spec["arch"])
        self.G = pix2pixhd.Generator(arch, spec["inputs"]["cond_channels"],
                                     spec["inputs"]["background"])
        try:
            self.G.load_state_dict(state["G"])
        except RuntimeError as exc:
            raise PoseAnimateError(f"the generator's weights do not fit preset "
                                   f"'{spec['preset']}' ({str(exc)[:200]}).", path=model_path,
                                   fix="retrain: the model file is corrupt or edited.")
        self.G.eval().to(self.device)
        self.reset()

    def reset(self) -> None:
        """Start a new temporal chain (the next frame is rendered as a first frame)."""
        self._prev_cond = self._prev_out = None

    def cond(self, person: np.ndarray, extra=None) -> np.ndarray:
        """Conditioning map of a pose (keypoints in the target's frame pixels); `extra` are
        the IUV channels of a model trained with them."""
        parts = [draw_pose(person, self.frame_hw, self.map_hw)]
        if self.spec["inputs"]["iuv"]:
            if extra is None:
                raise PoseAnimateError(
                    "this model was trained with IUV inputs; rendering a driving motion needs "
                    "IUV in the target's frame, which the pipeline does not make.",
                    path=self.model_path, fix="train with train.use_iuv: false to render.")
            parts.append(extra)
        if self.spec["inputs"]["background"]:
            parts.append(self.background)
        return np.concatenate(parts, axis=0).astype(np.float32)

    @torch.no_grad()
    def render_cond(self, cond: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(cond)[None].to(self.device)
        if self._prev_cond is None:
            out = self.G(x, x, torch.zeros((1, 3) + self.map_hw, device=self.device))
        else:
            out = self.G(x, self._prev_cond, self._prev_out)
        self._prev_cond, self._prev_out = x, out
        return tensor_layout_to_image(out[0].float().cpu().numpy())

    def render(self, person: np.ndarray, extra=None) -> np.ndarray:
        return self.render_cond(self.cond(person, extra))

    def blank(self) -> np.ndarray:
        if self.background is not None:
            return tensor_layout_to_image(self.background)
        return np.zeros(self.map_hw + (3,), np.uint8)


def fill_missing(seq: np.ndarray, policy: str) -> list:
    """Per frame: the pose to render, or None for a blank frame (see the module docstring)."""
    present = [has_person(p) for p in seq]
    if not any(present):
        return [None] * len(seq)
    if policy == "blank":
        return [p if ok else None for p, ok in zip(seq, present)]
    if policy != "hold":
        raise ValueError(f"unknown missing-pose policy {policy!r}")
    held = seq[present.index(True)]
    out = []
    for p, ok in zip(seq, present):
        held = p if ok else held
        out.append(held)
    return out


def skeleton_view(person, frame_hw, out_hw) -> np.ndarray:
    """The pose drawn OpenPose-style on black at `out_hw` (keypoints in `frame_hw` pixels)."""
    canvas = np.zeros(tuple(out_hw) + (3,), np.uint8)
    if person is None:
        return canvas
    scaled = np.array(person, np.float32)
    scaled[:, 0] *= out_hw[1] / frame_hw[1]
    scaled[:, 1] *= out_hw[0] / frame_hw[0]
    return draw_skeleton(canvas, scaled)


def subject_fps(meta_path) -> float:
    """A subject's frame rate from the frames stage's record or the dataset's meta.json."""
    meta = read_json(meta_path)
    # the frames record itself ({"fps": ...}) or the dataset's meta.json ({"frames": {...}})
    for where in (meta, meta.get("frames")):
        if isinstance(where, dict) and isinstance(where.get("fps"), (int, float)):
            return float(where["fps"])
    raise PoseAnimateError("meta.json records no frame rate.", path=meta_path,
                           fix="rerun the frames stage (it records fps in meta.json).")


def _fit_height(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def render_driving(model_path, keypoints_dir, driving_frames_dir, video_path, compare_path,
                   fps: float, *, missing: str = "hold", device: str = "auto",
                   stills_path=None, n_stills: int = 6, pair: str | None = None) -> dict:
    """Render normalized driving keypoints onto the model's subject; returns a summary."""
    renderer = Renderer(model_path, device)
    seq = read_openpose_folder(keypoints_dir)
    if len(seq) == 0:
        raise PoseAnimateError("no keypoint files to render.", subject=pair, path=keypoints_dir,
                               fix="rerun the normalize stage for this pair.")
    driving = FrameSequence(driving_frames_dir, pair)
    if len(driving) != len(seq):
        raise PoseAnimateError(f"{len(seq)} normalized keypoint files for {len(driving)} "
                               "driving frames.", subject=pair, path=keypoints_dir,
                               fix="rerun the normalize stage (snakemake --forcerun normalize).")
    poses = fill_missing(seq, missing)
    empty = sum(not has_person(p) for p in seq)
    if empty == len(seq):
        log.warning("nobody in any driving frame: every rendered frame is blank")
    elif empty:
        log.info("%d of %d driving frames have nobody: %s", empty, len(seq),
                 "pose held" if missing == "hold" else "blank frames")
    h = renderer.map_hw[0]
    still_at = set(evenly_spaced(len(seq), n_stills))
    stills = []
    with VideoWriter(video_path, fps) as video, VideoWriter(compare_path, fps) as compare:
        for t, person in enumerate(progress(poses, total=len(poses), desc="rendering")):
            if person is None:
                frame = renderer.blank()
                renderer.reset()
            else:
                frame = renderer.render(person)
            video.write(frame)
            side = np.concatenate([_fit_height(driving.read(t), h),
                                   skeleton_view(person, renderer.frame_hw, renderer.map_hw),
                                   frame], axis=1)
            compare.write(side)
            if t in still_at:
                stills.append(side)
    if stills_path:
        write_image(stills_path, np.concatenate(stills, axis=0))
    return {"pair": pair, "frames": len(seq), "frames_without_person": empty,
            "missing_policy": missing, "fps": fps, "size": list(renderer.map_hw),
            "model": str(model_path)}
