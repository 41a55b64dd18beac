"""The `d2g` family's training step: consecutive frames (t-1, t) of the subject; frame t-1 is
rendered as a first frame (no previous output), frame t from frame t-1's output warped by the
static renderings' flow, as a render runs.

Losses, with the paper's weights as defaults: L2 of the frame and of the static-texture
rendering (500; weighted up by 1 + `figure_weight` inside the person mask, as the paper's
"human" L2 adds the figure again), U/V L1 inside the true part (1000), part cross-entropy and
foreground-mask BCE (10 each), temporal L1 between frame t and frame t-1 warped by the real video's backward
flow where that flow is reliable (500), and pix2pixHD's multi-scale LSGAN with feature matching
(and VGG19 only from a local weights file). During the first `static_steps` steps the
adversarial and temporal losses are off, so that the surface (TransG, texture, plate) settles
before the details are refined, as the paper's static epochs do.

With `surface_only` in its settings (renderers/d2g/pretrain.py sets it) the step trains TransG
alone, person-agnostically, on the frames of many subjects: pose map -> IUV, supervised by
their densepose/ (the U/V and part losses); a subject's run can start from that TransG
(`TrainStep.init_from`).
"""

import numpy as np
import torch
import torch.nn.functional as F

from ...core.body import N_PARTS
from ..device import autocast_dtype, memory_format
from ..networks import MultiscaleDiscriminator, VGG19Loss, feature_matching_loss, gan_loss
from ..posemap import POSE_CHANNELS, draw_pose, tensor_layout_to_image
from . import model

LOSSES = ["G_l2", "G_static", "G_uv", "G_part", "G_mask", "G_temporal", "G_gan", "G_feat",
          "G_vgg", "D_real", "D_fake"]
PANELS = [("reconstruction", ["G_l2", "G_static", "G_temporal"]),
          ("surface (TransG)", ["G_uv", "G_part", "G_mask"]),
          ("adversarial", ["G_gan", "G_feat", "G_vgg", "D_real", "D_fake"])]


class SurfaceDataset(torch.utils.data.Dataset):
    """Every training frame of several subjects: its pose map and its true IUV."""

    def __init__(self, datas: list, n_trains: list[int]):
        self.datas = datas
        self.frames = [(k, t) for k, n in enumerate(n_trains) for t in range(n)]

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, i):
        k, t = self.frames[i]
        d = self.datas[k]
        iuv = d.iuv(t)
        item = {"pose": draw_pose(d.keypoints[t], d.frame_hw, d.map_hw),
                "part": np.rint(iuv[0] * N_PARTS).astype(np.int64), "uv": iuv[1:]}
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()}


class PairDataset(torch.utils.data.Dataset):
    """Consecutive training frames (t-1, t): poses, frames, masks, the true IUV, and the real
    backward flow from t to t-1 with its reliability."""

    def __init__(self, data, n_train: int):
        self.data = data
        self.pairs = [(t - 1, t) for t in range(1, n_train)]

    def __len__(self):
        return len(self.pairs)

    def frame(self, t: int, tag: str) -> dict:
        d = self.data
        iuv = d.iuv(t)
        return {f"pose{tag}": draw_pose(d.keypoints[t], d.frame_hw, d.map_hw),
                f"img{tag}": d.image(t), f"mask{tag}": d.mask(t)[None],
                f"part{tag}": np.rint(iuv[0] * N_PARTS).astype(np.int64), f"uv{tag}": iuv[1:]}

    def __getitem__(self, i):
        a, b = self.pairs[i]
        item = {**self.frame(a, "_prev"), **self.frame(b, ""),
                "flow": self.data.flow_back(a), "valid": self.data.flow_valid(a)[None]}
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()}


def true_uv(parts: torch.Tensor, uv: torch.Tensor):
    """The true U, V spread over TransG's 48 channels (u1, v1, u2, ...): (values, 0/1 mask),
    non-zero only in the true part's two channels."""
    onehot = F.one_hot(parts, model.N_CLASSES)[..., 1:].permute(0, 3, 1, 2).float()
    mask = onehot.repeat_interleave(2, dim=1)
    values = torch.cat([uv[:, :1], uv[:, 1:]] * N_PARTS, dim=1) * mask
    return values, mask


