"""The `pose2img` family's training step (the seed's trainer): a target frame made from a source
frame of the same speaker and the target's pose; L1 (x 10), the adversarial hinge loss of one
realism score per image (its discriminator at half the learning rate), and the perceptual and
style losses of VGG19 from a local weights file. Without VGG weights, an L1 pyramid (the frame
at 1/2, 1/4 and 1/8, where the blur of a misplaced limb costs most) stands in for them."""

import numpy as np
import torch
import torch.nn.functional as F

from ..device import autocast_dtype
from ..networks import VGG19Loss, pyramid_l1
from ..posemap import tensor_layout_to_image
from ..step import PartsStep
from . import model

LOSSES = ["G_l1", "G_pyramid", "G_vgg", "G_style", "G_gan", "D_real", "D_fake"]
PANELS = [("reconstruction", ["G_l1", "G_pyramid", "G_vgg", "G_style"]),
          ("generator adversarial", ["G_gan"]),
          ("discriminator", ["D_real", "D_fake"])]


class PairDataset(torch.utils.data.Dataset):
    """(source, target) pairs of training frames, every training frame a target 2 x ROUNDS
    times: in even rounds with the model's source frame (the one inference uses) as its
    source, in odd rounds with another training frame, a different one each round, as the
    seed pairs frames at random, so that the network learns to move an appearance rather than
    to recall one image. Pairs depend on the index alone (a resumed run sees the same ones)."""

    ROUNDS = 8

    def __init__(self, data, n_train: int, source: int):
        self.data, self.n, self.source = data, n_train, source
        self.map_hw = data.map_hw

    def __len__(self):
        return 2 * self.ROUNDS * self.n

    def pair(self, i: int) -> tuple[int, int]:
        round_, target = divmod(i, self.n)
        if round_ % 2 == 0 or self.n < 2:
            return self.source, target
        other = (target * 7919 + round_ * 104_729) % (self.n - 1)  # any frame but the target
        return other + (other >= target), target

    def __getitem__(self, i):
        s, t = self.pair(i)
        d = self.data
        kp_s = model.to_map(d.keypoints[s], d.frame_hw, self.map_hw)
        kp_t = model.to_map(d.keypoints[t], d.frame_hw, self.map_hw)
        item = {"source": d.image(s), "target": d.image(t), "source_pose": kp_s,
                "target_pose": kp_t, "transforms": model.limb_transforms(kp_s, kp_t)}
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()}


class TrainStep(PartsStep):
    """Networks, optimizers and one optimisation step of the family."""

    LOSSES, PANELS = LOSSES, PANELS

    def __init__(self, spec: dict, settings: dict, device: torch.device, datas=()):
        self.cfg, self.device = settings, device
        arch = model.Architecture(**spec["arch"])
        self.G, self.D = model.Pose2Img(arch), model.Discriminator(arch)
        self.nets = [self.G, self.D]  # what the step calls (bench/bench_gpu.py compiles them)
        for net in self.nets:
            net.to(device)
        betas = (0.5, 0.999)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=settings["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=settings["lr"] / 2, betas=betas)
        self.vgg = (VGG19Loss(settings["vgg19_weights"]).to(device)
                    if settings["vgg19_weights"] else None)
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.amp_dtype = autocast_dtype(device.type, bf16)
        self._last = None

    def dataset(self, datas: list, n_trains: list[int]) -> PairDataset:
        (data,), (n_train,) = datas, n_trains  # a speaker's renderer: one subject
        source = model.choose_source(data.keypoints, n_train, self.cfg["source_frame"],
                                     data.folder / "frames")
        return PairDataset(data, n_train, source)

    @staticmethod
    def images(batch) -> int:
        return batch["target"].shape[0]

    PARTS = ("G", "D", "opt_G", "opt_D")  # what a training checkpoint holds

    def step(self, batch) -> dict:
        cfg = self.cfg
        b = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        real = b["target"]
        zero = torch.zeros((), device=self.device)
        with self._autocast():
            out = self.G(b["source"], b["source_pose"], b["target_pose"], b["transforms"])
        fake = out["frame"].float()

        # generator (the seed updates it first, then the discriminator on its detached output)
        self.opt_G.zero_grad(set_to_none=True)
        with self._autocast():
            l1 = (fake - real).abs().mean()
            if self.vgg is not None:
                g_vgg, g_style = self.vgg.perceptual_and_style(fake, real)
                g_pyramid = zero
            else:
                g_vgg = g_style = zero
                g_pyramid = pyramid_l1(fake, real)
            g_gan = F.relu(1 - self.D(fake)).mean() if cfg["gan_weight"] else zero
            loss_g = (cfg["l1_weight"] * (l1 + g_pyramid) + cfg["vgg_weight"] * g_vgg
                      + cfg["style_weight"] * g_style + cfg["gan_weight"] * g_gan)
        loss_g.backward()
        self.opt_G.step()

        d_real = d_fake = zero
        if cfg["gan_weight"]:
            self.opt_D.zero_grad(set_to_none=True)
            with self._autocast():
                d_real = F.relu(1 - self.D(real)).mean()
                d_fake = F.relu(1 + self.D(fake.detach())).mean()
            (0.5 * (d_real + d_fake)).backward()
            self.opt_D.step()
        self._last = (batch, out)
        losses = {"G_l1": l1, "G_pyramid": g_pyramid, "G_vgg": g_vgg, "G_style": g_style,
                  "G_gan": g_gan, "D_real": d_real, "D_fake": d_fake}
        return {k: float(v.detach()) for k, v in losses.items()}

    def sample_picture(self, n: int = 4) -> np.ndarray:
        """BGR rows of (source | its limb layers | warped layers | generated | real)."""
        batch, out = self._last
        rows = []
        for i in range(min(n, out["frame"].shape[0])):
            def img(x):
                return tensor_layout_to_image(x.detach().float().cpu().numpy())
            layers = img(_layer_colours(out["masks"][i, 1:]))
            warped = img(out["warped"][i].sum(0).clamp(-1, 1))
            rows.append(np.concatenate([img(batch["source"][i]), layers, warped,
                                        img(out["frame"][i]), img(batch["target"][i])], axis=1))
        return np.concatenate(rows, axis=0)


# one colour per limb layer (BGR, -1..1) for the sample pictures and the QA
_COLOURS = torch.tensor([[0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 1, 0], [1, 0, 0], [1, 0, 1],
                         [0.5, 0.5, 1], [1, 0.5, 0.5]], dtype=torch.float32) * 2 - 1


def _layer_colours(masks: torch.Tensor) -> torch.Tensor:
    """(3, H, W): the limb layers' soft masks (N_LIMBS, H, W), each in its colour, on black."""
    m = masks.detach().float().cpu()
    return (torch.einsum("lhw,lc->chw", m, _COLOURS + 1) - 1).clamp(-1, 1)
