"""The `pose2img` family: a speaker's upper body, face and fingers from 137 keypoints (the image
module of "Speech Drives Templates", ICCV 2021: Balakrishnan et al.'s "Synthesizing Images of
Humans in Unseen Poses", CVPR 2018, on OpenPose's 137 points), in one file.

A frame is made from one source image of the speaker (chosen from the training frames) and a
target pose, in the seed's four steps:
- inputs: the source and target poses as Gaussian heatmaps of 13 point clusters (neck,
  shoulders, elbows, wrists, jaw, eyes and brows, nose, mouth, each hand; per-cluster sigmas
  as the seed's `kp_var_root`), and per-limb similarity transforms from target to source
  fitted on each limb's points (`limb_transforms`; eight limbs: head, shoulders, upper arms,
  forearms, each hand from its 21 points);
- source segmentation: a U-Net adds to limb-shaped log priors (`mask_priors`, the seed's
  `mask_sigma_perp` widths) and a softmax makes soft masks of the background and each limb
  layer;
- spatial transformation: each masked limb layer is warped by its limb's transform;
- synthesis: a U-Net fuses the warped layers with the target pose into the foreground and its
  mask, another fills the background layer where the speaker was, composite. The
  background keeps the source's own pixels where its layer shows the scene (ours: the seed's
  U-Net redraws all of it, which at CPU training lengths blurs a static studio scene that the
  nearest-neighbour baseline copies sharp); a moving camera is not modelled.

The seed's point lists index its 122-point subset (core.skeletons.POSE122_FROM); they are
kept in that indexing here so they read against the seed, and mapped to the pipeline's 137.
Sizes are the seed's at 640 px, scaled to the model's frame (at least one pixel).

Documented behaviour for missing points: a limb with fewer than two points in both poses
moves with its parent (a hand with its forearm, a forearm with its upper arm, the head and
upper arms with the shoulders; the shoulders, without points, stay put), and its mask prior
is empty, so the segmentation gives its pixels to the other layers. A speaker whose hands are
never detected is rendered with hands carried by the forearm layers; the evaluation then
measures no hand points (their keypoint distance is n/a).

Presets: `tiny` (128 px, CPU: demo and tests) and `full` (512 px, GPU: the seed's network
widths).
"""

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import PoseAnimateError
from ...core.skeletons import (POSE2IMG_KP_VAR_ROOT, POSE2IMG_MASK_SIGMA_PERP, POSE2IMG_SIZE,
                               POSE122_FROM)
from ..family import Driving
from ..posemap import MIN_CONF, tensor_layout_to_image, to_map



def _to137(indices) -> list[int]:
    return [POSE122_FROM[i] for i in indices]


# The seed's 13 heatmap clusters (batchify_cluster_kp) and their sigmas (kp_var_root).
CLUSTERS = [_to137(c) for c in (
    [1], [2], [3], [4], [5], [6], [7],  # neck, right arm, left arm
    range(10, 27),  # jaw
    [8, 9, 78, 79, *range(28, 36), *range(47, 57)],  # eyes, pupils, brows, eye contours
    range(37, 46),  # nose
    range(58, 78),  # mouth
    range(101, 122),  # right hand
    range(80, 101))]  # left hand
CLUSTER_SIGMA = POSE2IMG_KP_VAR_ROOT
# The seed's eight limbs (its `limbs`), their mask prior widths (mask_sigma_perp) and, ours,
# the limb whose motion one without points takes.
LIMB_NAMES = ["head", "shoulders", "right upper arm", "right forearm", "left upper arm",
              "left forearm", "right hand", "left hand"]
LIMBS = [_to137(limb) for limb in ([0, 8, 9], [1, 2, 5], [2, 3], [3, 4], [5, 6], [6, 7],
                                   range(101, 122), range(80, 101))]
LIMB_SIGMA_PERP = POSE2IMG_MASK_SIGMA_PERP
LIMB_PARENT = [1, None, 1, 2, 1, 4, 3, 5]
LIMB_ORDER = [1, 0, 2, 3, 4, 5, 6, 7]  # parents first
N_CLUSTERS, N_LIMBS = len(CLUSTERS), len(LIMBS)
MAX_SCALE = 4.0  # a limb transform scaling by more (or less than its inverse) is not trusted