def balanced_cross_entropy(logits: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
    """Part cross-entropy, the mean over the figure's pixels and the mean over the background's
    averaged: over all pixels, the background (most of a frame) drowns the small parts (arms
    and hands are a few pixels wide at 128 px) and TransG learns only the torso and legs."""
    ce = F.cross_entropy(logits, parts, reduction="none")
    figure = parts > 0
    if not figure.any() or figure.all():
        return ce.mean()
    return 0.5 * (ce[figure].mean() + ce[~figure].mean())


class TrainStep:
    """The D2G networks, a discriminator, their optimizers and one optimisation step."""

    LOSSES, PANELS = LOSSES, PANELS

    def __init__(self, spec: dict, settings: dict, device: torch.device, datas=()):
        self.cfg, self.device = settings, device
        arch = model.Architecture(**spec["arch"])
        self.net = model.build(spec)
        self.D = MultiscaleDiscriminator(POSE_CHANNELS + 3, arch.ndf, arch.d_layers, arch.num_d)
        self.surface_only = settings.get("surface_only", False)
        if datas and not self.surface_only:  # start from the subject's texture and plate
            data = datas[0]
            with torch.no_grad():
                self.net.texture.copy_(model.texture_from_atlas(
                    data.texture, arch.texture_size, arch.texture_channels))
                self.net.background.copy_(torch.from_numpy(data.background))
        self.memory_format = memory_format(device)
        for net in (self.net, self.D):
            net.to(device, memory_format=self.memory_format)
        betas = (0.5, 0.999)
        lr, scale = settings["lr"], settings["texture_lr_scale"]
        self.opt_T = torch.optim.Adam(self.net.trans.parameters(), lr=lr, betas=betas)
        self.opt_G = torch.optim.Adam([
            {"params": [*self.net.trans.parameters(), *self.net.detail.parameters()], "lr": lr},
            {"params": [self.net.texture, self.net.background], "lr": lr * scale}], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas)
        self.vgg = (VGG19Loss(settings["vgg19_weights"]).to(device)
                    if settings["vgg19_weights"] else None)
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.amp_dtype = autocast_dtype(device.type, bf16)
        self.flow = model.StaticFlow()
        self.steps_done = 0
        self._last = None

    def dataset(self, datas: list, n_trains: list[int]):
        if self.surface_only:
            return SurfaceDataset(datas, n_trains)
        (data,), (n_train,) = datas, n_trains  # a subject's renderer: one subject
        return PairDataset(data, n_train)

    def images(self, batch) -> int:
        return batch["pose"].shape[0] * (1 if self.surface_only else 2)

    def init_from(self, weights: dict) -> None:
        """Start from a pretrained model's TransG (renderers/d2g/pretrain.py)."""
        trans = {k.removeprefix("trans."): v for k, v in weights.items()
                 if k.startswith("trans.")}
        self.net.trans.load_state_dict(trans)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype,
                              enabled=self.amp_dtype is not None)

    def state(self) -> dict:
        return {"net": self.net.state_dict(), "D": self.D.state_dict(),
                "opt_T": self.opt_T.state_dict(), "opt_G": self.opt_G.state_dict(),
                "opt_D": self.opt_D.state_dict(), "steps_done": self.steps_done}

    def load(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.D.load_state_dict(state["D"])
        for name in ("opt_T", "opt_G", "opt_D"):
            getattr(self, name).load_state_dict(state[name])
        self.steps_done = state["steps_done"]

    def weights(self) -> dict:
        return self.net.state_dict()

    def surface_losses(self, surface: dict, parts, uv):
        """(U/V L1 inside the true part, part cross-entropy) of TransG's prediction."""
        uv_values, uv_mask = true_uv(parts, uv)
        return (((surface["uv"].float() - uv_values).abs() * uv_mask).mean(),
                balanced_cross_entropy(surface["logits"].float(), parts))

    def step(self, batch) -> dict:
        if self.surface_only:
            return self.surface_step(batch)
        cfg = self.cfg
        b = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        n = b["img"].shape[0]
        poses = torch.cat([b["pose_prev"], b["pose"]])
        reals = torch.cat([b["img_prev"], b["img"]])
        dynamic = self.steps_done >= cfg["static_steps"]  # adversarial and temporal losses on
        with self._autocast():
            surface = self.net.surface(poses)
            prev = {k: v[:n] for k, v in surface.items()}
            now = {k: v[n:] for k, v in surface.items()}
            out_prev = self.net.details(prev, b["pose_prev"], torch.zeros_like(b["img_prev"]))
            flow = self.flow(now["static"], prev["static"])
            warped = model.backwarp(out_prev["frame"].detach().float(), flow)
            out_now = self.net.details(now, b["pose"], warped)
        frames = torch.cat([out_prev["frame"], out_now["frame"]]).float()

        zero = torch.zeros((), device=self.device)
        loss_d_real = loss_d_fake = zero
        if dynamic and cfg["gan_weight"] > 0:
            self.opt_D.zero_grad(set_to_none=True)
            with self._autocast():
                d_real = self.D(torch.cat([poses, reals], 1))
                d_fake = self.D(torch.cat([poses, frames.detach()], 1))
                loss_d_real, loss_d_fake = gan_loss(d_real, True), gan_loss(d_fake, False)
            (0.5 * (loss_d_real + loss_d_fake)).backward()
            self.opt_D.step()

        self.opt_G.zero_grad(set_to_none=True)
        with self._autocast():
            weight = 1 + cfg["figure_weight"] * torch.cat([b["mask_prev"], b["mask"]])
            l2 = (weight * (frames - reals) ** 2).mean()
            l2_static = (weight * (surface["static"].float() - reals) ** 2).mean()
            uv, part = self.surface_losses(surface, torch.cat([b["part_prev"], b["part"]]),
                                           torch.cat([b["uv_prev"], b["uv"]]))
            masks = torch.cat([out_prev["mask"], out_now["mask"]]).float()
            mask = F.binary_cross_entropy(masks.clamp(1e-6, 1 - 1e-6),
                                          torch.cat([b["mask_prev"], b["mask"]]))
            temporal = g_gan = g_feat = zero
            if dynamic:
                target = model.backwarp(out_prev["frame"].float(), b["flow"])
                temporal = ((out_now["frame"].float() - target).abs() * b["valid"]).mean()
                if cfg["gan_weight"] > 0:
                    g_fake = self.D(torch.cat([poses, frames], 1))
                    g_gan = gan_loss(g_fake, True)
                    g_feat = feature_matching_loss(g_fake, d_real)
            g_vgg = self.vgg(frames, reals) if self.vgg is not None else zero
            loss = (cfg["l2_weight"] * (l2 + l2_static) + cfg["uv_weight"] * uv
                    + cfg["part_weight"] * part + cfg["mask_weight"] * mask
                    + cfg["temporal_weight"] * temporal + cfg["gan_weight"] * g_gan
                    + cfg["feat_weight"] * g_feat + cfg["vgg_weight"] * g_vgg)
        loss.backward()
        self.opt_G.step()
        self.steps_done += 1
        self._last = (batch, {k: v.detach() for k, v in now.items()}, out_now["frame"].detach())
        losses = {"G_l2": l2, "G_static": l2_static, "G_uv": uv, "G_part": part, "G_mask": mask,
                  "G_temporal": temporal, "G_gan": g_gan, "G_feat": g_feat, "G_vgg": g_vgg,
                  "D_real": loss_d_real, "D_fake": loss_d_fake}
        return {k: float(v.detach()) for k, v in losses.items()}

    def surface_step(self, batch) -> dict:
        """Pretraining: TransG alone, from the pose to the true IUV."""
        b = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        self.opt_T.zero_grad(set_to_none=True)
        with self._autocast():
            logits, uv_pred = self.net.trans(b["pose"])
            surface = {"logits": logits, "uv": uv_pred}
            uv, part = self.surface_losses(surface, b["part"], b["uv"])
            loss = self.cfg["uv_weight"] * uv + self.cfg["part_weight"] * part
        loss.backward()
        self.opt_T.step()
        self.steps_done += 1
        self._last = (batch, {k: v.detach() for k, v in surface.items()}, None)
        return {"G_uv": float(uv.detach()), "G_part": float(part.detach()),
                **{k: 0.0 for k in LOSSES if k not in ("G_uv", "G_part")}}

    def sample_picture(self, n: int = 4) -> np.ndarray:
        """BGR rows of (pose | predicted IUV | static texture | frame | real) for the last
        step's first n frames t; when pretraining (pose | predicted IUV | true IUV)."""
        batch, surface, frames = self._last
        rows = []
        for i in range(min(n, batch["pose"].shape[0])):
            pose = batch["pose"][i].amax(0).numpy()
            parts, u, v = model.iuv_from(surface["logits"][i].float(), surface["uv"][i].float())
            cells = [np.repeat((pose * 255).astype(np.uint8)[..., None], 3, axis=2),
                     model.iuv_picture(parts, u, v)]
            if frames is None:
                cells.append(model.iuv_picture(batch["part"][i].numpy().astype(np.uint8),
                                               *batch["uv"][i].numpy()))
            else:
                cells += [tensor_layout_to_image(surface["static"][i].clamp(-1, 1).float().cpu()
                                                 .numpy()),
                          tensor_layout_to_image(frames[i].float().cpu().numpy()),
                          tensor_layout_to_image(batch["img"][i].numpy())]
            rows.append(np.concatenate(cells, axis=1))
        return np.concatenate(rows, axis=0)
