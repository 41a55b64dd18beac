"""The `gfla` family: any person's image animated by a driving skeleton (Ren et al., "Deep
Image Spatial Transformation for Person Image Generation", CVPR 2020, and its animation
task), one model learnt from a dataset of people, in one file and plain PyTorch.

A frame is made from a reference image of the person, the previous frame (the reference
itself at the start of a video) and the target pose:
- global flow field estimator: from both images, their poses and the target pose, an
  encoder-decoder predicts, at the attention levels (the seed's 2 and 3: 1/4 and 1/8 of the
  frame), a flow field per image (where each target position samples it, an offset in the
  normalised coordinates of grid_sample) and three blending logits (reference, previous,
  generated: the seed's occlusion masks, for two sources);
- local attention (the seed's block_extractor and local_attn_reshape CUDA ops, here
  grid_sample gathers, `local_attention`): at each target position a softmax over the k x k
  source-feature patch around the flow's sampling point, weighted by the similarity of its keys
  with the target features' query; kernel 5 at level 2 and 3 at level 3, as the seed's
  `--kernel_size=2=5,3=3`;
- target image generator: an encoder of the target pose down to 1/16, a decoder that at
  levels 3 and 2 blends its features with the attended features of both images, then up to
  the frame.
Ours, where the seed decodes every pixel from quarter-resolution features (blurring what a
classical warp keeps sharp): the flow estimator and the target encoder also read the
classical prior, the reference's DensePose parts moved by their bones' affine transforms over
a background plate (renderers.baselines.piecewise_affine: the subject's plate, or for a photo
the reference with its person inpainted); and the last layer gives, besides colour, softmax
weights blending the generated colour, the reference warped at full resolution by the finest
flow, and that prior. The network starts near the prior and learns what it gets wrong
(joints, self-occlusion, parts the keypoints miss, the soft edges).
Poses are the pipeline's label maps (renderers.posemap.draw_pose: one channel per BODY_25 bone,
the face and each hand), not the seed's 18 Gaussian heatmaps: bones carry their direction.

Presets: `tiny` (128 px, CPU: demo and tests) and `full` (256 px, the seed's size and widths:
ngf 64, channels capped at 512, two residual blocks).
"""

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import PoseAnimateError
from ...densepose.skeleton import skeleton_iuv
from ..baselines import inpainted_plate, piecewise_affine
from ..family import Driving
from ..posemap import (POSE_CHANNELS, draw_pose, image_to_tensor_layout, tensor_layout_to_image,
                       to_map)

LEVELS = (3, 2)  # the attention levels, coarse to fine (level l: 1/2**l of the frame)
N_DOWN = 4  # the target encoder's downsamplings (to 1/16)


@dataclass(frozen=True)
class Architecture:
    size: int  # long side of the model's frames in pixels
    ngf: int  # generator channels at full resolution (doubled per level)
    max_channels: int  # channel cap
    flow_ngf: int  # flow estimator channels at full resolution
    n_blocks: int  # residual blocks at the generator's bottleneck
    kernels: tuple  # local attention kernel at each of LEVELS
    ndf: int  # discriminators' first channels
    d_layers: int  # discriminators' strided layers

    @property
    def multiple(self) -> int:
        return 2 ** N_DOWN


PRESETS = {
    "tiny": Architecture(size=128, ngf=16, max_channels=128, flow_ngf=16, n_blocks=2,
                         kernels=(3, 5), ndf=32, d_layers=3),
    "full": Architecture(size=256, ngf=64, max_channels=512, flow_ngf=32, n_blocks=2,
                         kernels=(3, 5), ndf=32, d_layers=4),
}


def preset(name: str) -> Architecture:
    if name not in PRESETS:
        raise PoseAnimateError(f"unknown model preset '{name}'.",
                               fix=f"set families.gfla.preset to one of {sorted(PRESETS)}.")
    return PRESETS[name]


