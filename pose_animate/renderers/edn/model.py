"""The Everybody-Dance-Now / pix2pixHD family of pose-to-video renderers, in one file.

- `Generator`: pix2pixHD's global generator (conv in, strided convs down, residual blocks,
  transposed convs up, conv out). It sees the current pose map, the previous pose map and its
  own previous output, as Everybody Dance Now's temporal smoothing does. With the background
  plate among its inputs it also predicts an alpha matte and composites its figure over the
  plate, so the static scene comes out sharp and capacity goes to the figure.
- `MultiscaleDiscriminator`: pix2pixHD's PatchGAN discriminators at several scales; each
  returns its intermediate features for the feature-matching loss. The spatial one sees
  (conditioning map, frame); the temporal one sees two consecutive (pose, frame) pairs.
- `VGG19Loss`: the perceptual loss, built only from a local weights file (nothing is
  downloaded; torchvision is not needed: the layer layout is torchvision's `vgg19().features`).
- `PRESETS`: `tiny` (CPU: demo and tests) and `full` (GPU, 512 px, pix2pixHD-sized).
- The family's inputs (`conditioning`: pose map [+ IUV] [+ background plate]), `spec`, and the
  inference step `Animator` (one frame from its pose, the previous pose and the previous
  output, as the model was trained), which render and evaluate use.
"""

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import PoseAnimateError
from ..family import Driving
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


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False)


class ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels))

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    """G(pose_t, pose_t-1, output_t-1) -> frame_t in -1..1 (B, 3, H, W).

    `cond_channels` is one frame's conditioning map (pose, optional IUV, optional background);
    `background` says its last 3 channels are the background plate (enables compositing).
    """

    def __init__(self, arch: Architecture, cond_channels: int, background: bool):
        super().__init__()
        self.background = background
        ngf, cap = arch.ngf, arch.max_channels
        in_ch = 2 * cond_channels + 3
        layers = [nn.ReflectionPad2d(arch.in_kernel // 2), nn.Conv2d(in_ch, ngf, arch.in_kernel),
                  _norm(ngf), nn.ReLU(True)]
        ch = ngf
        for _ in range(arch.n_down):
            nxt = min(ch * 2, cap)
            layers += [nn.Conv2d(ch, nxt, 3, stride=2, padding=1), _norm(nxt), nn.ReLU(True)]
            ch = nxt
        layers += [ResBlock(ch) for _ in range(arch.n_blocks)]
        for i in reversed(range(arch.n_down)):
            nxt = min(ngf * 2 ** i, cap)
            layers += [nn.ConvTranspose2d(ch, nxt, 3, stride=2, padding=1, output_padding=1),
                       _norm(nxt), nn.ReLU(True)]
            ch = nxt
        out_ch = 4 if background else 3  # + alpha matte when compositing over the plate
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_ch, 7)]
        self.net = nn.Sequential(*layers)

    def forward(self, cond, prev_cond, prev_image):
        out = self.net(torch.cat([cond, prev_cond, prev_image], dim=1))
        rgb = torch.tanh(out[:, :3])
        if not self.background:
            return rgb
        alpha = torch.sigmoid(out[:, 3:4])
        plate = cond[:, -3:]
        return alpha * rgb + (1 - alpha) * plate


class PatchDiscriminator(nn.Module):
    """pix2pixHD's n-layer PatchGAN; forward returns every layer's output (last = scores)."""

    def __init__(self, in_ch: int, ndf: int, n_layers: int):
        super().__init__()
        pad = 2  # ceil((4 - 1) / 2), as pix2pixHD
        blocks = [nn.Sequential(nn.Conv2d(in_ch, ndf, 4, 2, pad), nn.LeakyReLU(0.2, True))]
        ch = ndf
        for n in range(1, n_layers + 1):
            nxt = min(ch * 2, 512)
            stride = 2 if n < n_layers else 1
            blocks.append(nn.Sequential(nn.Conv2d(ch, nxt, 4, stride, pad), _norm(nxt),
                                        nn.LeakyReLU(0.2, True)))
            ch = nxt
        blocks.append(nn.Sequential(nn.Conv2d(ch, 1, 4, 1, pad)))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


class MultiscaleDiscriminator(nn.Module):
    """`num_d` PatchGANs on the input at full, half, quarter... resolution."""

    def __init__(self, in_ch: int, ndf: int, n_layers: int, num_d: int):
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_ch, ndf, n_layers) for _ in range(num_d))

    def forward(self, x):
        outs = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outs.append(d(x))
        return outs


