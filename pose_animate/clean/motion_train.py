"""Training loop of the motion net: random windows of (noisy, clean) pairs, MPJPE loss, Adam.

Windows carry the net's full context (40 frames each side for 81 frames); sequence edges are
padded by repetition exactly as at inference. Left/right mirroring doubles the motion seen.
`train_motion_net_stage` is the workflow's stage: training data and settings from the config.
"""

import time
from pathlib import Path

import numpy as np
import torch

from ..core.body import BODY_25_FLIP
from ..core.errors import PoseAnimateError
from ..core.runlog import log
from .motion_data import (SHARED_JOINTS, make_pairs, pairs_from_detections, read_clean_sequences,
                          read_videopose3d_pairs, split_by_clip)
from .motion_net import (MotionNet, NetConfig, centre_and_scale, combine, features,
                         save_motion_net, x_features)


class _Windows:
    """Encoded pairs, padded for the net, from which training windows are drawn."""

    def __init__(self, pairs, pad: int, window: int, cfg: NetConfig):
        self.inputs, self.banks, self.targets, self.masks = [], [], [], []
        for p in pairs:
            f = features(p["input"], p["observed"], cfg)
            target = (p["target"][..., :2] - f["centre"][:, None]) / f["scale"]  # (T, J, 2)
            # Scored where cleaning writes an output: the point is present after gap filling.
            mask = (p["target"][..., 2] > 0) & (p["input"][..., 2] > 0)
            extra = max(0, window - len(target))  # short clips: repeat the last frame, unscored
            self.inputs.append(np.pad(f["x"], ((0, 0), (pad, pad + extra)), mode="edge"))
            self.banks.append(np.pad(f["bank"], ((0, extra), (0, 0), (0, 0), (0, 0)), mode="edge"))
            self.targets.append(np.pad(target, ((0, extra), (0, 0), (0, 0)),
                                       mode="edge").astype(np.float32))
            self.masks.append(np.pad(mask, ((0, extra), (0, 0))))
        lengths = np.array([len(t) - window + 1 for t in self.targets], float)
        self.prob = lengths / lengths.sum()
        self.pad, self.window = pad, window

    def sample(self, rng, batch):
        xs, bs, ts, ms = [], [], [], []
        for i in rng.choice(len(self.inputs), batch, p=self.prob):
            a = rng.integers(0, len(self.targets[i]) - self.window + 1)
            xs.append(self.inputs[i][:, a:a + self.window + 2 * self.pad])
            bs.append(self.banks[i][a:a + self.window])
            ts.append(self.targets[i][a:a + self.window])
            ms.append(self.masks[i][a:a + self.window])
        return np.stack(xs), np.stack(bs), np.stack(ts), np.stack(ms)


def _flip(x, b, t, m, perm, x_channels):
    """Mirror left/right: negate x and exchange the partner joints' columns."""
    n = len(perm)
    x = x.reshape(len(x), n, -1, x.shape[-1])[:, perm].copy()
    x[:, :, x_channels] *= -1
    b, t = b[:, :, perm].copy(), t[:, :, perm].copy()
    b[..., 0] *= -1
    t[..., 0] *= -1
    return x.reshape(len(x), -1, x.shape[-1]), b, t, m[:, :, perm]