@dataclass(frozen=True)
class Architecture:
    size: int  # long side of the model's frames in pixels
    ngf: int  # U-Net channels at the first level (doubled at each level)
    levels: int  # U-Net strided downsamplings (the seed's: 5)
    max_channels: int  # U-Net channel cap (the seed's: 8 x ngf)
    ndf: int  # discriminator channels of its first block
    d_blocks: int  # discriminator downsampling blocks (self-attention after the fourth)

    @property
    def multiple(self) -> int:
        return 2 ** self.levels


PRESETS = {
    # Two cores, minutes: 128 px, narrow U-Nets.
    "tiny": Architecture(size=128, ngf=16, levels=5, max_channels=128, ndf=16, d_blocks=5),
    # The seed's widths (ngf 64, 8 x 64 at the bottom; its discriminator's seven blocks).
    "full": Architecture(size=512, ngf=64, levels=5, max_channels=512, ndf=64, d_blocks=7),
}


def preset(name: str) -> Architecture:
    if name not in PRESETS:
        raise PoseAnimateError(f"unknown model preset '{name}'.",
                               fix=f"set families.pose2img.preset to one of {sorted(PRESETS)}.")
    return PRESETS[name]


# ---- the pose inputs (numpy for the transforms, torch for the maps) -----------------------

def _similarity(dst: np.ndarray, src: np.ndarray) -> np.ndarray | None:
    """The least-squares similarity (x' = a x - b y + tx, y' = b x + a y + ty) taking the
    points `dst` onto `src`, as a 2 x 3 matrix; None when degenerate (points within half a
    pixel of each other, or a scale beyond MAX_SCALE)."""
    n = len(dst)
    if min(np.ptp(dst, axis=0).max(), np.ptp(src, axis=0).max()) < 0.5:
        return None
    A = np.zeros((2 * n, 4))
    A[0::2] = np.stack([dst[:, 0], -dst[:, 1], np.ones(n), np.zeros(n)], axis=1)
    A[1::2] = np.stack([dst[:, 1], dst[:, 0], np.zeros(n), np.ones(n)], axis=1)
    (a, b, tx, ty), *_ = np.linalg.lstsq(A, src.reshape(-1), rcond=None)
    scale = np.hypot(a, b)
    if not np.isfinite(scale) or not 1 / MAX_SCALE <= scale <= MAX_SCALE:
        return None
    return np.array([[a, -b, tx], [b, a, ty]], np.float32)


def limb_transforms(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N_LIMBS, 2, 3): per limb, the similarity taking target-pose pixels to where they are
    in the source (the backward map a warp samples with), fitted on the limb's points seen in
    both poses; a limb with fewer than two (or a degenerate fit) takes its parent's."""
    both = (source[:, 2] > MIN_CONF) & (target[:, 2] > MIN_CONF)
    out = np.zeros((N_LIMBS, 2, 3), np.float32)
    for i in LIMB_ORDER:
        points, parent = LIMBS[i], LIMB_PARENT[i]
        seen = [p for p in points if both[p]]
        fit = _similarity(target[seen, :2], source[seen, :2]) if len(seen) >= 2 else None
        if fit is None:
            fit = out[parent] if parent is not None else np.eye(2, 3, dtype=np.float32)
        out[i] = fit
    return out


def _grid(map_hw, device):
    h, w = map_hw
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    return xs, ys


def heatmaps(people: torch.Tensor, map_hw, size: int) -> torch.Tensor:
    """(B, N_CLUSTERS, H, W): per cluster the sum of its points' Gaussians (the seed's pose
    input). `people` (B, 137, 3) in the model's pixels; `size` the model's long side."""
    xs, ys = _grid(map_hw, people.device)
    scale = size / POSE2IMG_SIZE
    maps = []
    for points, sigma in zip(CLUSTERS, CLUSTER_SIGMA):
        p = people[:, points]  # (B, n, 3)
        var = max(1.0, sigma * scale) ** 2
        d2 = (xs - p[..., 0, None, None]) ** 2 + (ys - p[..., 1, None, None]) ** 2
        seen = (p[..., 2] > MIN_CONF).float()[..., None, None]
        maps.append((torch.exp(-d2 / (2 * var)) * seen).sum(1))
    return torch.stack(maps, 1)


