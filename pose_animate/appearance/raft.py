"""RAFT optical flow (Teed and Deng, "RAFT: Recurrent All-Pairs Field Transforms for Optical
Flow", ECCV 2020) in plain PyTorch, the `large` and `small` networks of the paper.

A feature encoder maps both frames to 1/8 resolution; the dot products of every pixel of one
with every pixel of the other form a 4-level correlation pyramid; a context encoder seeds a
recurrent GRU that, at each update, looks up the pyramid around the current flow and predicts
a correction; the 1/8 flow is upsampled by a learned convex combination (large) or bilinearly
(small).

Parameter names are those of the authors' code (princeton-vl/RAFT: core/raft.py, extractor.py,
update.py), so their checkpoints (`raft-things.pth`, `raft-sintel.pth`, `raft-kitti.pth`,
`raft-small.pth`) load as they are; torchvision's files of the same networks
(`raft_large_C_T_V1-22a6c225.pth` and the other `raft_large_*` / `raft_small_*`) are renamed
by `published_to_model`. `PUBLISHED_KEYS` lists both layouts from those sources.
"""

import re

import torch
import torch.nn as nn
import torch.nn.functional as F

MULTIPLE = 8  # input H and W: the encoders downsample by 8
# Smaller inputs are padded up to this: the pyramid halves the 1/8 map 3 times, and below 128
# px its coarsest level is a single value (torchvision's weights declare min_size 128 too).
MIN_SIZE = 128
LEVELS = 4  # of the correlation pyramid


# The two networks as the paper's appendix and the authors' RAFT.__init__ give them.
VARIANTS = {
    "large": dict(block="residual", widths=(64, 64, 96, 128), features=256, hidden=128,
                  context=128, radius=4, corr=(256, 192), flow=(128, 64), motion=128,
                  head=256),
    "small": dict(block="bottleneck", widths=(32, 32, 64, 96), features=128, hidden=96,
                  context=64, radius=3, corr=(96,), flow=(64, 32), motion=82, head=128),
}


def _norm(kind: str, channels: int) -> nn.Module:
    return {"batch": lambda: nn.BatchNorm2d(channels),
            "instance": lambda: nn.InstanceNorm2d(channels),  # no affine: no parameters
            "none": nn.Identity}[kind]()


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip (the large encoders' block)."""

    def __init__(self, cin: int, cout: int, norm: str, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.norm1, self.norm2 = _norm(norm, cout), _norm(norm, cout)
        self.downsample = None
        if stride != 1:
            # The same module under two names, as in the authors' code: their checkpoints
            # hold both `norm3.*` and `downsample.1.*`, and load strictly only so.
            self.norm3 = _norm(norm, cout)
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride), self.norm3)

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = F.relu(self.norm2(self.conv2(y)))
        return F.relu((x if self.downsample is None else self.downsample(x)) + y)


class BottleneckBlock(nn.Module):
    """1x1, 3x3, 1x1 convolutions at a quarter of the width, with a skip (the small
    encoders' block)."""

    def __init__(self, cin: int, cout: int, norm: str, stride: int):
        super().__init__()
        mid = cout // 4
        self.conv1 = nn.Conv2d(cin, mid, 1)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1)
        self.conv3 = nn.Conv2d(mid, cout, 1)
        self.norm1, self.norm2, self.norm3 = _norm(norm, mid), _norm(norm, mid), \
            _norm(norm, cout)
        self.downsample = None
        if stride != 1:  # named twice, as ResidualBlock's norm3
            self.norm4 = _norm(norm, cout)
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride), self.norm4)

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = F.relu(self.norm2(self.conv2(y)))
        y = F.relu(self.norm3(self.conv3(y)))
        return F.relu((x if self.downsample is None else self.downsample(x)) + y)


