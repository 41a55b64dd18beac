"""pix2pixHD's building blocks, shared by the renderer families built on it (edn, d2g).

- `generator_layers`: pix2pixHD's global generator as a layer list (conv in, strided convs
  down, residual blocks, transposed convs up, conv out), for a family's own input and output
  channels;
- `MultiscaleDiscriminator`: PatchGAN discriminators at several scales, each returning its
  intermediate features for the feature-matching loss;
- the LSGAN and feature-matching losses;
- `pyramid_l1`: the L1 of two frames at 1/2, 1/4 and 1/8, the stand-in for the perceptual
  loss without VGG weights;
- `VGG19Loss`: the perceptual loss, built only from a local weights file (nothing is downloaded;
  torchvision is not needed: the layer layout is torchvision's `vgg19().features`);
- `conv_flops`: the convolutions' cost of a forward pass (benchmarks count FLOPs with it).
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import PoseAnimateError


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


def generator_layers(in_ch: int, out_ch: int, *, ngf: int, n_down: int, n_blocks: int,
                     in_kernel: int, max_channels: int) -> list[nn.Module]:
    """pix2pixHD's global generator, `in_ch` -> `out_ch` channels (no output activation)."""
    layers = [nn.ReflectionPad2d(in_kernel // 2), nn.Conv2d(in_ch, ngf, in_kernel),
              _norm(ngf), nn.ReLU(True)]
    ch = ngf
    for _ in range(n_down):
        nxt = min(ch * 2, max_channels)
        layers += [nn.Conv2d(ch, nxt, 3, stride=2, padding=1), _norm(nxt), nn.ReLU(True)]
        ch = nxt
    layers += [ResBlock(ch) for _ in range(n_blocks)]
    for i in reversed(range(n_down)):
        nxt = min(ngf * 2 ** i, max_channels)
        layers += [nn.ConvTranspose2d(ch, nxt, 3, stride=2, padding=1, output_padding=1),
                   _norm(nxt), nn.ReLU(True)]
        ch = nxt
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_ch, 7)]
    return layers


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
                                   fix="give the family's vgg19_weights a torchvision vgg19 "
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
        return self.perceptual_and_style(fake, real, style=False)[0]

    def features(self, img) -> list:
        """The five slices' outputs (relu1_1 ... relu5_1) of a frame in -1..1 BGR."""
        x, out = self._prep(img), []
        for block in self.slices:
            x = block(x)
            out.append(x)
        return out

    def perceptual_and_style(self, fake, real, style: bool = True):
        """(perceptual loss, style loss: the MSE of the layers' Gram matrices, normalised by
        each layer's size; 0 without `style`)."""
        x, y = self._prep(fake), self._prep(real)
        loss = style_loss = 0.0
        for weight, block in zip(_VGG_WEIGHTS, self.slices):
            x, y = block(x), block(y)
            loss = loss + weight * F.l1_loss(x, y.detach())
            if style:
                style_loss = style_loss + F.mse_loss(_gram(x), _gram(y.detach()))
        return loss, style_loss


def pyramid_l1(fake: torch.Tensor, real: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """Mean L1 of the two frames at 1/2, 1/4 ... 1/2**levels of their size."""
    loss = fake.new_zeros(())
    for _ in range(levels):
        fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        loss = loss + (fake - real).abs().mean()
    return loss / levels


def _gram(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


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