def mask_priors(people: torch.Tensor, map_hw, size: int) -> torch.Tensor:
    """(B, 1 + N_LIMBS, H, W) log priors of the background and limb layers: per limb an
    oriented Gaussian on its points' mean, along its first two points (the seed's
    make_limb_masks), peak 1; the background is one minus their maximum."""
    xs, ys = _grid(map_hw, people.device)
    scale = size / POSE2IMG_SIZE
    out = []
    for points, sigma_perp in zip(LIMBS, LIMB_SIGMA_PERP):
        p = people[:, points]
        seen = (p[..., 2] > MIN_CONF).float()  # (B, n)
        count = seen.sum(1)
        center = (p[..., :2] * seen[..., None]).sum(1) / count.clamp(min=1)[..., None]
        # the first two seen points, in the limb's order, give the direction and the length
        order = torch.argsort(-seen, dim=1, stable=True)
        a = torch.gather(p[..., :2], 1, order[:, :1, None].expand(-1, 1, 2))[:, 0]
        b = torch.gather(p[..., :2], 1, order[:, 1:2, None].expand(-1, 1, 2))[:, 0]
        axis = b - a
        length2 = (axis ** 2).sum(1)
        var_par = torch.clamp(length2 / 1.5, min=max(1.0, 5 * scale ** 2))
        var_perp = max(1.0, sigma_perp * scale) ** 2
        # two points in one place: no direction (the seed's angle 0)
        flat = length2 < 1e-6
        unit = torch.where(flat[:, None], torch.tensor([1.0, 0.0], device=p.device),
                           axis / length2.clamp(min=1e-6).sqrt()[:, None])
        dx = xs - center[:, 0, None, None]
        dy = ys - center[:, 1, None, None]
        along = dx * unit[:, 0, None, None] + dy * unit[:, 1, None, None]
        across = -dx * unit[:, 1, None, None] + dy * unit[:, 0, None, None]
        g = torch.exp(-along ** 2 / (2 * var_par[:, None, None]) - across ** 2 / (2 * var_perp))
        out.append(g * (count >= 2).float()[:, None, None])
    limbs = torch.stack(out, 1)
    background = 1 - limbs.amax(1, keepdim=True)
    return torch.log(torch.cat([background, limbs], 1) + 1e-10)


def warp_layers(layers: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """(B, L, 3, H, W) masked source layers, each resampled by its (B, L, 2, 3) target ->
    source pixel transform (bilinear, zeros outside)."""
    b, n, c, h, w = layers.shape
    xs, ys = _grid((h, w), layers.device)
    pts = torch.stack([xs, ys, torch.ones_like(xs)], -1)  # (H, W, 3)
    src = torch.einsum("blij,hwj->blhwi", transforms, pts)  # (B, L, H, W, 2) source pixels
    grid = torch.stack([(src[..., 0] + 0.5) / w * 2 - 1, (src[..., 1] + 0.5) / h * 2 - 1], -1)
    warped = F.grid_sample(layers.reshape(b * n, c, h, w), grid.reshape(b * n, h, w, 2),
                           mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped.reshape(b, n, c, h, w)


# ---- networks -----------------------------------------------------------------------------

def _norm(channels: int) -> nn.Module:
    # Instance norm: the seed's batch norm has no stable statistics at a CPU batch of two.
    return nn.InstanceNorm2d(channels, affine=True)


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1, bias=False), _norm(ch),
                                  nn.ReLU(True), nn.Conv2d(ch, ch, 3, 1, 1, bias=False),
                                  _norm(ch))

    def forward(self, x):
        return F.relu(x + self.body(x))


class ResUNet(nn.Module):
    """The seed's U-Net with residual blocks: per level a strided conv and two residual
    blocks down, nearest upsampling, a conv and two residual blocks up, skips concatenated."""

    def __init__(self, in_ch: int, out_ch: int, ngf: int, levels: int, max_channels: int):
        super().__init__()
        ch = [min(ngf * 2 ** i, max_channels) for i in range(levels - 1)]
        ch.append(ch[-1])  # the innermost level keeps its outer width (as the seed's)
        self.down = nn.ModuleList()
        prev = in_ch
        for i, c in enumerate(ch):
            norm = [] if i == 0 else [_norm(c)]
            self.down.append(nn.Sequential(nn.Conv2d(prev, c, 3, 2, 1), *norm, nn.ReLU(True),
                                           ResBlock(c), ResBlock(c)))
            prev = c
        self.up = nn.ModuleList()
        for i in range(levels - 1, 0, -1):  # from the innermost level out
            c_in = ch[i] if i == levels - 1 else 2 * ch[i]
            self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                         nn.Conv2d(c_in, ch[i - 1], 3, 1, 1), _norm(ch[i - 1]),
                                         nn.ReLU(True), ResBlock(ch[i - 1]),
                                         ResBlock(ch[i - 1])))
        self.out = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(2 * ch[0], out_ch, 3, 1, 1))

    def forward(self, x):
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = skips.pop()
        for layer in self.up:
            x = torch.cat([skips.pop(), layer(x)], 1)
        return self.out(x)