class Encoder(nn.Module):
    """Image (B, 3, H, W) in [-1, 1] -> features (B, out, H/8, W/8)."""

    def __init__(self, block: str, widths, out: int, norm: str):
        super().__init__()
        make = ResidualBlock if block == "residual" else BottleneckBlock
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3)
        self.norm1 = _norm(norm, widths[0])
        stages = []
        for cin, cout, stride in zip(widths[:-1], widths[1:], (1, 2, 2)):
            stages.append(nn.Sequential(make(cin, cout, norm, stride),
                                        make(cout, cout, norm, 1)))
        self.layer1, self.layer2, self.layer3 = stages
        self.conv2 = nn.Conv2d(widths[-1], out, 1)

    def forward(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        return self.conv2(self.layer3(self.layer2(self.layer1(x))))


class MotionEncoder(nn.Module):
    """Correlation features and the current flow -> motion features (the flow appended)."""

    def __init__(self, corr_planes: int, corr, flow, out: int):
        super().__init__()
        self.convc1 = nn.Conv2d(corr_planes, corr[0], 1)
        if len(corr) > 1:  # the large network has a second correlation layer
            self.convc2 = nn.Conv2d(corr[0], corr[1], 3, padding=1)
        self.convf1 = nn.Conv2d(2, flow[0], 7, padding=3)
        self.convf2 = nn.Conv2d(flow[0], flow[1], 3, padding=1)
        self.conv = nn.Conv2d(corr[-1] + flow[-1], out - 2, 3, padding=1)

    def forward(self, flow, corr):
        c = F.relu(self.convc1(corr))
        if hasattr(self, "convc2"):
            c = F.relu(self.convc2(c))
        f = F.relu(self.convf2(F.relu(self.convf1(flow))))
        return torch.cat([F.relu(self.conv(torch.cat([c, f], 1))), flow], 1)


def _gru(h, x, convz, convr, convq):
    hx = torch.cat([h, x], 1)
    z, r = torch.sigmoid(convz(hx)), torch.sigmoid(convr(hx))
    q = torch.tanh(convq(torch.cat([r * h, x], 1)))
    return (1 - z) * h + z * q


class ConvGRU(nn.Module):
    """3x3 convolutional GRU (small network)."""

    def __init__(self, hidden: int, inputs: int):
        super().__init__()
        self.convz, self.convr, self.convq = (nn.Conv2d(hidden + inputs, hidden, 3, padding=1)
                                              for _ in range(3))

    def forward(self, h, x):
        return _gru(h, x, self.convz, self.convr, self.convq)


class SepConvGRU(nn.Module):
    """A 1x5 then a 5x1 convolutional GRU (large network): a wide field for less compute."""

    def __init__(self, hidden: int, inputs: int):
        super().__init__()
        self.convz1, self.convr1, self.convq1 = (
            nn.Conv2d(hidden + inputs, hidden, (1, 5), padding=(0, 2)) for _ in range(3))
        self.convz2, self.convr2, self.convq2 = (
            nn.Conv2d(hidden + inputs, hidden, (5, 1), padding=(2, 0)) for _ in range(3))

    def forward(self, h, x):
        h = _gru(h, x, self.convz1, self.convr1, self.convq1)
        return _gru(h, x, self.convz2, self.convr2, self.convq2)


class FlowHead(nn.Module):
    def __init__(self, hidden: int, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(hidden, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2, 3, padding=1)

    def forward(self, h):
        return self.conv2(F.relu(self.conv1(h)))


class UpdateBlock(nn.Module):
    """One recurrent update: (hidden, context, correlation, flow) -> (hidden, upsampling mask
    logits or None, flow correction)."""

    def __init__(self, v: dict):
        super().__init__()
        corr_planes = LEVELS * (2 * v["radius"] + 1) ** 2
        self.encoder = MotionEncoder(corr_planes, v["corr"], v["flow"], v["motion"])
        gru = SepConvGRU if v["block"] == "residual" else ConvGRU
        self.gru = gru(v["hidden"], v["context"] + v["motion"])
        self.flow_head = FlowHead(v["hidden"], v["head"])
        self.mask = None
        if v["block"] == "residual":  # the large network learns its upsampling
            self.mask = nn.Sequential(nn.Conv2d(v["hidden"], 256, 3, padding=1),
                                      nn.ReLU(inplace=True),
                                      nn.Conv2d(256, 9 * MULTIPLE ** 2, 1))

    def forward(self, hidden, context, corr, flow):
        hidden = self.gru(hidden, torch.cat([context, self.encoder(flow, corr)], 1))
        # the authors scale the mask by 0.25 "to balance gradients"; the weights expect it
        mask = None if self.mask is None else 0.25 * self.mask(hidden)
        return hidden, mask, self.flow_head(hidden)


def pixel_grid(batch: int, h: int, w: int, device=None) -> torch.Tensor:
    """(B, 2, H, W) float pixel coordinates, x then y."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    return torch.stack([xs, ys])[None].expand(batch, 2, h, w)


def correlation_pyramid(fmap1, fmap2, levels: int = LEVELS) -> list:
    """All-pairs correlation, each pixel of fmap1 against every pixel of fmap2, scaled by
    1/sqrt(channels): `levels` volumes (B*H*W, 1, H/2^l, W/2^l), fmap2's side pooled."""
    b, c, h, w = fmap1.shape
    corr = torch.bmm(fmap1.flatten(2).transpose(1, 2), fmap2.flatten(2)) / c ** 0.5
    pyramid = [corr.reshape(b * h * w, 1, h, w)]
    for _ in range(levels - 1):
        pyramid.append(F.avg_pool2d(pyramid[-1], 2, 2))
    return pyramid


def lookup(pyramid: list, coords: torch.Tensor, radius: int) -> torch.Tensor:
    """Correlation features (B, levels*(2r+1)^2, H, W): each level bilinearly sampled on the
    (2r+1)^2 grid around `coords` (B, 2, H, W, fmap2 pixels) / 2^level, zero outside.

    Channel order as the authors' CorrBlock, which the published weights were trained with:
    the outer index is the x offset and the inner the y offset (their meshgrid pairs the
    first grid axis with x)."""
    b, _, h, w = coords.shape
    offsets = torch.arange(-radius, radius + 1, device=coords.device, dtype=coords.dtype)
    dx, dy = torch.meshgrid(offsets, offsets, indexing="ij")
    window = torch.stack([dx, dy], -1)[None]  # (1, 2r+1, 2r+1, 2) as (x, y)
    centres = coords.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
    out = []
    for level, corr in enumerate(pyramid):
        points = centres / 2 ** level + window
        size = points.new_tensor([corr.shape[-1] - 1, corr.shape[-2] - 1]).clamp(min=1)
        sampled = F.grid_sample(corr, 2 * points / size - 1, align_corners=True)
        out.append(sampled.view(b, h, w, -1))
    return torch.cat(out, -1).permute(0, 3, 1, 2)


def convex_upsample(flow: torch.Tensor, mask: torch.Tensor, factor: int = MULTIPLE):
    """(B, 2, H, W) flow -> (B, 2, 8H, 8W): each fine pixel a softmax-weighted (mask logits
    (B, 9*8*8, H, W)) combination of the 3x3 coarse neighbours, vectors scaled by 8."""
    b, _, h, w = flow.shape
    weights = torch.softmax(mask.view(b, 1, 9, factor, factor, h, w), dim=2)
    neighbours = F.unfold(factor * flow, 3, padding=1).view(b, 2, 9, 1, 1, h, w)
    fine = (weights * neighbours).sum(2)  # (B, 2, f, f, H, W)
    return fine.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, factor * h, factor * w)


def bilinear_upsample(flow: torch.Tensor, factor: int = MULTIPLE):
    """The small network's upsampling (the authors' upflow8)."""
    h, w = flow.shape[-2:]
    return factor * F.interpolate(flow, size=(factor * h, factor * w), mode="bilinear",
                                  align_corners=True)


class RAFT(nn.Module):
    """`RAFT(variant)(image1, image2, iterations)` -> (B, 2, H, W) flow in pixels mapping
    image1's pixels to image2. Images (B, 3, H, W) float RGB in 0..255, H and W multiples of 8.

    Under autocast the encoders and updates run in the lower precision and the correlation
    in float32, as the authors' mixed-precision mode."""

    def __init__(self, variant: str = "large"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown RAFT variant {variant!r}; one of {list(VARIANTS)}")
        self.variant = variant
        v = self.v = VARIANTS[variant]
        self.fnet = Encoder(v["block"], v["widths"], v["features"], "instance")
        self.cnet = Encoder(v["block"], v["widths"], v["hidden"] + v["context"],
                            "batch" if variant == "large" else "none")
        self.update_block = UpdateBlock(v)

    def forward(self, image1, image2, iterations: int = 20):
        b, _, h, w = image1.shape
        if h % MULTIPLE or w % MULTIPLE:
            raise ValueError(f"RAFT needs H and W divisible by {MULTIPLE}, got {h}x{w}")
        image1, image2 = image1 / 127.5 - 1, image2 / 127.5 - 1  # the network's [-1, 1]
        fmap1, fmap2 = self.fnet(torch.cat([image1, image2])).chunk(2)
        with torch.autocast(image1.device.type, enabled=False):
            pyramid = correlation_pyramid(fmap1.float(), fmap2.float())
        hidden, context = self.cnet(image1).split([self.v["hidden"], self.v["context"]], 1)
        hidden, context = torch.tanh(hidden), F.relu(context)
        start = pixel_grid(b, h // MULTIPLE, w // MULTIPLE, image1.device)
        coords, mask = start, None
        for _ in range(iterations):
            corr = lookup(pyramid, coords, self.v["radius"])
            hidden, mask, delta = self.update_block(hidden, context, corr.to(hidden.dtype),
                                                    (coords - start).to(hidden.dtype))
            coords = coords + delta.float()
        flow = coords - start
        if mask is None:
            return bilinear_upsample(flow)
        return convex_upsample(flow, mask.float())


# --- The published checkpoints' keys, written from the two reference implementations ---

def _conv(keys, name, cin, cout, kh, kw=None):
    keys[f"{name}.weight"] = (cout, cin, kh, kw or kh)
    keys[f"{name}.bias"] = (cout,)  # every RAFT convolution has one


def _batchnorm(keys, name, c):
    for part in ("weight", "bias", "running_mean", "running_var"):
        keys[f"{name}.{part}"] = (c,)
    keys[f"{name}.num_batches_tracked"] = ()


# How each implementation names an encoder's parts. Authors (extractor.py): conv1/norm1 stem,
# blocks of conv{k}/norm{k} with the downsample norm also kept as norm3 (residual) or norm4
# (bottleneck), output conv2. torchvision (FeatureEncoder of Conv2dNormActivation):
# convnormrelu.0/.1 stem, blocks of convnormrelu{k}.0/.1, downsample stored once, output conv.
_ENCODER_NAMES = {
    "original": dict(stem=("conv1", "norm1"), conv="conv{k}", norm="norm{k}", out="conv2",
                     alias=True),
    "torchvision": dict(stem=("convnormrelu.0", "convnormrelu.1"), conv="convnormrelu{k}.0",
                        norm="convnormrelu{k}.1", out="conv", alias=False),
}
# ... and the update block's: authors' update.py, torchvision's MotionEncoder, RecurrentBlock,
# FlowHead and MaskPredictor. {g} is a GRU gate (z, r, q), {k} the GRU (1, 2).
_UPDATE_NAMES = {
    "original": dict(corr="update_block.encoder.convc{k}", flow="update_block.encoder.convf{k}",
                     motion="update_block.encoder.conv", gru2="update_block.gru.conv{g}{k}",
                     gru1="update_block.gru.conv{g}", head="update_block.flow_head.conv{k}",
                     mask=("update_block.mask.0", "update_block.mask.2")),
    "torchvision": dict(corr="update_block.motion_encoder.convcorr{k}.0",
                        flow="update_block.motion_encoder.convflow{k}.0",
                        motion="update_block.motion_encoder.conv.0",
                        gru2="update_block.recurrent_block.convgru{k}.conv{g}",
                        gru1="update_block.recurrent_block.convgru1.conv{g}",
                        head="update_block.flow_head.conv{k}",
                        mask=("mask_predictor.convrelu.0", "mask_predictor.conv")),
}


def published_keys(variant: str, layout: str = "original") -> dict:
    """{key: shape} of a published `variant` checkpoint in `layout` ("original": the authors'
    raft-*.pth, less DataParallel's `module.` prefix; "torchvision"). Written from the
    references' constructors (RAFT.__init__ and torchvision's raft_large/raft_small), not from
    this module's classes, so that the test comparing the two means something."""
    v, enc, upd = VARIANTS[variant], _ENCODER_NAMES[layout], _UPDATE_NAMES[layout]
    large = variant == "large"
    prefixes = {"original": ("fnet", "cnet"), "torchvision": ("feature_encoder",
                                                               "context_encoder")}[layout]
    keys: dict = {}

    def encoder(prefix, out, batch):
        w = v["widths"]
        _conv(keys, f"{prefix}.{enc['stem'][0]}", 3, w[0], 7)
        if batch:
            _batchnorm(keys, f"{prefix}.{enc['stem'][1]}", w[0])
        for i, (cin, cout, stride) in enumerate(zip(w[:-1], w[1:], (1, 2, 2)), 1):
            for j, block_in in enumerate((cin, cout)):
                p = f"{prefix}.layer{i}.{j}"
                if large:
                    convs = [(block_in, cout, 3), (cout, cout, 3)]
                else:
                    convs = [(block_in, cout // 4, 1), (cout // 4, cout // 4, 3),
                             (cout // 4, cout, 1)]
                for k, (a, b, kernel) in enumerate(convs, 1):
                    _conv(keys, f"{p}.{enc['conv'].format(k=k)}", a, b, kernel)
                    if batch:
                        _batchnorm(keys, f"{p}.{enc['norm'].format(k=k)}", b)
                if stride != 1 and j == 0:
                    _conv(keys, f"{p}.downsample.0", block_in, cout, 1)
                    if batch:
                        _batchnorm(keys, f"{p}.downsample.1", cout)
                        if enc["alias"]:
                            _batchnorm(keys, f"{p}.norm{len(convs) + 1}", cout)
        _conv(keys, f"{prefix}.{enc['out']}", w[-1], out, 1)

    encoder(prefixes[0], v["features"], False)  # instance norm: no parameters
    encoder(prefixes[1], v["hidden"] + v["context"], large)  # batch norm (large), none (small)
    hid, inputs = v["hidden"], v["context"] + v["motion"]
    _conv(keys, upd["corr"].format(k=1), LEVELS * (2 * v["radius"] + 1) ** 2, v["corr"][0], 1)
    if large:
        _conv(keys, upd["corr"].format(k=2), v["corr"][0], v["corr"][1], 3)
    _conv(keys, upd["flow"].format(k=1), 2, v["flow"][0], 7)
    _conv(keys, upd["flow"].format(k=2), v["flow"][0], v["flow"][1], 3)
    _conv(keys, upd["motion"], v["corr"][-1] + v["flow"][-1], v["motion"] - 2, 3)
    for g in "zrq":
        if large:
            _conv(keys, upd["gru2"].format(g=g, k=1), hid + inputs, hid, 1, 5)
            _conv(keys, upd["gru2"].format(g=g, k=2), hid + inputs, hid, 5, 1)
        else:
            _conv(keys, upd["gru1"].format(g=g), hid + inputs, hid, 3)
    _conv(keys, upd["head"].format(k=1), hid, v["head"], 3)
    _conv(keys, upd["head"].format(k=2), v["head"], 2, 3)
    if large:
        _conv(keys, upd["mask"][0], hid, 256, 3)
        _conv(keys, upd["mask"][1], 256, 9 * MULTIPLE ** 2, 1)
    return keys


# The parameter counts torchvision publishes for these networks (Raft_Large_Weights and
# Raft_Small_Weights meta "num_params"; its V1 files are the authors' weights ported).
PUBLISHED_PARAMETERS = {"large": 5_257_536, "small": 990_162}

# torchvision names -> the authors', applied in order (then the aliased norms are filled in).
_TORCHVISION_RENAMES = [
    (r"^feature_encoder\.", "fnet."), (r"^context_encoder\.", "cnet."),
    (r"^(fnet|cnet)\.convnormrelu\.0\.", r"\1.conv1."),
    (r"^(fnet|cnet)\.convnormrelu\.1\.", r"\1.norm1."),
    (r"^(fnet|cnet)\.conv\.", r"\1.conv2."),
    (r"\.convnormrelu(\d)\.0\.", r".conv\1."), (r"\.convnormrelu(\d)\.1\.", r".norm\1."),
    (r"^update_block\.motion_encoder\.convcorr(\d)\.0\.", r"update_block.encoder.convc\1."),
    (r"^update_block\.motion_encoder\.convflow(\d)\.0\.", r"update_block.encoder.convf\1."),
    (r"^update_block\.motion_encoder\.conv\.0\.", "update_block.encoder.conv."),
    (r"^mask_predictor\.convrelu\.0\.", "update_block.mask.0."),
    (r"^mask_predictor\.conv\.", "update_block.mask.2."),
]


def published_to_model(state: dict) -> tuple[dict, str]:
    """A published state dict (either layout, `module.` prefixes already removed) -> (the
    same tensors under this module's names, its variant). The variant is read from the
    weights: only the large network has the learned upsampling mask."""
    if any(k.startswith("feature_encoder.") for k in state):  # torchvision's layout
        large = any(k.startswith("mask_predictor.") for k in state)
        renamed = {}
        for key, value in state.items():
            for pattern, replacement in _TORCHVISION_RENAMES:
                key = re.sub(pattern, replacement, key)
            gru = re.match(r"^update_block\.recurrent_block\.convgru(\d)\.conv(\w)\.(.*)$", key)
            if gru:
                k, gate, part = gru.groups()
                key = f"update_block.gru.conv{gate}{k if large else ''}.{part}"
            renamed[key] = value
        alias = "norm3" if large else "norm4"
        for key in [k for k in renamed if ".downsample.1." in k]:
            renamed[key.replace(".downsample.1.", f".{alias}.")] = renamed[key]
        state = renamed
    variant = "large" if "update_block.mask.0.weight" in state else "small"
    return state, variant
