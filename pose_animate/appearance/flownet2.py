"""FlowNet2 (Ilg et al., CVPR 2017) in plain PyTorch, laid out so that NVIDIA's flownet2-pytorch
checkpoint (`FlowNet2_checkpoint.pth.tar`, its `state_dict`) loads with `strict=True`.

The stack: FlowNetC (correlation of the two images' features), two FlowNetS that each refine
the flow from the images, image 2 warped by the current flow and the brightness error, a
FlowNetSD for small displacements, and a fusion net that merges the last two estimates at full
resolution. Inference only (the sub-nets return their finest flow, not the training pyramid).

The reference's CUDA layers are written here in PyTorch with the same semantics:
- `correlation`: kernel 1, padding = max displacement, stride1 1; the dot product over
  channels divided by the channel count; output channel (dy index) * D + (dx index).
- `warp` (Resample2d): bilinear, the taps clamped to the image, i.e. the border replicated.
- `channel_norm` (ChannelNorm): the L2 norm over channels.
The reference's `nn.Upsample(mode='bilinear')` runs as it did in the PyTorch it was written
and its checkpoint validated with (0.2, its README's Docker image): corners aligned. PyTorch
0.4 changed that default, which shifts the upsampled flow slightly.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

MULTIPLE = 64  # six stride-2 levels in FlowNetC/S/SD: sizes must divide by 2**6
RGB_MAX = 255.0
DIV_FLOW = 20.0  # the sub-nets predict flow / 20 (FlowNet's training scale)
MAX_DISPLACEMENT, STRIDE2 = 20, 2  # FlowNetC's correlation: 21 x 21 displacements, step 2


def correlation(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int = MAX_DISPLACEMENT,
                stride2: int = STRIDE2) -> torch.Tensor:
    """(B, D*D, H, W), D = 2 (max_displacement // stride2) + 1: for each displacement
    (dy, dx) = stride2 (j, i), the mean over channels of f1(y, x) * f2(y + dy, x + dx), zero
    where that leaves f2 (the CUDA layer's zero padding). Channel (j + r) * D + (i + r).

    One displacement at a time on the overlapping windows, so memory stays at one feature map
    rather than D*D of them."""
    b, c, h, w = f1.shape
    radius = max_displacement // stride2
    size = 2 * radius + 1
    out = f1.new_zeros(b, size * size, h, w)
    for j in range(-radius, radius + 1):
        dy = j * stride2
        y0, y1 = max(0, -dy), min(h, h - dy)
        for i in range(-radius, radius + 1):
            dx = i * stride2
            x0, x1 = max(0, -dx), min(w, w - dx)
            if y0 >= y1 or x0 >= x1:
                continue
            product = f1[:, :, y0:y1, x0:x1] * f2[:, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
            out[:, (j + radius) * size + i + radius, y0:y1, x0:x1] = product.sum(1) / c
    return out


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """`image` (B, C, H, W) sampled at x + flow(x) (flow (B, 2, H, W) in pixels, x then y):
    bilinear, positions outside clamped to the nearest edge pixel (Resample2d's clamped taps
    are exactly grid_sample's 'border' mode with pixel centres at the grid's ends)."""
    _, _, h, w = flow.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device),
                            indexing="ij")
    gx = (xs + flow[:, 0]) * (2 / max(w - 1, 1)) - 1
    gy = (ys + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    return F.grid_sample(image, torch.stack((gx, gy), -1), mode="bilinear",
                         padding_mode="border", align_corners=True)


def channel_norm(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W): the L2 norm over channels."""
    return torch.linalg.vector_norm(x, dim=1, keepdim=True)


def _upsample4(flow: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "nearest":
        return F.interpolate(flow, scale_factor=4, mode="nearest")
    return F.interpolate(flow, scale_factor=4, mode="bilinear", align_corners=True)


# The reference's layer helpers (networks/submodules.py, batchNorm=False): each Sequential
# keeps the reference's index 0 for the weights, so the keys read `conv1.0.weight`.
def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2),
                         nn.LeakyReLU(0.1, inplace=True))


def _inter_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1))