class Pose2Img(nn.Module):
    """G(source, source pose, target pose, limb transforms) -> target frame in -1..1."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        unet = dict(ngf=arch.ngf, levels=arch.levels, max_channels=arch.max_channels)
        self.segment = ResUNet(3 + N_CLUSTERS, 1 + N_LIMBS, **unet)  # the seed's stage A
        self.foreground = ResUNet(3 * N_LIMBS + N_CLUSTERS, 4, **unet)  # stage C
        self.background = ResUNet(3 + 1 + N_CLUSTERS, 3, **unet)  # stage D

    def forward(self, source, source_pose, target_pose, transforms) -> dict:
        """`source` (B, 3, H, W); poses (B, 137, 3) in the model's pixels; `transforms`
        (B, N_LIMBS, 2, 3). Returns the frame and the intermediate layers."""
        return self.synthesize(self.decompose(source, source_pose), target_pose, transforms)

    def decompose(self, source, source_pose) -> dict:
        """What depends on the source alone (inference makes it once): its soft layer masks
        and its background, filled where the speaker was."""
        hw, size = source.shape[-2:], self.arch.size
        pose_src = heatmaps(source_pose, hw, size)
        logits = mask_priors(source_pose, hw, size) + self.segment(
            torch.cat([source, pose_src], 1))
        masks = torch.softmax(logits, 1)  # (B, 1 + L, H, W)
        bg_mask = masks[:, :1]
        fill = torch.tanh(self.background(torch.cat([source * bg_mask, bg_mask, pose_src], 1)))
        bg = bg_mask * source + (1 - bg_mask) * fill  # the source's own scene where it shows
        return {"layers": masks[:, 1:, None] * source[:, None], "masks": masks,
                "background": bg}

    def synthesize(self, decomposed: dict, target_pose, transforms) -> dict:
        """The target frame from the source's layers moved by the limb transforms."""
        bg = decomposed["background"]
        warped = warp_layers(decomposed["layers"], transforms)  # (B, L, 3, H, W)
        pose_tgt = heatmaps(target_pose, bg.shape[-2:], self.arch.size)
        fg = self.foreground(torch.cat([warped.flatten(1, 2), pose_tgt], 1))
        fg_rgb, fg_mask = torch.tanh(fg[:, :3]), torch.sigmoid(fg[:, 3:4])
        frame = fg_mask * fg_rgb + (1 - fg_mask) * bg
        return {"frame": frame, "masks": decomposed["masks"], "warped": warped,
                "fg_mask": fg_mask, "background": bg}


class SNResBlockDown(nn.Module):
    """The seed's discriminator block: spectral-normalised residual block, average-pooled."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.skip = sn(nn.Conv2d(cin, cout, 1))
        self.conv1 = sn(nn.Conv2d(cin, cout, 3, 1, 1))
        self.conv2 = sn(nn.Conv2d(cout, cout, 3, 1, 1))

    def forward(self, x):
        res = F.avg_pool2d(self.skip(x), 2)
        out = self.conv2(F.relu(self.conv1(F.relu(x))))
        return res + F.avg_pool2d(out, 2)


class SelfAttention(nn.Module):
    """SAGAN self-attention (the seed puts one after its fourth discriminator block)."""

    def __init__(self, ch: int):
        super().__init__()
        sn = nn.utils.spectral_norm
        inner = max(1, ch // 8)
        self.f, self.g = sn(nn.Conv2d(ch, inner, 1)), sn(nn.Conv2d(ch, inner, 1))
        self.h = sn(nn.Conv2d(ch, ch, 1))
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        attn = torch.softmax(torch.bmm(self.f(x).flatten(2).transpose(1, 2),
                                       self.g(x).flatten(2)), dim=-2)
        out = torch.bmm(self.h(x).flatten(2), attn).view(b, c, h, w)
        return x + self.gamma * out


class Discriminator(nn.Module):
    """One realism score per image (the seed's: residual blocks down, self-attention, mean
    pooling, a linear layer), trained with the hinge loss."""

    def __init__(self, arch: Architecture):
        super().__init__()
        layers, cin = [], 3
        for i in range(arch.d_blocks):
            cout = min(arch.ndf * _D_WIDTHS[min(i, len(_D_WIDTHS) - 1)], arch.max_channels)
            layers.append(SNResBlockDown(cin, cout))
            if i == 3:
                layers.append(SelfAttention(cout))
            cin = cout
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, 1)

    def forward(self, x):
        return self.fc(self.body(x).mean((2, 3)))


_D_WIDTHS = [1, 2, 4, 4, 8, 8, 8]  # the seed's blocks, in multiples of ndf (64: 64 ... 512)


# ---- the family's spec, inputs and inference step ------------------------------------------

def geometry(settings: dict) -> tuple[int, int]:
    """(long side, side multiple) of the model's frames for these settings."""
    arch = preset(settings["preset"])
    return settings["size"] or arch.size, arch.multiple