def train_motion_net(train_pairs, cfg: NetConfig, *, steps: int = 2000, batch_size: int = 32,
                     window: int = 32, lr: float = 2e-3, seed: int = 0, val_pairs=None,
                     log_every: int = 200) -> tuple[MotionNet, list[dict]]:
    """Train on pairs (dicts from motion_data.make_pairs); returns the net and a history of
    {step, loss, val_mpjpe} in normalised units (fractions of body size)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = MotionNet(cfg)
    model = net.model
    windows = _Windows(train_pairs, model.pad, window, cfg)
    joints = list(cfg.joints)
    perm = [joints.index(BODY_25_FLIP[j]) if BODY_25_FLIP[j] in joints else c
            for c, j in enumerate(joints)]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    history, start = [], time.perf_counter()
    running = []
    for step in range(1, steps + 1):
        model.train()
        x, b, t, m = windows.sample(rng, batch_size)
        if rng.random() < 0.5:
            x, b, t, m = _flip(x, b, t, m, perm, x_features(cfg))
        x, b, t, m = (torch.from_numpy(v) for v in (x, b, t, m))
        pred = combine(b, model(x))
        err = torch.linalg.vector_norm(pred - t, dim=-1)
        loss = (err * m).sum() / m.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running.append(loss.item())
        if step % log_every == 0 or step == steps:
            entry = {"step": step, "loss": float(np.mean(running))}
            running = []
            if val_pairs:
                entry["val_mpjpe"] = evaluate(net, val_pairs)
            history.append(entry)
            log.info("step %d/%d loss %.4f%s (%.0f s)", step, steps, entry["loss"],
                     f" val {entry['val_mpjpe']:.4f}" if "val_mpjpe" in entry else "",
                     time.perf_counter() - start)
    model.eval()
    return net, history


def evaluate(net: MotionNet, pairs) -> float:
    """MPJPE of the net's output in fractions of each sequence's body size (mean over pairs'
    points)."""
    total, count = 0.0, 0
    for p in pairs:
        pred = net.denoise(p["input"], p["observed"])
        _, scale = centre_and_scale(p["input"][..., :2], (p["input"][..., 2] > 0).astype(float))
        mask = (p["target"][..., 2] > 0) & (p["input"][..., 2] > 0)
        err = np.linalg.norm(pred - p["target"][..., :2], axis=-1)[mask] / scale
        total += err.sum()
        count += mask.sum()
    return float(total / max(count, 1))


def train_motion_net_stage(checkpoint, settings: dict, clean: dict, *,
                           threads: int | None = None) -> dict:
    """The train_motion_net stage: train the net as `settings` (the config's `motion_net`
    section) says, save it to `checkpoint` and return the record (the checkpoint holds it too).

    VideoPose3D npz pairs are used when both are given; otherwise the clean `sources` with the
    noise model. With at least 10 sequences, a clip split holds some out to report validation
    error; `clean` (the config's `clean` section) prepares the inputs exactly as cleaning
    will. `threads` caps torch's CPU threads.
    """
    if threads:
        torch.set_num_threads(threads)
    tcfg = settings["training"]
    start = time.perf_counter()
    rng = np.random.default_rng(tcfg["seed"])
    if tcfg["videopose3d_gt"] and tcfg["videopose3d_detections"]:
        named = read_videopose3d_pairs(tcfg["videopose3d_gt"], tcfg["videopose3d_detections"])
        joints = SHARED_JOINTS
        names = [n.split("/")[0] for n, _, _ in named]  # hold out by Human3.6M subject
        pairs = pairs_from_detections(named, joints, clean)
        source = "videopose3d npz pairs"
    elif tcfg["sources"]:
        seqs, joints = read_clean_sequences(tcfg["sources"])
        names = [n for n, _ in seqs]
        pairs = None
        source = "clean sequences + noise model"
    else:
        raise PoseAnimateError("no training data for the motion net.", path=checkpoint,
                               fix="set motion_net.training.sources (folders of clean OpenPose "
                                   "JSON or Penn Action labels) or the two videopose3d_* npz "
                                   "files in the config.")
    split = split_by_clip(names, (0.85, 0.15, 0.0)) if len(names) >= 10 else ["train"] * len(names)
    if pairs is None:
        by_split = {k: [s for (_, s), sp in zip(seqs, split) if sp == k] for k in ("train", "val")}
        train = make_pairs(by_split["train"], joints, rng, draws=tcfg["noise_draws"],
                           jitter_range=tcfg["jitter_range"], clean=clean)
        val = make_pairs(by_split["val"], joints, rng, jitter_range=tcfg["jitter_range"],
                         clean=clean)
    else:
        train = [p for p, sp in zip(pairs, split) if sp == "train"]
        val = [p for p, sp in zip(pairs, split) if sp == "val"]
    cfg = NetConfig(joints=list(joints), channels=settings["channels"], depth=settings["depth"])
    net, history = train_motion_net(train, cfg, steps=tcfg["steps"], batch_size=tcfg["batch_size"],
                                    window=tcfg["window"], lr=tcfg["learning_rate"],
                                    seed=tcfg["seed"], val_pairs=val or None)
    record = {"source": source, "sequences": len(names), "train_pairs": len(train),
              "val_pairs": len(val), "frames": int(sum(len(p["target"]) for p in train)),
              "joints": list(joints), "receptive_field": cfg.receptive_field,
              "history": history, "seconds": round(time.perf_counter() - start, 1)}
    save_motion_net(checkpoint, net, {"record": record})
    log.info("motion net trained on %d sequences (%s) in %.0f s -> %s", len(names), source,
             record["seconds"], Path(checkpoint))
    return record