def _deconv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True))


class _CoarseToFine(nn.Module):
    """The decoder all four sub-nets share: from the coarsest features, at each finer level
    predict a flow, upsample features (deconv) and flow (a learnt 2x transposed convolution),
    and concatenate them with the encoder's features of that level."""

    def _add_decoder(self, top_level: int, top_channels: int, skip_channels, deconv_channels,
                     inter_channels=None, upsample_bias: bool = True):
        self.top_level = top_level
        self.has_inter_conv = inter_channels is not None
        self.add_module(f"predict_flow{top_level}", nn.Conv2d(top_channels, 2, 3, 1, 1))
        features = top_channels
        for step, (skip, deconv) in enumerate(zip(skip_channels, deconv_channels)):
            level = top_level - 1 - step
            self.add_module(f"deconv{level}", _deconv(features, deconv))
            self.add_module(f"upsampled_flow{level + 1}_to_{level}",
                            nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=upsample_bias))
            features = skip + deconv + 2
            head = features
            if self.has_inter_conv:
                self.add_module(f"inter_conv{level}", _inter_conv(features, inter_channels[step]))
                head = inter_channels[step]
            self.add_module(f"predict_flow{level}", nn.Conv2d(head, 2, 3, 1, 1))

    def _decode(self, top: torch.Tensor, skips) -> torch.Tensor:
        """The finest flow; `skips` are the encoder's features, coarse to fine."""
        flow = getattr(self, f"predict_flow{self.top_level}")(top)
        features = top
        for level, skip in zip(range(self.top_level - 1, -1, -1), skips):
            up_flow = getattr(self, f"upsampled_flow{level + 1}_to_{level}")(flow)
            features = torch.cat((skip, getattr(self, f"deconv{level}")(features), up_flow), 1)
            head = getattr(self, f"inter_conv{level}")(features) if self.has_inter_conv \
                else features
            flow = getattr(self, f"predict_flow{level}")(head)
        return flow

    def _add_deep_convs(self):
        """conv4 to conv6_1, alike in FlowNetC, S and SD: 1/8 to 1/64 resolution."""
        self.conv4, self.conv4_1 = _conv(256, 512, stride=2), _conv(512, 512)
        self.conv5, self.conv5_1 = _conv(512, 512, stride=2), _conv(512, 512)
        self.conv6, self.conv6_1 = _conv(512, 1024, stride=2), _conv(1024, 1024)

    def _deep(self, conv3: torch.Tensor):
        conv4 = self.conv4_1(self.conv4(conv3))
        conv5 = self.conv5_1(self.conv5(conv4))
        return conv4, conv5, self.conv6_1(self.conv6(conv5))


