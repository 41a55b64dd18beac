"""The Everybody-Dance-Now / pix2pixHD family of pose-to-video renderers, in one file (the
pix2pixHD blocks it is made of are renderers/networks.py).

- `Generator`: pix2pixHD's global generator. It sees the current pose map, the previous pose
  map and its own previous output, as Everybody Dance Now's temporal smoothing does. With the
  background plate among its inputs it also predicts an alpha matte and composites its figure
  over the plate, so the static scene comes out sharp and capacity goes to the figure.
- Discriminators (`build_networks`): multi-scale PatchGANs; the spatial one sees
  (conditioning map, frame), the temporal one two consecutive (pose, frame) pairs.
- `PRESETS`: `tiny` (CPU: demo and tests) and `full` (GPU, 512 px, pix2pixHD-sized).
- The family's inputs (`conditioning`: pose map [+ IUV] [+ background plate]), `spec`, and the
  inference step `Animator` (one frame from its pose, the previous pose and the previous
  output, as the model was trained), which render and evaluate use.
"""

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ...core.errors import PoseAnimateError
from ..family import Driving
from ..networks import MultiscaleDiscriminator, generator_layers
from ..posemap import draw_pose, input_channels, tensor_layout_to_image


@dataclass(frozen=True)
class Architecture:
    size: int  # long side of the model's frames in pixels
    ngf: int  # generator channels after the input conv (doubled at each downsampling)
    n_down: int  # strided downsamplings of the generator
    n_blocks: int  # residual blocks at the bottleneck
    in_kernel: int  # kernel of the generator's input conv (pix2pixHD: 7)
    ndf: int  # discriminator channels of the first layer
    d_layers: int  # strided layers per discriminator
    num_d: int  # scales of the spatial discriminator
    num_d_temporal: int  # scales of the temporal discriminator (0: none)
    max_channels: int = 1024

    @property
    def multiple(self) -> int:
        """Frame sides must be multiples of this (the generator's downsampling)."""
        return 2 ** self.n_down


PRESETS = {
    # Two cores, minutes: 128 px, few channels. Blurry, but the right figure in the right pose.
    "tiny": Architecture(size=128, ngf=16, n_down=3, n_blocks=4, in_kernel=3, ndf=16,
                         d_layers=2, num_d=2, num_d_temporal=1, max_channels=128),
    # pix2pixHD's global generator and discriminators at 512 px (GPU).
    "full": Architecture(size=512, ngf=64, n_down=4, n_blocks=9, in_kernel=7, ndf=64,
                         d_layers=3, num_d=2, num_d_temporal=2, max_channels=1024),
}


def preset(name: str) -> Architecture:
    if name not in PRESETS:
        raise PoseAnimateError(f"unknown model preset '{name}'.",
                               fix=f"set families.edn.preset to one of {sorted(PRESETS)}.")
    return PRESETS[name]


class Generator(nn.Module):
    """G(pose_t, pose_t-1, output_t-1) -> frame_t in -1..1 (B, 3, H, W).

    `cond_channels` is one frame's conditioning map (pose, optional IUV, optional background);
    `background` says its last 3 channels are the background plate (enables compositing).
    """

    def __init__(self, arch: Architecture, cond_channels: int, background: bool):
        super().__init__()
        self.background = background
        out_ch = 4 if background else 3  # + alpha matte when compositing over the plate
        self.net = nn.Sequential(*generator_layers(
            2 * cond_channels + 3, out_ch, ngf=arch.ngf, n_down=arch.n_down,
            n_blocks=arch.n_blocks, in_kernel=arch.in_kernel, max_channels=arch.max_channels))

    def forward(self, cond, prev_cond, prev_image):
        out = self.net(torch.cat([cond, prev_cond, prev_image], dim=1))
        rgb = torch.tanh(out[:, :3])
        if not self.background:
            return rgb
        alpha = torch.sigmoid(out[:, 3:4])
        plate = cond[:, -3:]
        return alpha * rgb + (1 - alpha) * plate


