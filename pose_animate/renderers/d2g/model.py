"""The `d2g` family: neural video rendering with dynamic details (D2G-Net, Sun et al., "Robust
pose transfer with dynamic details using neural video rendering", TPAMI 2022), in one file.

A frame is rendered in two steps, as the paper does:
- the body's surface: `TransG` turns the pose map into DensePose-style coordinates (25-way part
  logits, background included, and U, V per part), and the `NeuralTexture` (a learnt
  multi-channel texture in the dataset's 24-part atlas layout, its first three channels
  initialised from the subject's texture.jpg) is sampled through them into a feature image;
  its first three channels over the plate are the static-texture rendering;
- the dynamic details: a pix2pixHD generator (renderers/networks.py) takes the features, the
  pose map and its own previous output warped to this frame, and produces the frame's
  pose-dependent details and a foreground mask; the frame is that figure composited over the
  learnt background plate (initialised from bg.jpg, refined where the frames show it).

The previous output is warped by the flow between the previous and the current static
renderings (OpenCV DIS, the flow stage's estimator): both are made from the pose alone, so
training and rendering a driving video warp it the same way, and a driving video needs neither
flow nor DensePose of its own. Training also penalises flicker against the real video's
backward flow (renderers/d2g/train.py).

Presets: `tiny` (128 px, CPU: demo and tests) and `full` (512 px, GPU).
"""

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...appearance.flow import make_estimator
from ...core.body import N_PARTS
from ...core.errors import PoseAnimateError
from ...densepose.qa import iuv_overlay
from ...densepose.texture import TILE, tile_origin
from ..family import Driving
from ..networks import generator_layers
from ..posemap import POSE_CHANNELS, draw_pose, image_to_tensor_layout, tensor_layout_to_image

N_CLASSES = N_PARTS + 1  # background + 24 body parts


@dataclass(frozen=True)
class Architecture:
    size: int  # long side of the model's frames in pixels
    texture_size: int  # texels per side of a part's tile in the neural texture
    texture_channels: int  # neural texture channels; the first three are its colour
    trans_ngf: int  # TransG (pose -> IUV) channels after the input conv
    trans_down: int  # TransG strided downsamplings
    trans_blocks: int  # TransG residual blocks
    ngf: int  # detail generator channels after the input conv
    n_down: int  # detail generator strided downsamplings
    n_blocks: int  # detail generator residual blocks
    in_kernel: int  # kernel of both generators' input conv (pix2pixHD: 7)
    ndf: int  # discriminator channels of the first layer
    d_layers: int  # strided layers per discriminator
    num_d: int  # scales of the discriminator
    max_channels: int = 1024

    @property
    def multiple(self) -> int:
        """Frame sides must be multiples of this (both generators' downsampling)."""
        return 2 ** max(self.trans_down, self.n_down)


PRESETS = {
    # Two cores, minutes: 128 px, 32-texel tiles of 8 channels.
    "tiny": Architecture(size=128, texture_size=32, texture_channels=8, trans_ngf=16,
                         trans_down=3, trans_blocks=3, ngf=16, n_down=3, n_blocks=4,
                         in_kernel=3, ndf=16, d_layers=2, num_d=2, max_channels=128),
    # The paper's scale on a GPU: 512 px, 128-texel tiles of 16 channels, pix2pixHD's global
    # generator for the details.
    "full": Architecture(size=512, texture_size=128, texture_channels=16, trans_ngf=32,
                         trans_down=4, trans_blocks=6, ngf=64, n_down=4, n_blocks=9,
                         in_kernel=7, ndf=64, d_layers=3, num_d=2, max_channels=1024),
}


def preset(name: str) -> Architecture:
    if name not in PRESETS:
        raise PoseAnimateError(f"unknown model preset '{name}'.",
                               fix=f"set families.d2g.preset to one of {sorted(PRESETS)}.")
    return PRESETS[name]


# ---- networks ----------------------------------------------------------------------------