class FlowNetC(_CoarseToFine):
    """Both images through one shared encoder to 1/8, correlated, then one stream. Input: the
    two normalised images stacked (B, 6, H, W); output: flow / 20 at 1/4 resolution."""

    def __init__(self):
        super().__init__()
        self.conv1 = _conv(3, 64, 7, 2)
        self.conv2 = _conv(64, 128, 5, 2)
        self.conv3 = _conv(128, 256, 5, 2)
        self.conv_redir = _conv(256, 32, 1)
        n_displacements = (2 * (MAX_DISPLACEMENT // STRIDE2) + 1) ** 2
        self.conv3_1 = _conv(32 + n_displacements, 256)
        self._add_deep_convs()
        self._add_decoder(6, 1024, (512, 512, 256, 128), (512, 256, 128, 64))

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        conv2a = self.conv2(self.conv1(pair[:, :3]))
        conv3a = self.conv3(conv2a)
        conv3b = self.conv3(self.conv2(self.conv1(pair[:, 3:])))
        corr = F.leaky_relu(correlation(conv3a, conv3b), 0.1)
        conv3 = self.conv3_1(torch.cat((self.conv_redir(conv3a), corr), 1))
        conv4, conv5, conv6 = self._deep(conv3)
        return self._decode(conv6, (conv5, conv4, conv3, conv2a))


class FlowNetS(_CoarseToFine):
    """The plain encoder-decoder on stacked inputs (12 channels in FlowNet2: both images,
    image 2 warped, the flow / 20, the brightness error); output: flow / 20 at 1/4."""

    def __init__(self, input_channels: int = 12):
        super().__init__()
        self.conv1 = _conv(input_channels, 64, 7, 2)
        self.conv2 = _conv(64, 128, 5, 2)
        self.conv3 = _conv(128, 256, 5, 2)
        self.conv3_1 = _conv(256, 256)
        self._add_deep_convs()
        # The reference builds these four without bias (networks/FlowNetS.py).
        self._add_decoder(6, 1024, (512, 512, 256, 128), (512, 256, 128, 64),
                          upsample_bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv2 = self.conv2(self.conv1(x))
        conv3 = self.conv3_1(self.conv3(conv2))
        conv4, conv5, conv6 = self._deep(conv3)
        return self._decode(conv6, (conv5, conv4, conv3, conv2))


class FlowNetSD(_CoarseToFine):
    """FlowNetS for small displacements: 3x3 kernels from the start, a full-resolution first
    layer and a convolution before each prediction. Input: both images (B, 6, H, W)."""

    def __init__(self):
        super().__init__()
        self.conv0 = _conv(6, 64)
        self.conv1, self.conv1_1 = _conv(64, 64, stride=2), _conv(64, 128)
        self.conv2, self.conv2_1 = _conv(128, 128, stride=2), _conv(128, 128)
        self.conv3, self.conv3_1 = _conv(128, 256, stride=2), _conv(256, 256)
        self._add_deep_convs()
        self._add_decoder(6, 1024, (512, 512, 256, 128), (512, 256, 128, 64),
                          inter_channels=(512, 256, 128, 64))

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1_1(self.conv1(self.conv0(pair)))
        conv2 = self.conv2_1(self.conv2(conv1))
        conv3 = self.conv3_1(self.conv3(conv2))
        conv4, conv5, conv6 = self._deep(conv3)
        return self._decode(conv6, (conv5, conv4, conv3, conv2))


class FlowNetFusion(_CoarseToFine):
    """A small full-resolution net merging FlowNetSD's and the FlowNetS stack's flows (11
    channels in: image 1, both flows, their norms, their brightness errors). Output: the
    flow in pixels at full resolution."""

    def __init__(self):
        super().__init__()
        self.conv0 = _conv(11, 64)
        self.conv1, self.conv1_1 = _conv(64, 64, stride=2), _conv(64, 128)
        self.conv2, self.conv2_1 = _conv(128, 128, stride=2), _conv(128, 128)
        self._add_decoder(2, 128, (128, 64), (32, 16), inter_channels=(32, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv0 = self.conv0(x)
        conv1 = self.conv1_1(self.conv1(conv0))
        return self._decode(self.conv2_1(self.conv2(conv1)), (conv1, conv0))


class FlowNet2(nn.Module):
    """The full FlowNet2 (the reference's models.FlowNet2, batchNorm=False, div_flow 20).

    forward(image1, image2): (B, 3, H, W) float RGB in 0..255, H and W multiples of
    `MULTIPLE`; returns the (B, 2, H, W) flow in pixels from image1 to image2 (image1's pixel
    x matches image2's x + flow[x])."""

    def __init__(self):
        super().__init__()
        self.flownetc = FlowNetC()
        self.flownets_1 = FlowNetS()
        self.flownets_2 = FlowNetS()
        self.flownets_d = FlowNetSD()
        self.flownetfusion = FlowNetFusion()

    def forward(self, image1: torch.Tensor, image2: torch.Tensor) -> torch.Tensor:
        _check_sizes(image1, image2)
        # One mean per channel over both images, as the reference (its input is the pair).
        mean = (image1.mean((2, 3), keepdim=True) + image2.mean((2, 3), keepdim=True)) / 2
        img1, img2 = (image1 - mean) / RGB_MAX, (image2 - mean) / RGB_MAX
        pair = torch.cat((img1, img2), 1)

        def refine_input(flow):
            """The FlowNetS input: the pair, image 2 warped by `flow`, flow / 20, error."""
            warped = warp(img2, flow)
            return torch.cat((pair, warped, flow / DIV_FLOW, channel_norm(img1 - warped)), 1)

        flow_c = _upsample4(self.flownetc(pair) * DIV_FLOW, "bilinear")
        flow_s1 = _upsample4(self.flownets_1(refine_input(flow_c)) * DIV_FLOW, "bilinear")
        flow_s2 = _upsample4(self.flownets_2(refine_input(flow_s1)) * DIV_FLOW, "nearest")
        # Divided, not multiplied, by 20: so does the reference, and its weights expect it.
        flow_sd = _upsample4(self.flownets_d(pair) / DIV_FLOW, "nearest")
        fusion_input = torch.cat((img1, flow_sd, flow_s2, channel_norm(flow_sd),
                                  channel_norm(flow_s2), channel_norm(img1 - warp(img2, flow_sd)),
                                  channel_norm(img1 - warp(img2, flow_s2))), 1)
        return self.flownetfusion(fusion_input)


def _check_sizes(image1: torch.Tensor, image2: torch.Tensor):
    if image1.shape != image2.shape or image1.dim() != 4 or image1.shape[1] != 3:
        raise ValueError(f"FlowNet2 takes two (B, 3, H, W) images of one shape; got "
                         f"{tuple(image1.shape)} and {tuple(image2.shape)}")
    h, w = image1.shape[2:]
    if h % MULTIPLE or w % MULTIPLE:
        raise ValueError(f"FlowNet2 needs H and W multiples of {MULTIPLE}; got {h}x{w} (pad "
                         f"to {math.ceil(h / MULTIPLE) * MULTIPLE}x"
                         f"{math.ceil(w / MULTIPLE) * MULTIPLE})")


# The published checkpoint's layers, written from the reference's files (not from the classes
# above, which the tests check against it): (name, kind, in, out, kernel). Kinds: "conv" is
# submodules.conv() or i_conv() (weights at `.0`), "deconv" submodules.deconv() (`.0`, a
# transposed convolution), "predict" predict_flow() (a bare Conv2d), "up" / "up_nobias" the
# bare ConvTranspose2d upsampled_flow layers.
_DECODER_6_TO_2 = [  # FlowNetC.py and FlowNetS.py alike
    ("deconv5", "deconv", 1024, 512, 4), ("deconv4", "deconv", 1026, 256, 4),
    ("deconv3", "deconv", 770, 128, 4), ("deconv2", "deconv", 386, 64, 4),
    ("predict_flow6", "predict", 1024, 2, 3), ("predict_flow5", "predict", 1026, 2, 3),
    ("predict_flow4", "predict", 770, 2, 3), ("predict_flow3", "predict", 386, 2, 3),
    ("predict_flow2", "predict", 194, 2, 3),
]
_DEEP_CONVS = [  # conv4 to conv6_1: FlowNetC.py, FlowNetS.py, FlowNetSD.py alike
    ("conv4", "conv", 256, 512, 3), ("conv4_1", "conv", 512, 512, 3),
    ("conv5", "conv", 512, 512, 3), ("conv5_1", "conv", 512, 512, 3),
    ("conv6", "conv", 512, 1024, 3), ("conv6_1", "conv", 1024, 1024, 3),
]


def _upsampled_flows(levels, kind):
    return [(f"upsampled_flow{level}_to_{level - 1}", kind, 2, 2, 4) for level in levels]


_FLOWNETC = [  # networks/FlowNetC.py, class FlowNetC
    ("conv1", "conv", 3, 64, 7), ("conv2", "conv", 64, 128, 5), ("conv3", "conv", 128, 256, 5),
    ("conv_redir", "conv", 256, 32, 1), ("conv3_1", "conv", 473, 256, 3),
    *_DEEP_CONVS, *_DECODER_6_TO_2, *_upsampled_flows((6, 5, 4, 3), "up"),
]
_FLOWNETS = [  # networks/FlowNetS.py, class FlowNetS (input_channels=12)
    ("conv1", "conv", 12, 64, 7), ("conv2", "conv", 64, 128, 5), ("conv3", "conv", 128, 256, 5),
    ("conv3_1", "conv", 256, 256, 3),
    *_DEEP_CONVS, *_DECODER_6_TO_2, *_upsampled_flows((6, 5, 4, 3), "up_nobias"),
]
_FLOWNETSD = [  # networks/FlowNetSD.py, class FlowNetSD
    ("conv0", "conv", 6, 64, 3), ("conv1", "conv", 64, 64, 3), ("conv1_1", "conv", 64, 128, 3),
    ("conv2", "conv", 128, 128, 3), ("conv2_1", "conv", 128, 128, 3),
    ("conv3", "conv", 128, 256, 3), ("conv3_1", "conv", 256, 256, 3), *_DEEP_CONVS,
    ("deconv5", "deconv", 1024, 512, 4), ("deconv4", "deconv", 1026, 256, 4),
    ("deconv3", "deconv", 770, 128, 4), ("deconv2", "deconv", 386, 64, 4),
    ("inter_conv5", "conv", 1026, 512, 3), ("inter_conv4", "conv", 770, 256, 3),
    ("inter_conv3", "conv", 386, 128, 3), ("inter_conv2", "conv", 194, 64, 3),
    ("predict_flow6", "predict", 1024, 2, 3), ("predict_flow5", "predict", 512, 2, 3),
    ("predict_flow4", "predict", 256, 2, 3), ("predict_flow3", "predict", 128, 2, 3),
    ("predict_flow2", "predict", 64, 2, 3), *_upsampled_flows((6, 5, 4, 3), "up"),
]
_FLOWNETFUSION = [  # networks/FlowNetFusion.py, class FlowNetFusion
    ("conv0", "conv", 11, 64, 3), ("conv1", "conv", 64, 64, 3), ("conv1_1", "conv", 64, 128, 3),
    ("conv2", "conv", 128, 128, 3), ("conv2_1", "conv", 128, 128, 3),
    ("deconv1", "deconv", 128, 32, 4), ("deconv0", "deconv", 162, 16, 4),
    ("inter_conv1", "conv", 162, 32, 3), ("inter_conv0", "conv", 82, 16, 3),
    ("predict_flow2", "predict", 128, 2, 3), ("predict_flow1", "predict", 32, 2, 3),
    ("predict_flow0", "predict", 16, 2, 3), *_upsampled_flows((2, 1), "up"),
]
_SUBNETS = {  # models.py, class FlowNet2: the attribute names of its sub-nets
    "flownetc": _FLOWNETC, "flownets_1": _FLOWNETS, "flownets_2": _FLOWNETS,
    "flownets_d": _FLOWNETSD, "flownetfusion": _FLOWNETFUSION,
}


def _published_keys() -> dict:
    keys = {}
    for subnet, layers in _SUBNETS.items():
        for name, kind, cin, cout, kernel in layers:
            prefix = f"{subnet}.{name}" + (".0" if kind in ("conv", "deconv") else "")
            transposed = kind in ("deconv", "up", "up_nobias")  # weights (in, out, k, k)
            keys[f"{prefix}.weight"] = (cin, cout, kernel, kernel) if transposed \
                else (cout, cin, kernel, kernel)
            if kind != "up_nobias":
                keys[f"{prefix}.bias"] = (cout,)
    return keys


PUBLISHED_KEYS: dict[str, tuple[int, ...]] = _published_keys()


def published_to_model(state: dict) -> dict:
    """The published state dict (without any `module.` prefix) under this module's names:
    the same names, since the modules are named as the reference's."""
    return dict(state)