def _ch(arch: Architecture, level: int, base: int | None = None) -> int:
    return min((base or arch.ngf) * 2 ** level, arch.max_channels)


# ---- local attention and flow -----------------------------------------------------------

def base_grid(h: int, w: int, device) -> torch.Tensor:
    """(H, W, 2) grid_sample coordinates (x, y in -1..1, align_corners=False) of each pixel."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], -1)


def warp(source: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """`source` (B, C, Hs, Ws) sampled at each target position plus its flow (B, 2, H, W)."""
    grid = base_grid(*flow.shape[2:], flow.device) + flow.permute(0, 2, 3, 1)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode="border",
                         align_corners=False)


def local_attention(keys: torch.Tensor, values: torch.Tensor, query: torch.Tensor,
                    flow: torch.Tensor, kernel: int) -> torch.Tensor:
    """(B, C, H, W): at each target position, the `values` of the k x k source pixels around
    where the flow samples, weighted by softmax(<query, key> / sqrt(channels)).

    `keys` (B, Ck, Hs, Ws) and `values` (B, C, Hs, Ws) are the source's, `query` (B, Ck, H, W)
    and `flow` (B, 2, H, W) the target's. The patch's pixels are one source pixel apart."""
    b, ck, h, w = query.shape
    hs, ws = keys.shape[2:]
    r = torch.arange(kernel, device=flow.device, dtype=torch.float32) - (kernel - 1) / 2
    dy, dx = torch.meshgrid(r * 2 / hs, r * 2 / ws, indexing="ij")
    offsets = torch.stack([dx, dy], -1).reshape(1, 1, 1, kernel * kernel, 2)
    centre = base_grid(h, w, flow.device) + flow.permute(0, 2, 3, 1)  # (B, H, W, 2)
    grid = (centre[:, :, :, None] + offsets).reshape(b, h, w * kernel * kernel, 2)
    patches = F.grid_sample(torch.cat([keys, values], 1), grid, mode="bilinear",
                            padding_mode="border", align_corners=False)
    patches = patches.reshape(b, -1, h, w, kernel * kernel)
    k, v = patches[:, :ck], patches[:, ck:]
    weights = torch.softmax((k * query[..., None]).sum(1) / ck ** 0.5, dim=-1)  # (B,H,W,k*k)
    return (v * weights[:, None]).sum(-1)


_HAT = {}


def affine_residual(flow: torch.Tensor, kernel: int) -> torch.Tensor:
    """The paper's flow regularisation: mean squared residual of the best affine fit of the
    sampling coordinates (in source pixels) over every k x k patch of the target. An affine
    field costs zero; the fit is a fixed projection (the hat matrix of the patch's pixel
    coordinates), so the loss is one unfold and one matrix product."""
    b, _, h, w = flow.shape
    key = (kernel, flow.device, flow.dtype)
    if key not in _HAT:
        r = torch.arange(kernel, dtype=torch.float64) - (kernel - 1) / 2
        gy, gx = torch.meshgrid(r, r, indexing="ij")
        x = torch.stack([gx.flatten(), gy.flatten(), torch.ones(kernel * kernel,
                                                                dtype=torch.float64)], 1)
        hat = x @ torch.linalg.inv(x.T @ x) @ x.T
        _HAT[key] = (torch.eye(kernel * kernel, dtype=torch.float64) - hat).to(flow)
    coords = (base_grid(h, w, flow.device).permute(2, 0, 1)[None] + flow) / 2
    coords = coords * torch.tensor([w, h], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
    patches = F.unfold(coords, kernel).view(b, 2, kernel * kernel, -1)  # (B, 2, k*k, L)
    residual = torch.einsum("ij,bcjl->bcil", _HAT[key], patches)
    return (residual ** 2).mean()


# ---- networks -----------------------------------------------------------------------------

def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)


def _down(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), _norm(cout), nn.LeakyReLU(0.2, True))


def _up(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(cin, cout, 3, 1, 1), _norm(cout), nn.LeakyReLU(0.2, True))


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), _norm(ch), nn.LeakyReLU(0.2, True),
                                  nn.Conv2d(ch, ch, 3, 1, 1), _norm(ch))

    def forward(self, x):
        return x + self.body(x)


N_SOURCES = 2  # the reference image and the previous frame
FLOW_OUT = 2 * N_SOURCES + N_SOURCES + 1  # per level: a flow per source, blending logits


class FlowEstimator(nn.Module):
    """The global flow field estimator: per attention level, a flow per source image and the
    blending logits of (reference, previous, generated)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        cin = N_SOURCES * (3 + POSE_CHANNELS) + POSE_CHANNELS + 3  # and the prior
        chs = [_ch(arch, i + 1, arch.flow_ngf) for i in range(N_DOWN)]  # levels 1..N_DOWN
        self.downs = nn.ModuleList(_down(a, b) for a, b in zip([cin] + chs[:-1], chs))
        self.ups, self.fuse, self.heads = nn.ModuleList(), nn.ModuleList(), nn.ModuleDict()
        for level in range(N_DOWN - 1, min(LEVELS) - 1, -1):  # up to the finest level
            ch = chs[level - 1]
            self.ups.append(_up(chs[level], ch))
            self.fuse.append(nn.Sequential(nn.Conv2d(2 * ch, ch, 3, 1, 1), _norm(ch),
                                           nn.LeakyReLU(0.2, True)))
            if level in LEVELS:
                head = nn.Conv2d(ch, FLOW_OUT, 3, 1, 1)
                nn.init.zeros_(head.weight)  # start at the identity and equal blending
                nn.init.zeros_(head.bias)
                self.heads[str(level)] = head

    def forward(self, x) -> dict:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)  # skips[l - 1] is level l
        out, level = {}, N_DOWN
        for up, fuse in zip(self.ups, self.fuse):
            level -= 1
            x = fuse(torch.cat([up(x), skips[level - 1]], 1))
            if str(level) in self.heads:
                out[level] = self.heads[str(level)](x)
        return out