def build_networks(arch: Architecture, cond_channels: int, background: bool):
    """(generator, spatial discriminator, temporal discriminator or None), built in that
    order (the seed fixes the weights of all three)."""
    g = Generator(arch, cond_channels, background)
    d = MultiscaleDiscriminator(cond_channels + 3, arch.ndf, arch.d_layers, arch.num_d)
    dt = (MultiscaleDiscriminator(2 * (cond_channels + 3), arch.ndf, arch.d_layers,
                                  arch.num_d_temporal) if arch.num_d_temporal else None)
    return g, d, dt


# ---- losses ----------------------------------------------------------------------------

def gan_loss(outs, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (pix2pixHD's default) over every scale's patch scores."""
    target = 1.0 if real else 0.0
    return sum(F.mse_loss(o[-1].float(), torch.full_like(o[-1].float(), target))
               for o in outs) / len(outs)


def feature_matching_loss(fake_outs, real_outs) -> torch.Tensor:
    """L1 between the discriminators' intermediate features on fake and (fixed) real input."""
    total = 0.0
    for fake, real in zip(fake_outs, real_outs):
        for f, r in zip(fake[:-1], real[:-1]):
            total = total + F.l1_loss(f.float(), r.detach().float())
    return total / (len(fake_outs) * (len(fake_outs[0]) - 1))


# torchvision's vgg19().features: conv channels, 'M' = max-pool. Module indices match, so its
# state dict (or a whole model's, keys 'features.N...') loads as it is.
_VGG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"]
# pix2pixHD's VGGLoss: relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, deeper layers weigh more.
_VGG_SLICES = [(0, 2), (2, 7), (7, 12), (12, 21), (21, 30)]
_VGG_WEIGHTS = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0]


def vgg19_features() -> nn.Sequential:
    layers, ch = [], 3
    for v in _VGG19:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(ch, v, 3, padding=1), nn.ReLU(inplace=False)]
            ch = v
    return nn.Sequential(*layers)


class VGG19Loss(nn.Module):
    """Perceptual loss on frames in -1..1 BGR, from a local VGG19 state dict file."""

    def __init__(self, weights_path):
        super().__init__()
        features = vgg19_features()
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError) as exc:
            raise PoseAnimateError(f"cannot read the VGG19 weights ({exc}).", path=weights_path,
                                   fix="give families.edn.vgg19_weights a torchvision vgg19 "
                                       "state dict file, or null to train without the "
                                       "perceptual loss.")
        state = {k.removeprefix("features."): v for k, v in state.items()
                 if not k.startswith("classifier.")}
        try:
            features.load_state_dict(state)
        except RuntimeError as exc:
            raise PoseAnimateError(f"not a VGG19 state dict ({str(exc)[:200]}).",
                                   path=weights_path,
                                   fix="save torchvision.models.vgg19(...).state_dict() to it.")
        features.requires_grad_(False).eval()
        self.slices = nn.ModuleList(features[a:b] for a, b in _VGG_SLICES)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def _prep(self, img):
        rgb = img.flip(1) * 0.5 + 0.5  # BGR -1..1 -> RGB 0..1
        return (rgb - self.mean) / self.std

    def forward(self, fake, real):
        x, y = self._prep(fake), self._prep(real)
        loss = 0.0
        for weight, block in zip(_VGG_WEIGHTS, self.slices):
            x, y = block(x), block(y)
            loss = loss + weight * F.l1_loss(x, y.detach())
        return loss


# ---- cost --------------------------------------------------------------------------------

def conv_flops(model: nn.Module, *inputs) -> int:
    """Multiply-add FLOPs (2 per MAC) of the convolutions in one forward pass of `model`."""
    total = 0

    def hook(module, inp, out):
        nonlocal total
        if isinstance(module, nn.ConvTranspose2d):
            # each input pixel scatters a kernel: MACs = in_pixels * k*k * cin * cout / groups
            pixels = inp[0].shape[0] * inp[0].shape[2] * inp[0].shape[3]
        else:
            pixels = out.shape[0] * out.shape[2] * out.shape[3]
        k = module.kernel_size[0] * module.kernel_size[1]
        total += 2 * pixels * k * module.in_channels * module.out_channels // module.groups

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


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


def extras(data) -> dict:
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
