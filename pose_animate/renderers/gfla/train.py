"""The `gfla` family's training step (the seed's animation trainer): windows of consecutive
frames of a train subject, each made from a reference frame of the same person and the frame
before, unrolled as a video is generated (the first from the reference, or from the real
frame before: alternately, as an animation starts from a source image and a reconstruction
from the frame before; then each from the previous generated frame, detached, as the seed's
`pre_image`).

Losses, with the seed's weights: L1 (x 5); the adversarial loss (LSGAN, x 2) of an image
discriminator on each frame and a temporal one on the window, both at a tenth of the
learning rate (ratio_g2d); the sampling-correctness loss (x 5): at each attention level, how
close the features each flow fetches from its source are to the real target's, relative to
the closest source feature there is (VGG19 relu3_1 and relu4_1 from a local weights file;
without it, centred 3 x 3 colour patches of the frames at the level's scale); the flow
regularisation (x 0.0025, the affine-fit residual of each k x k patch of the flow); with
VGG19 the perceptual (x 0.5) and style (x 500) losses, without it the L1 pyramid (1/2, 1/4,
1/8) in their place.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ...core.errors import PoseAnimateError
from ..device import autocast_dtype
from ..baselines import inpainted_plate, piecewise_affine
from ..networks import VGG19Loss, pyramid_l1
from ..posemap import draw_pose, has_person, image_to_tensor_layout, tensor_layout_to_image, to_map
from ..step import PartsStep
from . import model

LOSSES = ["G_l1", "G_pyramid", "G_vgg", "G_style", "G_correct", "G_reg", "G_gan", "D_real",
          "D_fake"]
PANELS = [("reconstruction", ["G_l1", "G_pyramid", "G_vgg", "G_style"]),
          ("flow", ["G_correct", "G_reg"]),
          ("adversarial", ["G_gan", "D_real", "D_fake"])]
# VGG19 slices (networks._VGG_SLICES) whose outputs are at levels 2 and 3: relu3_1, relu4_1
_VGG_AT_LEVEL = {2: 2, 3: 3}


class WindowDataset(torch.utils.data.Dataset):
    """Per item: a window of `frames` consecutive frames of one train subject, every frame
    with a person, its reference frame (another frame of the subject with a person, fixed by
    the index, so a resumed run sees the same items), the real frame before the window, and
    per frame the model's prior: the reference's piecewise-affine warp to the frame's pose
    over the subject's plate, or, one item in four, over the reference with its person
    inpainted (what a photo gives when animated)."""

    def __init__(self, datas: list, frames: int):
        self.datas, self.frames = datas, frames
        self.items, self.refs = [], []
        self.plates = [tensor_layout_to_image(d.background) for d in datas]
        for s, d in enumerate(datas):
            seen = np.array([has_person(p) for p in d.keypoints])
            self.refs.append(np.flatnonzero(seen))
            self.items += [(s, t) for t in range(1, d.n - frames + 1)
                           if seen[t - 1:t + frames].all()]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        s, t = self.items[i]
        d, refs = self.datas[s], self.refs[s]
        r = int(refs[(i * 7919 + 104_729) % len(refs)])

        def pose(k):
            return draw_pose(d.keypoints[k], d.frame_hw, d.map_hw)

        def keypoints(k):
            return to_map(d.keypoints[k], d.frame_hw, d.map_hw)

        window = range(t, t + self.frames)
        ref_bgr = d.image_bgr(r)
        parts = d.part_index(r)
        plate = inpainted_plate(ref_bgr, parts) if i % 4 == 3 else self.plates[s]
        priors = [piecewise_affine(ref_bgr, parts, keypoints(r), keypoints(k), plate)
                  for k in window]
        item = {"ref": image_to_tensor_layout(ref_bgr, d.map_hw), "ref_pose": pose(r),
                "before": d.image(t - 1), "before_pose": pose(t - 1),
                "start_from_ref": np.float32(i % 2 == 0),
                "frames": np.stack([d.image(k) for k in window]),
                "poses": np.stack([pose(k) for k in window]),
                "priors": np.stack([image_to_tensor_layout(p, d.map_hw) for p in priors])}
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()}


def colour_patches(image: torch.Tensor, level: int) -> torch.Tensor:
    """(B, 27, H / 2**level, W / 2**level): the frame at the level's scale, minus its mean
    colour, as 3 x 3 patches (the correctness features without VGG19)."""
    small = F.avg_pool2d(image, 2 ** level)
    small = small - small.mean((2, 3), keepdim=True)
    b, _, h, w = small.shape
    return F.unfold(small, 3, padding=1).view(b, 27, h, w)


def correctness(source: torch.Tensor, target: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """The sampling-correctness loss: 1 - cos(fetched source feature, target feature) /
    max over the source's features of cos(source feature, target feature), averaged over
    the target's positions (0 where each position fetches its best match)."""
    t = F.normalize(target.flatten(2), dim=1)
    s = F.normalize(source.flatten(2), dim=1)
    fetched = F.normalize(model.warp(source, flow).flatten(2), dim=1)
    similarity = (t * fetched).sum(1)
    best = torch.bmm(t.transpose(1, 2), s).amax(-1)
    return (1 - similarity / best.clamp(min=1e-3)).clamp(min=0).mean()


