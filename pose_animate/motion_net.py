"""The learned motion-extraction net: a temporal convolutional network (VideoPose3D-like) that
maps a noisy 2D keypoint sequence to a clean one.

Dilated 1-D convolutions (kernel 3, dilations 1, 3, 9, 27: an 81-frame receptive field) over
the joints' positions, their light Gaussian smoothing and the observed flags; it predicts a
correction to the smoothed positions, trained with the MPJPE loss. Coordinates enter relative to a smooth per-frame centre of the person and in
units of the person's size, so one net serves any resolution and position. Inference is one
forward pass over the whole sequence (edges padded by repetition), of any length.

A checkpoint holds the weights with the net's config (joints, width, depth); loading checks
them, so a mismatched or foreign file gives a clear error instead of garbage keypoints.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .atomic import atomic_file
from .clean import sequence_scale
from .errors import PoseAnimateError

CHECKPOINT_FORMAT = "pose_animate.motion_net/1"
# The 13 joints that Penn Action labels, as BODY_25 indices (head -> Nose).
PENN_JOINTS = [0, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11]
CENTRE_SIGMA = 10.0  # frames: the centre the coordinates are taken relative to is this smooth


@dataclass
class NetConfig:
    joints: list = field(default_factory=lambda: list(range(25)))
    channels: int = 128
    depth: int = 4  # kernel-3 layers with dilations 1, 3, 9, ...: receptive field 3 ** depth
    dropout: float = 0.1
    base_sigma: float = 1.0  # frames: the Gaussian smoothing the net corrects

    @property
    def receptive_field(self) -> int:
        return 3 ** self.depth


class TemporalConvNet(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        n = len(cfg.joints)
        c = cfg.channels
        self.pad = (cfg.receptive_field - 1) // 2
        self.expand = nn.Sequential(nn.Conv1d(N_FEATURES * n, c, 3), nn.BatchNorm1d(c), nn.ReLU(),
                                    nn.Dropout(cfg.dropout))
        self.blocks = nn.ModuleList()
        self.crops = []
        for i in range(1, cfg.depth):
            d = 3 ** i
            self.blocks.append(nn.Sequential(
                nn.Conv1d(c, c, 3, dilation=d), nn.BatchNorm1d(c), nn.ReLU(), nn.Dropout(cfg.dropout),
                nn.Conv1d(c, c, 1), nn.BatchNorm1d(c), nn.ReLU(), nn.Dropout(cfg.dropout)))
            self.crops.append(d)
        self.shrink = nn.Conv1d(c, 2 * n, 1)
        # Start as the identity (no correction): training then only learns what helps.
        nn.init.zeros_(self.shrink.weight)
        nn.init.zeros_(self.shrink.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 5J, T + 2 pad) -> correction (B, 2J, T) for the centre T frames."""
        h = self.expand(x)
        for block, crop in zip(self.blocks, self.crops):
            h = h[:, :, crop:-crop] + block(h)
        return self.shrink(h)


def centre_and_scale(xy: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """A smooth per-frame centre (T, 2) (confidence-weighted mean of the points, Gaussian-smoothed
    over CENTRE_SIGMA frames) and the sequence's size in pixels."""
    from scipy.ndimage import gaussian_filter1d

    w = weight.astype(np.float64)
    num = gaussian_filter1d((w[..., None] * xy).sum(1), CENTRE_SIGMA, axis=0, mode="nearest")
    den = gaussian_filter1d(w.sum(1), CENTRE_SIGMA, axis=0, mode="nearest")[:, None]
    centre = np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0.0)
    pts = np.concatenate([xy, weight[..., None]], -1)
    return centre, sequence_scale(pts, weight > 0)


N_FEATURES = 5  # per joint: x, y, smoothed x, smoothed y, observed flag
X_FEATURES = (0, 2)  # the x-like features (negated by a left/right mirror)


def features(seq: np.ndarray, observed: np.ndarray, base_sigma: float) -> dict:
    """The net's view of a gap-filled sequence (T, J, 3) of its joints.

    `x` (5J, T): per joint the normalised position (0 where missing), a confidence-weighted
    Gaussian smoothing of it (sigma `base_sigma` frames) and the observed flag; `base` (T, J, 2)
    the normalised smoothed positions the net's correction is added to (so an untrained net is
    a Gaussian filter, and training learns when to smooth more or less); `centre`, `scale`
    map back to pixels.
    """
    from .clean import smooth

    xy = seq[..., :2].astype(np.float64)
    present = seq[..., 2] > 0
    centre, scale = centre_and_scale(xy, present.astype(np.float64))
    rel = (xy - centre[:, None]) / scale
    rel[~present] = 0  # a missing point (long gap) must not look like a far one
    base = smooth(rel.astype(np.float32), observed.astype(np.float32), present, "gaussian",
                  sigma=base_sigma).astype(np.float64)
    base[~present] = 0
    feats = np.concatenate([rel, base, observed[..., None].astype(np.float64)], -1)
    return {"x": feats.reshape(len(xy), -1).T.astype(np.float32), "base": base.astype(np.float32),
            "centre": centre, "scale": scale}


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
        f = features(seq, observed, self.config.base_sigma)
        x = torch.from_numpy(f["x"])[None]
        pad = self.model.pad
        x = nn.functional.pad(x, (pad, pad), mode="replicate") if x.shape[-1] > 1 else \
            x.repeat(1, 1, 2 * pad + 1)
        corr = self.model(x)[0].numpy().T.reshape(len(seq), -1, 2)
        rel = f["base"] + corr
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
        raise PoseAnimateError(f"the checkpoint's weights do not match its config ({exc}).",
                               path=path, fix=fix_train)
    net.model.eval()
    return net