def spec(settings: dict, data) -> dict:
    size, _ = geometry(settings)
    arch = {**asdict(preset(settings["preset"])), "size": size}
    return {"preset": settings["preset"], "arch": arch,
            "inputs": {"size": size, "map_hw": list(data.map_hw),
                       "source_frame": settings["source_frame"]}}


def choose_source(keypoints: np.ndarray, n_train: int, wanted: int | None, where) -> int:
    """The source frame: `wanted`, or the training frame with the most points seen (body,
    face and both hands), the earliest of equals."""
    if wanted is not None:
        if not 0 <= wanted < n_train:
            raise PoseAnimateError(
                f"families.pose2img.source_frame {wanted} is not a training frame (0-"
                f"{n_train - 1}).", path=where,
                fix="pick a frame before the held-out ones, or null to choose one.")
        if keypoints[wanted, :, 2].max() <= MIN_CONF:
            raise PoseAnimateError(f"source frame {wanted} has nobody in it.", path=where,
                                   fix="pick a frame with the speaker, or null to choose one.")
        return wanted
    seen = (keypoints[:n_train, :, 2] > MIN_CONF).sum(1)
    return int(np.argmax(seen))


def extras(data, n_train: int, settings: dict) -> dict:
    """The source image (tensor layout) and its keypoints (frame pixels), the frame size."""
    t = choose_source(data.keypoints, n_train, settings["source_frame"], data.folder / "frames")
    return {"frame_hw": list(data.frame_hw), "source_index": t,
            "source_image": data.image(t), "source_keypoints": data.keypoints[t].copy()}


def build(spec: dict) -> Pose2Img:
    return Pose2Img(Architecture(**spec["arch"]))


class Animator:
    """The trained generator on the speaker's source image, one target pose at a time. Its
    extra panel in comparisons is the source image."""

    VIEWS = ("source",)

    def __init__(self, spec: dict, weights: dict, extras: dict, device: torch.device):
        self.spec, self.device = spec, device
        self.map_hw = tuple(spec["inputs"]["map_hw"])
        self.frame_hw = tuple(extras["frame_hw"])
        self.G = build(spec)
        self.G.load_state_dict(weights)
        self.G.eval().to(device)
        self.source_np = np.asarray(extras["source_image"], np.float32)
        self.source = torch.from_numpy(self.source_np)[None].to(device)
        self.source_pose = to_map(extras["source_keypoints"], self.frame_hw, self.map_hw)
        with torch.no_grad():  # the source's layers and background, the same for every frame
            self._source = self.G.decompose(
                self.source, torch.from_numpy(self.source_pose)[None].to(device))

    def reset(self) -> None:
        """No temporal chain: each frame is made from the source image alone."""

    @torch.no_grad()
    def frame(self, driving: Driving) -> np.ndarray:
        target = to_map(driving.person, self.frame_hw, self.map_hw)
        transforms = torch.from_numpy(limb_transforms(self.source_pose, target))[None]
        out = self.G.synthesize(self._source, torch.from_numpy(target)[None].to(self.device),
                                transforms.to(self.device))
        return tensor_layout_to_image(out["frame"][0].float().cpu().numpy())

    def views(self) -> dict:
        return {"source": tensor_layout_to_image(self.source_np)}

    def blank(self) -> np.ndarray:
        """A frame with nobody: the background the model fills in behind the source speaker."""
        return tensor_layout_to_image(self._source["background"][0].float().cpu().numpy())