def build_networks(arch: Architecture, cond_channels: int, background: bool):
    """(generator, spatial discriminator, temporal discriminator or None), built in that
    order (the seed fixes the weights of all three)."""
    g = Generator(arch, cond_channels, background)
    d = MultiscaleDiscriminator(cond_channels + 3, arch.ndf, arch.d_layers, arch.num_d)
    dt = (MultiscaleDiscriminator(2 * (cond_channels + 3), arch.ndf, arch.d_layers,
                                  arch.num_d_temporal) if arch.num_d_temporal else None)
    return g, d, dt


# ---- the family's inputs, spec and inference step ---------------------------------------

def geometry(settings: dict) -> tuple[int, int]:
    """(long side, side multiple) of the model's frames for these settings."""
    arch = preset(settings["preset"])
    return settings["size"] or arch.size, arch.multiple


def spec(settings: dict, data) -> dict:
    """Every model-defining setting (a checkpoint must match it to be loaded): the preset's
    architecture and the inputs."""
    size, _ = geometry(settings)
    return {"preset": settings["preset"], "arch": asdict(preset(settings["preset"])),
            "inputs": {"size": size, "iuv": settings["use_iuv"],
                       "background": settings["use_background"],
                       "cond_channels": input_channels(settings["use_iuv"],
                                                       settings["use_background"]),
                       "map_hw": list(data.map_hw)}}


def extras(data, n_train: int, settings: dict) -> dict:
    """What inference needs beside the weights: the subject's frame size and its plate."""
    return {"frame_hw": list(data.frame_hw), "background": data.background}


def conditioning(person: np.ndarray, frame_hw, map_hw, iuv=None, background=None) -> np.ndarray:
    """One frame's conditioning map: the pose map, then the IUV channels and the background
    plate (tensor layout) when the model takes them."""
    parts = [draw_pose(person, frame_hw, map_hw)]
    if iuv is not None:
        parts.append(iuv)
    if background is not None:
        parts.append(background)
    return np.concatenate(parts, axis=0).astype(np.float32)


def build(spec: dict) -> Generator:
    """The inference network of a checkpoint's spec."""
    return Generator(Architecture(**spec["arch"]), spec["inputs"]["cond_channels"],
                     spec["inputs"]["background"])


class Animator:
    """The trained generator run frame by frame, its temporal chain carried along."""

    def __init__(self, spec: dict, weights: dict, extras: dict, device: torch.device):
        self.spec, self.device = spec, device
        self.map_hw = tuple(spec["inputs"]["map_hw"])
        self.frame_hw = tuple(extras["frame_hw"])
        self.background = extras["background"] if spec["inputs"]["background"] else None
        self.G = build(spec)
        self.G.load_state_dict(weights)
        self.G.eval().to(device)
        self.reset()

    def reset(self) -> None:
        """Start a new temporal chain (the next frame is rendered as a first frame)."""
        self._prev_cond = self._prev_out = None

    @torch.no_grad()
    def frame(self, driving: Driving) -> np.ndarray:
        """The BGR uint8 frame of a driving pose."""
        if self.spec["inputs"]["iuv"] and driving.iuv is None:
            raise PoseAnimateError(
                "this model was trained with IUV inputs; rendering a driving motion needs "
                "IUV in the target's frame, which the pipeline does not make.",
                fix="train with families.edn.use_iuv: false to render driving videos.")
        cond = conditioning(driving.person, self.frame_hw, self.map_hw,
                            driving.iuv if self.spec["inputs"]["iuv"] else None,
                            self.background)
        x = torch.from_numpy(cond)[None].to(self.device)
        if self._prev_cond is None:
            out = self.G(x, x, torch.zeros((1, 3) + self.map_hw, device=self.device))
        else:
            out = self.G(x, self._prev_cond, self._prev_out)
        self._prev_cond, self._prev_out = x, out
        return tensor_layout_to_image(out[0].float().cpu().numpy())

    def blank(self) -> np.ndarray:
        """A frame with nobody: the background plate, or black without one."""
        if self.background is not None:
            return tensor_layout_to_image(self.background)
        return np.zeros(self.map_hw + (3,), np.uint8)
