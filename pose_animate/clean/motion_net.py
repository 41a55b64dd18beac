"""The learned motion-extraction net: a temporal convolutional network (VideoPose3D-like) that
maps a noisy 2D keypoint sequence to a clean one.

Dilated 1-D convolutions (kernel 3, dilations 1, 3, 9, 27: an 81-frame receptive field) look at
each joint's trajectory through a bank of confidence-weighted Gaussian filters (the raw
positions and sigma 1, 2, 4 frames) and its observed flags, and output per joint and frame
how much of each filtered version to take (softmax weights) plus a small free correction;
trained with the MPJPE loss. So the net is a learned, motion-adaptive filter: it smooths
strongly where a joint shakes and little where it moves fast, which no fixed filter can, and
an untrained net already equals the sigma-1 Gaussian (its initial weights).

Coordinates enter relative to a smooth per-frame centre of the person and in units of the
person's size, so one net serves any resolution and position. Inference is one forward pass
over the whole sequence (edges padded by repetition), of any length.

A checkpoint holds the weights with the net's config (joints, width, depth, filter bank);
loading checks them, so a mismatched or foreign file gives a clear error.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch import nn

from ..core.atomic import atomic_file
from ..core.errors import PoseAnimateError
from .filters import sequence_scale, smooth

CHECKPOINT_FORMAT = "pose_animate.motion_net/2"
# The 13 joints that Penn Action labels, as BODY_25 indices (head -> Nose).
PENN_JOINTS = [0, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11]
CENTRE_SIGMA = 10.0  # frames: the centre the coordinates are taken relative to is this smooth


@dataclass
class NetConfig:
    joints: list = field(default_factory=lambda: list(range(25)))
    channels: int = 128
    depth: int = 4  # kernel-3 layers with dilations 1, 3, 9, ...: receptive field 3 ** depth
    dropout: float = 0.1
    bank: list = field(default_factory=lambda: [0.0, 1.0, 2.0, 4.0])  # Gaussian sigmas (0 = raw)
    start: int = 1  # the bank entry an untrained net takes

    @property
    def n_features(self) -> int:
        """Per joint: start entry x, y; the other entries minus it (x, y each); observed."""
        return 2 * len(self.bank) + 1

    @property
    def n_outputs(self) -> int:
        return len(self.bank) + 2

    @property
    def receptive_field(self) -> int:
        return 3 ** self.depth


class TemporalConvNet(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        n = len(cfg.joints)
        c = cfg.channels
        self.pad = (cfg.receptive_field - 1) // 2
        self.expand = nn.Sequential(nn.Conv1d(cfg.n_features * n, c, 3), nn.BatchNorm1d(c), nn.ReLU(),
                                    nn.Dropout(cfg.dropout))
        self.blocks = nn.ModuleList()
        self.crops = []
        for i in range(1, cfg.depth):
            d = 3 ** i
            self.blocks.append(nn.Sequential(
                nn.Conv1d(c, c, 3, dilation=d), nn.BatchNorm1d(c), nn.ReLU(), nn.Dropout(cfg.dropout),
                nn.Conv1d(c, c, 1), nn.BatchNorm1d(c), nn.ReLU(), nn.Dropout(cfg.dropout)))
            self.crops.append(d)
        self.n_joints, self.n_out = n, cfg.n_outputs
        self.shrink = nn.Conv1d(c, cfg.n_outputs * n, 1)
        # Start as the bank's `start` filter with no correction: training learns what helps.
        nn.init.zeros_(self.shrink.weight)
        with torch.no_grad():
            bias = torch.zeros(n, cfg.n_outputs)
            bias[:, cfg.start] = 4.0
            self.shrink.bias.copy_(bias.reshape(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, FJ, T + 2 pad) -> (B, J, K + 2, T) for the centre T frames: K filter-weight
        logits and a correction (x, y) per joint."""
        h = self.expand(x)
        for block, crop in zip(self.blocks, self.crops):
            h = h[:, :, crop:-crop] + block(h)
        out = self.shrink(h)
        return out.reshape(len(out), self.n_joints, self.n_out, -1)


RESIDUAL_GAIN = 20.0  # bank differences are ~1 % of body size: scaled up to ~0.2 for the net