class SourceEncoder(nn.Module):
    """Features of a source image at the attention levels."""

    def __init__(self, arch: Architecture):
        super().__init__()
        chs = [_ch(arch, i) for i in range(max(LEVELS) + 1)]
        self.stem = nn.Sequential(nn.Conv2d(3, chs[0], 7, 1, 3), _norm(chs[0]),
                                  nn.LeakyReLU(0.2, True))
        self.downs = nn.ModuleList(_down(chs[i], chs[i + 1]) for i in range(max(LEVELS)))

    def forward(self, image) -> dict:
        x, out = self.stem(image), {}
        for i, down in enumerate(self.downs):
            x = down(x)
            if i + 1 in LEVELS:
                out[i + 1] = x
        return out


class Attention(nn.Module):
    """One level's local attention over both sources and the occlusion blending."""

    def __init__(self, ch: int, kernel: int):
        super().__init__()
        self.kernel, inner = kernel, max(8, ch // 4)
        self.key, self.query = nn.Conv2d(ch, inner, 1), nn.Conv2d(ch, inner, 1)

    def forward(self, target, sources, head):
        flows = head[:, :2 * N_SOURCES].chunk(N_SOURCES, 1)
        blend = torch.softmax(head[:, 2 * N_SOURCES:], 1)
        query = self.query(target)
        out = blend[:, -1:] * target
        for i, (feat, flow) in enumerate(zip(sources, flows)):
            out = out + blend[:, i:i + 1] * local_attention(self.key(feat), feat, query, flow,
                                                            self.kernel)
        return out, flows, blend


class GFLA(nn.Module):
    """The generator: frame = G(reference, its pose, previous frame, its pose, target pose)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.flow = FlowEstimator(arch)
        self.source = SourceEncoder(arch)
        chs = [_ch(arch, i) for i in range(N_DOWN + 1)]
        self.stem = nn.Sequential(nn.Conv2d(POSE_CHANNELS + 3, chs[0], 7, 1, 3),
                                  _norm(chs[0]), nn.LeakyReLU(0.2, True))
        self.downs = nn.ModuleList(_down(chs[i], chs[i + 1]) for i in range(N_DOWN))
        self.blocks = nn.Sequential(*[ResBlock(chs[-1]) for _ in range(arch.n_blocks)])
        self.ups = nn.ModuleList(_up(chs[i + 1], chs[i]) for i in reversed(range(N_DOWN)))
        self.attn = nn.ModuleDict({str(level): Attention(chs[level], kernel)
                                   for level, kernel in zip(LEVELS, arch.kernels)})
        # colour, and the blending logits of (generated, reference warped, prior): the prior
        # first weighs about 0.8
        self.out = nn.Conv2d(chs[0], 6, 7, 1, 3)
        with torch.no_grad():
            self.out.bias[5] += 2.0

    def encode_source(self, image) -> dict:
        return self.source(image)

    def forward(self, ref, ref_pose, prev, prev_pose, target_pose, prior, ref_feats=None) -> dict:
        """`prior`: the reference's piecewise-affine warp to the target pose (see above);
        `ref_feats`: encode_source(ref), when the caller keeps it (a render's fixed
        reference). Returns the frame, per level the flows and blending weights, and the
        output's blending weights of (generated, reference warped, prior)."""
        heads = self.flow(torch.cat([ref, ref_pose, prev, prev_pose, target_pose, prior], 1))
        feats = [self.encode_source(ref) if ref_feats is None else ref_feats,
                 self.encode_source(prev)]
        x = self.stem(torch.cat([target_pose, prior], 1))
        for down in self.downs:
            x = down(x)
        x = self.blocks(x)
        flows, blends, level = {}, {}, N_DOWN
        for up in self.ups:
            x, level = up(x), level - 1
            if level in LEVELS:
                x, flows[level], blends[level] = self.attn[str(level)](
                    x, [f[level] for f in feats], heads[level])
        out = self.out(x)
        flow = F.interpolate(flows[min(LEVELS)][0], size=ref.shape[2:], mode="bilinear",
                             align_corners=False)
        blend = torch.softmax(out[:, 3:], 1)
        frame = (blend[:, :1] * torch.tanh(out[:, :3]) + blend[:, 1:2] * warp(ref, flow)
                 + blend[:, 2:] * prior)
        return {"frame": frame, "flows": flows, "blends": blends, "blend": blend}


class Discriminators(nn.Module):
    """The image discriminator, and the temporal one on the unrolled frames stacked (the
    seed's D and D_V): PatchGANs with spectral norm, as the seed's use_spect_d."""

    def __init__(self, arch: Architecture, frames: int):
        super().__init__()
        self.image = _patch_gan(3, arch)
        self.video = _patch_gan(3 * frames, arch) if frames > 1 else None

    def forward(self, frames: list) -> list:
        scores = [self.image(f) for f in frames]
        if self.video is not None:
            scores.append(self.video(torch.cat(frames, 1)))
        return scores


def _patch_gan(cin: int, arch: Architecture) -> nn.Module:
    sn, layers, ch = nn.utils.spectral_norm, [], cin
    for i in range(arch.d_layers):
        nxt = min(arch.ndf * 2 ** i, arch.max_channels)
        layers += [sn(nn.Conv2d(ch, nxt, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        ch = nxt
    layers.append(sn(nn.Conv2d(ch, 1, 3, 1, 1)))
    return nn.Sequential(*layers)


# ---- the family's spec, inputs and inference step ------------------------------------------

def geometry(settings: dict) -> tuple[int, int]:
    arch = preset(settings["preset"])
    return settings["size"] or arch.size, arch.multiple


def spec(settings: dict, data) -> dict:
    size, _ = geometry(settings)
    arch = {**asdict(preset(settings["preset"])), "size": size}
    return {"preset": settings["preset"], "arch": arch,
            "inputs": {"size": size, "map_hw": list(data.map_hw)}}


def extras(data, n_train: int, settings: dict) -> dict:
    """Nothing of a subject: the reference is given when animating."""
    return {}


def architecture(spec: dict) -> Architecture:
    return Architecture(**{**spec["arch"], "kernels": tuple(spec["arch"]["kernels"])})


def build(spec: dict) -> GFLA:
    return GFLA(architecture(spec))


class Animator:
    """The trained generator animating one reference image (`set_source`), frame by frame,
    each made from the reference and the frame before (the reference at the start). Its
    extra panel in comparisons is the reference."""

    VIEWS = ("source",)
    NEEDS_SOURCE = True

    def __init__(self, spec: dict, weights: dict, extras: dict, device: torch.device):
        self.spec, self.device = spec, device
        self.map_hw = tuple(spec["inputs"]["map_hw"])
        self.frame_hw = self.map_hw
        self.G = build(spec)
        self.G.load_state_dict(weights)
        self.G.eval().to(device)
        self._ref = None

    def _tensor(self, array) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, np.float32))[None].to(self.device)

    @torch.no_grad()
    def set_source(self, image_bgr: np.ndarray, person: np.ndarray, parts=None,
                   plate=None) -> None:
        """The reference: a BGR image and its (137, 3) keypoints in its pixels; driving poses
        are then in the same pixels (a driving video normalized into its body frame).
        `parts` (H, W, 0..24) and `plate` (BGR), in the image's pixels, are its subject's
        DensePose parts and background plate; without them (a photo) they are made of the
        image: the skeleton IUV of its keypoints, the image with its person inpainted."""
        self.frame_hw = tuple(image_bgr.shape[:2])
        h, w = self.map_hw
        self.ref_image = image_to_tensor_layout(image_bgr, self.map_hw)
        self._ref_bgr = tensor_layout_to_image(self.ref_image)
        self._ref_person = to_map(person, self.frame_hw, self.map_hw)
        self._parts = (skeleton_iuv(self._ref_person, self.map_hw)[0] if parts is None else
                       cv2.resize(parts, (w, h), interpolation=cv2.INTER_NEAREST))
        self._plate = (inpainted_plate(self._ref_bgr, self._parts) if plate is None else
                       cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA))
        self._ref = (self._tensor(self.ref_image),
                     self._tensor(draw_pose(person, self.frame_hw, self.map_hw)))
        self._ref_feats = self.G.encode_source(self._ref[0])
        self.reset()

    def reset(self) -> None:
        """The next frame starts a video: its previous frame is the reference."""
        if self._ref is None:
            raise PoseAnimateError("a gfla model animates a reference image: none was given.",
                                   fix="name the render's source subject (target:).")
        self._prev = self._ref

    def prior(self, person: np.ndarray) -> np.ndarray:
        """The classical prior of the reference posed as `person` (keypoints in the
        reference's pixels), BGR at the model's size."""
        return piecewise_affine(self._ref_bgr, self._parts, self._ref_person,
                                to_map(person, self.frame_hw, self.map_hw), self._plate)

    @torch.no_grad()
    def frame(self, driving: Driving) -> np.ndarray:
        target = self._tensor(draw_pose(driving.person, self.frame_hw, self.map_hw))
        prior = self._tensor(image_to_tensor_layout(self.prior(driving.person), self.map_hw))
        out = self.G(*self._ref, *self._prev, target, prior, ref_feats=self._ref_feats)["frame"]
        self._prev = (out, target)
        return tensor_layout_to_image(out[0].float().cpu().numpy())

    def views(self) -> dict:
        return {"source": tensor_layout_to_image(self.ref_image)}

    def blank(self) -> np.ndarray:
        """A frame with nobody: black (the model makes people, not scenes)."""
        return np.zeros(self.map_hw + (3,), np.uint8)