class TransG(nn.Module):
    """Pose map -> (part logits (B, 25, H, W), U and V of every part (B, 48, H, W) in 0..1,
    channels u1, v1, u2, v2, ...)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        # pix2pixHD's 7x7 output conv is most of TransG's cost (32 of 53 GFLOP a tiny step), but
        # a 3x3 one could not tell the thin parts apart at full resolution (part accuracy 0.41
        # instead of 0.63 after 300 steps on the demo, for 13 % less time).
        self.net = nn.Sequential(*generator_layers(
            POSE_CHANNELS, N_CLASSES + 2 * N_PARTS, ngf=arch.trans_ngf, n_down=arch.trans_down,
            n_blocks=arch.trans_blocks, in_kernel=arch.in_kernel,
            max_channels=arch.max_channels))

    def forward(self, pose):
        out = self.net(pose)
        return out[:, :N_CLASSES], torch.sigmoid(out[:, N_CLASSES:])


def texture_from_atlas(atlas_bgr: np.ndarray, size: int, channels: int) -> torch.Tensor:
    """(24, channels, size, size): each part's tile of the atlas resized to `size`, in -1..1,
    as the first three channels; the others start at zero (the paper's initialisation)."""
    tiles = torch.zeros(N_PARTS, channels, size, size)
    for part in range(1, N_PARTS + 1):
        r, c = tile_origin(part)
        tile = cv2.resize(atlas_bgr[r:r + TILE, c:c + TILE], (size, size),
                          interpolation=cv2.INTER_AREA)
        tiles[part - 1, :3] = torch.from_numpy(image_to_tensor_layout(tile, (size, size)))
    return tiles


def sample_texture(texture: torch.Tensor, logits: torch.Tensor, uv: torch.Tensor):
    """(B, C, H, W) feature image: every part's texture sampled at its (u, v), weighted by the
    part probabilities (the background weighs nothing). A tile's row 0 holds v = 1, as the
    dataset's atlas does (texel row = (1 - v) x (size - 1))."""
    b, _, h, w = uv.shape
    parts, channels, size, _ = texture.shape
    grid = torch.stack([uv[:, 0::2] * 2 - 1, 1 - 2 * uv[:, 1::2]], dim=-1)  # (B, 24, H, W, 2)
    tiles = texture.unsqueeze(0).expand(b, -1, -1, -1, -1).reshape(b * parts, channels, size,
                                                                     size)
    sampled = F.grid_sample(tiles, grid.reshape(b * parts, h, w, 2), mode="bilinear",
                            padding_mode="border", align_corners=True)
    probs = torch.softmax(logits, dim=1)[:, 1:]
    return (sampled.reshape(b, parts, channels, h, w) * probs.unsqueeze(2)).sum(1)


def backwarp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """`image` (B, C, H, W) moved to the frame whose pixels `flow` (B, 2, H, W, in pixels)
    points back from: out(x) = image(x + flow(x)), bilinear, borders repeated."""
    b, _, h, w = flow.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=flow.dtype),
                            torch.arange(w, device=flow.device, dtype=flow.dtype), indexing="ij")
    x = (xs + flow[:, 0]) * (2 / max(w - 1, 1)) - 1
    y = (ys + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    return F.grid_sample(image, torch.stack([x, y], dim=-1), mode="bilinear",
                         padding_mode="border", align_corners=True)


class D2G(nn.Module):
    """TransG, the neural texture, the detail generator and the background plate."""

    def __init__(self, arch: Architecture, map_hw):
        super().__init__()
        self.arch = arch
        self.trans = TransG(arch)
        self.texture = nn.Parameter(torch.zeros(N_PARTS, arch.texture_channels,
                                                arch.texture_size, arch.texture_size))
        self.detail = nn.Sequential(*generator_layers(
            arch.texture_channels + POSE_CHANNELS + 3, 4, ngf=arch.ngf, n_down=arch.n_down,
            n_blocks=arch.n_blocks, in_kernel=arch.in_kernel, max_channels=arch.max_channels))
        self.background = nn.Parameter(torch.zeros((3,) + tuple(map_hw)))

    def surface(self, pose) -> dict:
        """The body's surface from the pose: part logits, UV, the texture features and the
        static-texture rendering over the plate."""
        logits, uv = self.trans(pose)
        features = sample_texture(self.texture, logits, uv)
        figure = 1 - torch.softmax(logits, dim=1)[:, :1]
        static = figure * features[:, :3] + (1 - figure) * self.background
        return {"logits": logits, "uv": uv, "features": features, "static": static}

    def details(self, surface: dict, pose, warped_prev) -> dict:
        """The frame: dynamic details and a foreground mask over the plate."""
        out = self.detail(torch.cat([surface["features"], pose, warped_prev], dim=1))
        mask = torch.sigmoid(out[:, 3:4])
        frame = mask * torch.tanh(out[:, :3]) + (1 - mask) * self.background
        return {"frame": frame, "mask": mask}


class StaticFlow:
    """The flow from each static rendering back to the previous one (DIS on gray images), the
    same at training and render time."""

    def __init__(self):
        self.estimate = make_estimator("dis", "medium")

    @staticmethod
    def gray(static: torch.Tensor) -> np.ndarray:
        return cv2.cvtColor(tensor_layout_to_image(static.detach().float().cpu().numpy()),
                            cv2.COLOR_BGR2GRAY)

    def __call__(self, static_now: torch.Tensor, static_prev: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) flow on the statics' device: pixel x of `static_now` shows what
        `static_prev` shows at x + flow(x)."""
        flows = [self.estimate(self.gray(a), self.gray(b))
                 for a, b in zip(static_now, static_prev)]
        return torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).to(static_now.device)


# ---- the family's inputs, spec and inference step ---------------------------------------

def geometry(settings: dict) -> tuple[int, int]:
    """(long side, side multiple) of the model's frames for these settings."""
    arch = preset(settings["preset"])
    return settings["size"] or arch.size, arch.multiple


def spec(settings: dict, data) -> dict:
    """Every model-defining setting: the preset's architecture and the model's frame size."""
    size, _ = geometry(settings)
    return {"preset": settings["preset"], "arch": asdict(preset(settings["preset"])),
            "inputs": {"size": size, "map_hw": list(data.map_hw)}}


def extras(data, n_train: int, settings: dict) -> dict:
    return {"frame_hw": list(data.frame_hw)}


def build(spec: dict) -> D2G:
    return D2G(Architecture(**spec["arch"]), spec["inputs"]["map_hw"])


def iuv_from(logits: torch.Tensor, uv: torch.Tensor):
    """(parts, u, v) numpy arrays of one frame's predicted surface (the most likely part)."""
    parts = logits.argmax(0)
    index = (parts - 1).clamp(min=0)
    u = uv[0::2].gather(0, index[None])[0]
    v = uv[1::2].gather(0, index[None])[0]
    fg = parts > 0
    return (parts.to(torch.uint8).cpu().numpy(), (u * fg).cpu().numpy(),
            (v * fg).cpu().numpy())


class Animator:
    """The trained model run frame by frame; `views()` gives the last frame's predicted IUV and
    static-texture rendering (the panels named in VIEWS), `iuv()` its predicted surface."""

    VIEWS = ("predicted IUV", "static texture")

    def __init__(self, spec: dict, weights: dict, extras: dict, device: torch.device):
        self.spec, self.device = spec, device
        self.map_hw = tuple(spec["inputs"]["map_hw"])
        self.frame_hw = tuple(extras["frame_hw"])
        self.net = build(spec)
        self.net.load_state_dict(weights)
        self.net.eval().to(device)
        self.flow = StaticFlow()
        self.reset()

    def reset(self) -> None:
        """Start a new temporal chain (the next frame has no previous output to follow)."""
        self._prev = None
        self._last = None

    @torch.no_grad()
    def frame(self, driving: Driving) -> np.ndarray:
        pose = torch.from_numpy(draw_pose(driving.person, self.frame_hw, self.map_hw))[None]
        pose = pose.to(self.device)
        surface = self.net.surface(pose)
        if self._prev is None:
            warped = torch.zeros((1, 3) + self.map_hw, device=self.device)
        else:
            prev_static, prev_frame = self._prev
            warped = backwarp(prev_frame, self.flow(surface["static"], prev_static))
        out = self.net.details(surface, pose, warped)
        self._prev = (surface["static"], out["frame"])
        self._last = surface
        return tensor_layout_to_image(out["frame"][0].float().cpu().numpy())

    def iuv(self):
        """(parts, u, v) the last frame's predicted surface, at the model's size."""
        return iuv_from(self._last["logits"][0], self._last["uv"][0])

    def views(self) -> dict:
        """The last frame's predicted IUV (in the QA colours) and static-texture rendering."""
        return {"predicted IUV": iuv_picture(*self.iuv()),
                "static texture": tensor_layout_to_image(
                    self._last["static"][0].clamp(-1, 1).float().cpu().numpy())}

    def blank(self) -> np.ndarray:
        """A frame with nobody: the learnt background plate."""
        return tensor_layout_to_image(self.net.background.detach().float().cpu().numpy())


def iuv_picture(parts, u, v) -> np.ndarray:
    """An IUV map drawn in the densepose stage's QA colours on black."""
    return iuv_overlay(np.zeros(parts.shape + (3,), np.uint8), parts, u, v, alpha=1.0)