def combine(bank: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """bank (B, T, J, K, 2), net output (B, J, K + 2, T) -> positions (B, T, J, 2)."""
    k = bank.shape[3]
    weights = torch.softmax(out[:, :, :k], dim=2).permute(0, 3, 1, 2)  # (B, T, J, K)
    correction = out[:, :, k:].permute(0, 3, 1, 2) / RESIDUAL_GAIN
    return (weights[..., None] * bank).sum(3) + correction


def centre_and_scale(xy: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """A smooth per-frame centre (T, 2) (confidence-weighted mean of the points, Gaussian-smoothed
    over CENTRE_SIGMA frames) and the sequence's size in pixels."""
    w = weight.astype(np.float64)
    num = gaussian_filter1d((w[..., None] * xy).sum(1), CENTRE_SIGMA, axis=0, mode="nearest")
    den = gaussian_filter1d(w.sum(1), CENTRE_SIGMA, axis=0, mode="nearest")[:, None]
    centre = np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0.0)
    pts = np.concatenate([xy, weight[..., None]], -1)
    return centre, sequence_scale(pts, weight > 0)


def features(seq: np.ndarray, observed: np.ndarray, cfg: NetConfig) -> dict:
    """The net's view of a gap-filled sequence (T, J, 3) of its joints.

    `x` (FJ, T) the input channels (see NetConfig.n_features; missing points are 0), `bank`
    (T, J, K, 2) the normalised filtered trajectories the output mixes, `centre` and `scale`
    to map back to pixels.
    """
    xy = seq[..., :2].astype(np.float64)
    present = seq[..., 2] > 0
    centre, scale = centre_and_scale(xy, present.astype(np.float64))
    rel = ((xy - centre[:, None]) / scale).astype(np.float32)
    rel[~present] = 0  # a missing point (long gap) must not look like a far one
    bank = np.stack([rel if sigma == 0 else
                     smooth(rel, observed.astype(np.float32), present, "gaussian", sigma=sigma)
                     for sigma in cfg.bank], 2)
    bank[~present] = 0
    start = bank[:, :, cfg.start]
    others = [RESIDUAL_GAIN * (bank[:, :, k] - start) for k in range(len(cfg.bank)) if k != cfg.start]
    feats = np.concatenate([start, *others, observed[..., None].astype(np.float32)], -1)
    return {"x": np.ascontiguousarray(feats.reshape(len(xy), -1).T, np.float32),
            "bank": bank.astype(np.float32), "centre": centre, "scale": scale}


def x_features(cfg: NetConfig) -> list[int]:
    """The per-joint input channels holding x (negated by a left/right mirror)."""
    return list(range(0, 2 * len(cfg.bank), 2))


class MotionNet:
    """A trained net with its config: `denoise` cleans one sequence of its joints."""

    def __init__(self, cfg: NetConfig, model: TemporalConvNet | None = None):
        self.config = cfg
        self.model = model or TemporalConvNet(cfg)

    @torch.no_grad()
    def denoise(self, seq: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """seq (T, J, 3) gap-filled keypoints of the net's joints (missing rows zero), observed
        (T, J) the detections actually seen -> cleaned xy (T, J, 2) in pixels."""
        self.model.eval()
        f = features(seq, observed, self.config)
        x = torch.from_numpy(f["x"])[None]
        pad = self.model.pad
        x = nn.functional.pad(x, (pad, pad), mode="replicate") if x.shape[-1] > 1 else \
            x.repeat(1, 1, 2 * pad + 1)
        rel = combine(torch.from_numpy(f["bank"])[None], self.model(x))[0].numpy()
        return (rel * f["scale"] + f["centre"][:, None]).astype(np.float32)


def save_motion_net(path, net: MotionNet, extra: dict | None = None) -> None:
    with atomic_file(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "config": asdict(net.config),
                    "state_dict": net.model.state_dict(), **(extra or {})}, tmp)


def load_motion_net(path) -> MotionNet:
    """Load a checkpoint written by `save_motion_net`, with a clear error when it is not one."""
    path = Path(path)
    fix_train = ("train one with `snakemake train_motion_net` (training data in "
                 "motion_net.training) or set motion_net.checkpoint: null for classical cleaning.")
    if not path.is_file():
        raise PoseAnimateError("motion net checkpoint not found.", path=path, fix=fix_train)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a foreign or truncated file
        raise PoseAnimateError(f"cannot read the motion net checkpoint ({exc}).", path=path,
                               fix=fix_train)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise PoseAnimateError(f"not a {CHECKPOINT_FORMAT} checkpoint.", path=path,
                               fix=fix_train)
    try:
        cfg = NetConfig(**ckpt["config"])
        if not cfg.joints or not all(0 <= j < 25 for j in cfg.joints):
            raise ValueError(f"joints {cfg.joints} are not BODY_25 indices")
        net = MotionNet(cfg)
        net.model.load_state_dict(ckpt["state_dict"])
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()
        raise PoseAnimateError(f"the checkpoint's weights do not match its config "
                               f"({' '.join(first[:2])[:300]}).",
                               path=path, fix=fix_train)
    net.model.eval()
    net.path = str(path)
    return net