class TrainStep(PartsStep):
    """Networks, optimizers and one optimisation step of the family."""

    LOSSES, PANELS = LOSSES, PANELS
    PARTS = ("G", "D", "opt_G", "opt_D")  # what a training checkpoint holds

    def __init__(self, spec: dict, settings: dict, device: torch.device, datas=()):
        self.cfg, self.device = settings, device
        arch = model.architecture(spec)
        self.G = model.GFLA(arch)
        self.D = model.Discriminators(arch, settings["frames_per_item"])
        self.kernels = arch.kernels
        self.nets = [self.G, self.D]
        for net in self.nets:
            net.to(device)
        betas = (0.0, 0.999)  # the seed's
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=settings["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=settings["lr"] * 0.1, betas=betas)
        self.vgg = (VGG19Loss(settings["vgg19_weights"]).to(device)
                    if settings["vgg19_weights"] else None)
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.amp_dtype = autocast_dtype(device.type, bf16)
        self._last = None

    def dataset(self, datas: list, n_trains: list[int]) -> WindowDataset:
        sizes = {tuple(d.map_hw) for d in datas}
        if len(sizes) > 1:
            raise PoseAnimateError(
                f"the train subjects' frames come at {len(sizes)} sizes at the model's scale "
                f"({', '.join(f'{w}x{h}' for h, w in sorted(sizes))}).",
                path=datas[0].folder.parent,
                fix="one model learns from frames of one shape: use frames.crop: person "
                    "(square crops of every subject).")
        data = WindowDataset(datas, self.cfg["frames_per_item"])
        if len(data) == 0:
            raise PoseAnimateError(
                f"no {self.cfg['frames_per_item'] + 1} consecutive frames with a person in "
                "any train subject.", path=datas[0].folder.parent,
                fix="check the subjects' keypoints (results/qa/<subject>/), or lower "
                    "families.gfla.frames_per_item.")
        return data

    @staticmethod
    def images(batch) -> int:
        return batch["frames"].shape[0] * batch["frames"].shape[1]

    def _features(self, image: torch.Tensor) -> dict:
        """The correctness features of a frame at each attention level."""
        if self.vgg is None:
            return {level: colour_patches(image, level) for level in model.LEVELS}
        with torch.no_grad():
            feats = self.vgg.features(image)
        return {level: feats[_VGG_AT_LEVEL[level]] for level in model.LEVELS}

    def step(self, batch) -> dict:
        cfg = self.cfg
        b = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        zero = torch.zeros((), device=self.device)
        ref, ref_pose = b["ref"], b["ref_pose"]
        start = b["start_from_ref"].view(-1, 1, 1, 1)
        prev = (start * ref + (1 - start) * b["before"],
                start * ref_pose + (1 - start) * b["before_pose"])
        ref_feats = self._features(ref)
        prev_feats = self._features(prev[0])  # then each real frame's, fetched once
        fakes, reals = [], []
        totals = {k: zero for k in ("G_l1", "G_pyramid", "G_vgg", "G_style", "G_correct",
                                    "G_reg")}
        with self._autocast():
            for j in range(b["frames"].shape[1]):
                real, pose = b["frames"][:, j], b["poses"][:, j]
                out = self.G(ref, ref_pose, *prev, pose, b["priors"][:, j])
                fake = out["frame"].float()
                real_feats = self._features(real)
                totals["G_l1"] = totals["G_l1"] + (fake - real).abs().mean()
                if self.vgg is not None:
                    vgg, style = self.vgg.perceptual_and_style(fake, real)
                    totals["G_vgg"], totals["G_style"] = totals["G_vgg"] + vgg, \
                        totals["G_style"] + style
                else:
                    totals["G_pyramid"] = totals["G_pyramid"] + pyramid_l1(fake, real)
                for level, kernel in zip(model.LEVELS, self.kernels):
                    flow_ref, flow_prev = (f.float() for f in out["flows"][level])
                    totals["G_correct"] = totals["G_correct"] + correctness(
                        ref_feats[level], real_feats[level], flow_ref) + correctness(
                        prev_feats[level], real_feats[level], flow_prev)
                    totals["G_reg"] = totals["G_reg"] + model.affine_residual(
                        flow_ref, kernel) + model.affine_residual(flow_prev, kernel)
                fakes.append(fake)
                reals.append(real)
                prev, prev_feats = (fake.detach(), pose), real_feats
            n = len(fakes)
            losses = {k: v / n for k, v in totals.items()}
            g_gan = zero
            if cfg["gan_weight"]:
                g_gan = sum(F.mse_loss(s, torch.ones_like(s)) for s in self.D(fakes))
            loss_g = (cfg["l1_weight"] * (losses["G_l1"] + losses["G_pyramid"])
                      + cfg["vgg_weight"] * losses["G_vgg"]
                      + cfg["style_weight"] * losses["G_style"]
                      + cfg["correctness_weight"] * losses["G_correct"]
                      + cfg["regularization_weight"] * losses["G_reg"]
                      + cfg["gan_weight"] * g_gan)
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_G.step()

        d_real = d_fake = zero
        if cfg["gan_weight"]:
            self.opt_D.zero_grad(set_to_none=True)
            with self._autocast():
                d_real = sum(F.mse_loss(s, torch.ones_like(s)) for s in self.D(reals))
                d_fake = sum(F.mse_loss(s, torch.zeros_like(s))
                             for s in self.D([f.detach() for f in fakes]))
            (0.5 * (d_real + d_fake)).backward()
            self.opt_D.step()
        self._last = (batch, fakes)
        losses.update({"G_gan": g_gan, "D_real": d_real, "D_fake": d_fake})
        return {k: float(v.detach()) for k, v in losses.items()}

    def sample_picture(self, n: int = 4) -> np.ndarray:
        """BGR rows of (reference | each generated frame | each real frame)."""
        batch, fakes = self._last
        rows = []
        for i in range(min(n, fakes[0].shape[0])):
            def img(x):
                return tensor_layout_to_image(x.detach().float().cpu().numpy())
            rows.append(np.concatenate(
                [img(batch["ref"][i])] + [img(f[i]) for f in fakes]
                + [img(batch["frames"][i, j]) for j in range(len(fakes))], axis=1))
        return np.concatenate(rows, axis=0)
