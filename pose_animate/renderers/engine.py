"""Training a subject's renderer from its dataset folder (frames + cleaned keypoints, and the
mask, background plate and IUV when present and configured).

- Frames are decoded once, resized to the model's size and cached as a memory-mapped .npy
  next to the checkpoints (shared by DataLoader workers through the page cache; memory does not
  grow with video length). Pose maps are drawn on the fly.
- The last `heldout_fraction` of the frames never enter training (`evaluate` uses them).
- bf16 autocast and channels_last on CUDA, fp32 on the CPU.
- A checkpoint every `checkpoint_every` steps, written atomically; a rerun resumes from the last
  one. A checkpoint records its preset and inputs: loading it under another gives a clear error.
- TensorBoard logs (losses, sample grids), a progress bar with rate and ETA, seeds.
"""

import functools
import hashlib
import math
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..core.atomic import atomic_file
from ..core.errors import PoseAnimateError
from ..core.formats import read_image, read_iuv, read_openpose_folder, write_image
from ..core.frameseq import FrameSequence
from .edn import model as pix2pixhd
from .posemap import (POSE_CHANNELS, draw_pose, image_to_tensor_layout, input_channels,
                             iuv_channels, model_size, tensor_layout_to_image)
from ..core.runlog import log, progress

CHECKPOINT_FORMAT = 1
LOSS_NAMES = ["G_l1", "G_gan", "G_feat", "G_temporal", "G_vgg", "D_real", "D_fake", "DT"]


def heldout_start(n_frames: int, fraction: float) -> int:
    """Index of the first held-out frame: the last `fraction` of the frames (at least one when
    fraction > 0 and there are two frames or more) never enter training."""
    if fraction <= 0 or n_frames < 2:
        return n_frames
    return n_frames - min(n_frames - 1, max(1, math.ceil(fraction * n_frames)))


def autocast_dtype(device_type: str, bf16_supported: bool):
    """bf16 on a CUDA device that has it, else None (fp32: CPUs and older GPUs)."""
    return torch.bfloat16 if device_type == "cuda" and bf16_supported else None


def pick_device(setting: str = "auto") -> torch.device:
    """`auto`: the first visible CUDA device (see pose_animate.devices), else the CPU."""
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise PoseAnimateError("train.device is 'cuda' but torch sees no CUDA device.",
                               fix="set train.device: auto (or cpu), or install a CUDA build "
                                   "of torch on a GPU machine.")
    return torch.device("cuda")


# ---- the dataset folder ----------------------------------------------------------------

def _files_signature(paths) -> str:
    h = hashlib.sha1()
    for p in paths:
        st = Path(p).stat()
        h.update(f"{Path(p).name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


class SubjectData:
    """A subject's dataset folder at the model's size.

    `cond(t)` is frame t's conditioning map (pose [+ IUV] [+ background]), `image(t)` its frame
    (3, H, W) in -1..1, `mask(t)` its 0/1 mask or None.
    """

    def __init__(self, folder, *, size: int, multiple: int, use_background: bool,
                 use_iuv: bool, use_mask: bool, cache_dir, subject: str | None = None):
        self.folder, self.subject = Path(folder), subject
        frames = FrameSequence(self.folder / "frames", subject)
        self.n = len(frames)
        self.frame_hw = tuple(frames.size)
        self.map_hw = model_size(self.frame_hw, size, multiple)
        try:
            self.keypoints = read_openpose_folder(self.folder / "openpose_json", self.n)
        except PoseAnimateError as exc:
            raise exc.for_subject(subject) if subject else exc
        self.use_background, self.use_iuv = use_background, use_iuv
        self.cache_dir = Path(cache_dir)
        self._images_path = self._cache(frames.paths, "frames", self._load_frame(frames))
        self._masks_path = None
        if use_mask:
            paths = self._dense(self.folder / "mask", ".png", "masks")
            self._masks_path = self._cache(paths, "mask", lambda t: self._resize(
                read_image(paths[t], cv2.IMREAD_GRAYSCALE), cv2.INTER_AREA) > 127)
        self._iuv_path = None
        if use_iuv:
            paths = self._dense(self.folder / "densepose", ".png", "IUV images")
            self._iuv_path = self._cache(paths, "iuv", lambda t: iuv_channels(
                *read_iuv(paths[t]), self.map_hw).transpose(1, 2, 0).astype(np.float16))
        self.background = None
        if use_background:
            bg_path = self.folder / "bg.jpg"
            if not bg_path.exists():
                raise PoseAnimateError("train.use_background is on but the dataset has no "
                                       "background plate.", subject=subject, path=bg_path,
                                       fix="run the background stage, or set "
                                           "train.use_background: false.")
            self.background = image_to_tensor_layout(read_image(bg_path), self.map_hw)
        self._arrays = {}  # opened lazily, so that DataLoader workers open their own maps

    def _load_frame(self, frames: FrameSequence):
        return lambda t: self._resize(frames.read(t), cv2.INTER_AREA)

    def _resize(self, img, interpolation):
        h, w = self.map_hw
        return cv2.resize(img, (w, h), interpolation=interpolation)

    def _dense(self, folder: Path, suffix: str, what: str) -> list[Path]:
        paths = sorted(folder.glob(f"[0-9]*{suffix}")) if folder.is_dir() else []
        if len(paths) != self.n or any(p.name != f"{i:06d}{suffix}" for i, p in enumerate(paths)):
            raise PoseAnimateError(f"{len(paths)} {what} for {self.n} frames (or not named "
                                   f"000000{suffix}... densely).", subject=self.subject,
                                   path=folder, fix="rerun that stage for this subject, or "
                                                    "switch its input off in the train config.")
        return paths

    def _cache(self, paths, name: str, load) -> Path:
        """`name`_HxW_<signature>.npy holding load(t) for every t; built once, atomically."""
        h, w = self.map_hw
        path = self.cache_dir / f"{name}_{h}x{w}_{_files_signature(paths)}.npy"
        if path.exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for old in self.cache_dir.glob(f"{name}_*.npy"):
            old.unlink()
        first = np.asarray(load(0))
        with atomic_file(path) as tmp:
            arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=first.dtype,
                                            shape=(self.n,) + first.shape)
            arr[0] = first
            for t in progress(range(1, self.n), total=self.n - 1, desc=f"caching {name}"):
                arr[t] = load(t)
            arr.flush()
            del arr
        return path

    def _array(self, key: str, path: Path) -> np.ndarray:
        if key not in self._arrays:
            self._arrays[key] = np.load(path, mmap_mode="r")
        return self._arrays[key]

    def __getstate__(self):  # workers started by spawn re-open the maps themselves
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    @property
    def signature(self) -> str:
        """Changes when the frames, keypoints, masks, IUV or plate the model sees change."""
        h = hashlib.sha1(self.keypoints.tobytes())
        for path in (self._images_path, self._masks_path, self._iuv_path):
            h.update(str(path.name if path else None).encode())
        if self.background is not None:
            h.update(self.background.tobytes())
        return h.hexdigest()[:16]

    @property
    def cond_channels(self) -> int:
        return input_channels(self.use_iuv, self.use_background)

    def cond(self, t: int, person=None) -> np.ndarray:
        """Conditioning map of frame t; `person` replaces its keypoints (render, baseline)."""
        person = self.keypoints[t] if person is None else person
        parts = [draw_pose(person, self.frame_hw, self.map_hw)]
        if self.use_iuv:
            parts.append(np.asarray(self._array("iuv", self._iuv_path)[t], np.float32)
                         .transpose(2, 0, 1))
        if self.use_background:
            parts.append(self.background)
        return np.concatenate(parts, axis=0)

    def image_bgr(self, t: int) -> np.ndarray:
        return np.asarray(self._array("images", self._images_path)[t])

    def image(self, t: int) -> np.ndarray:
        return image_to_tensor_layout(self.image_bgr(t), self.map_hw)

    def mask(self, t: int):
        if self._masks_path is None:
            return None
        return np.asarray(self._array("masks", self._masks_path)[t], np.float32)


class PairDataset(torch.utils.data.Dataset):
    """Consecutive training frames (t-1, t), as the temporal model is trained on."""

    def __init__(self, data: SubjectData, n_train: int):
        self.data = data
        self.pairs = [(t - 1, t) for t in range(1, n_train)] or [(0, 0)]

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        a, b = self.pairs[i]
        item = {"cond_prev": self.data.cond(a), "cond": self.data.cond(b),
                "img_prev": self.data.image(a), "img": self.data.image(b)}
        if self.data.mask(a) is not None:
            item["mask_prev"], item["mask"] = self.data.mask(a)[None], self.data.mask(b)[None]
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()}


# ---- checkpoints -------------------------------------------------------------------------

def model_spec(preset_name: str, arch: pix2pixhd.Architecture, size: int,
               data: SubjectData) -> dict:
    """What a checkpoint must match to be loaded: the architecture and the inputs."""
    return {"preset": preset_name, "arch": pix2pixhd.architecture_dict(arch),
            "inputs": {"size": size, "iuv": data.use_iuv, "background": data.use_background,
                       "cond_channels": data.cond_channels, "map_hw": list(data.map_hw)}}


def check_spec(saved: dict, wanted: dict, path) -> None:
    """Raise a clear error when a checkpoint was made with another preset or other inputs."""
    if saved.get("preset") != wanted["preset"] or saved.get("arch") != wanted["arch"]:
        diff = {k: (saved.get("arch", {}).get(k), v) for k, v in wanted["arch"].items()
                if saved.get("arch", {}).get(k) != v}
        raise PoseAnimateError(
            f"checkpoint was trained with preset '{saved.get('preset')}' but the config asks "
            f"for preset '{wanted['preset']}' (differences, saved vs wanted: {diff}).", path=path,
            fix=f"set train.preset: {saved.get('preset')} to continue with it, or delete "
                f"{Path(path).parent} to train the new preset from scratch.")
    if saved.get("inputs") != wanted["inputs"]:
        raise PoseAnimateError(
            f"checkpoint was trained on inputs {saved.get('inputs')} but the config gives "
            f"{wanted['inputs']}.", path=path,
            fix="restore train.use_background / use_iuv / size as they were, or delete the "
                "checkpoint folder to train from scratch.")


def save_checkpoint(path, state: dict) -> None:
    with atomic_file(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise PoseAnimateError(f"cannot read the checkpoint ({exc}).", path=path,
                               fix="delete it; training resumes from the one before it.")
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise PoseAnimateError("not a pose_animate checkpoint (or an older format).", path=path,
                               fix="delete it and train again.")
    return state


def latest_checkpoint(folder) -> Path | None:
    found = sorted(Path(folder).glob("step_*.pt"))
    return found[-1] if found else None


# ---- training ----------------------------------------------------------------------------

def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _seed_worker(base: int, worker_id: int) -> None:
    _seed_all(base + 7919 * worker_id)


def _batches(dataset, batch_size, workers, seed, start_step, pin_memory=False):
    """An endless stream of shuffled batches; the order depends only on (seed, epoch)."""
    per_epoch = max(1, len(dataset) // batch_size)
    skip = start_step % per_epoch
    epoch = start_step // per_epoch
    while True:
        gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, shuffle=True, drop_last=len(dataset) >= batch_size,
            num_workers=workers, generator=gen, pin_memory=pin_memory,
            worker_init_fn=functools.partial(_seed_worker, seed + epoch))
        for i, batch in enumerate(loader):
            if i >= skip:
                yield batch
        skip = 0
        epoch += 1


class Trainer:
    """Everybody Dance Now's training step: frame t-1 from its pose alone (the first frame of
    a render), frame t from its pose, the previous pose and the generated t-1; spatial
    discriminators on each frame, a temporal one on the pair."""

    def __init__(self, arch, cond_channels, background, cfg, device):
        self.cfg, self.device = cfg, device
        self.G, self.D, self.DT = pix2pixhd.build(arch, cond_channels, background)
        self.nets = [n for n in (self.G, self.D, self.DT) if n is not None]
        self.memory_format = (torch.channels_last if device.type == "cuda"
                              else torch.contiguous_format)
        for net in self.nets:
            net.to(device, memory_format=self.memory_format)
        betas = (0.5, 0.999)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        d_params = [p for n in self.nets[1:] for p in n.parameters()]
        self.opt_D = torch.optim.Adam(d_params, lr=cfg["lr"], betas=betas)
        self.vgg = (pix2pixhd.VGG19Loss(cfg["vgg19_weights"]).to(device)
                    if cfg.get("vgg19_weights") else None)
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.amp_dtype = autocast_dtype(device.type, bf16)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype,
                              enabled=self.amp_dtype is not None)

    def state(self) -> dict:
        state = {"G": self.G.state_dict(), "D": self.D.state_dict(),
                 "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict()}
        if self.DT is not None:
            state["DT"] = self.DT.state_dict()
        return state

    def load(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if self.DT is not None:
            self.DT.load_state_dict(state["DT"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])

    def step(self, batch) -> tuple[dict, torch.Tensor]:
        cfg = self.cfg
        b = {k: v.to(self.device, non_blocking=True).to(memory_format=self.memory_format)
             for k, v in batch.items()}
        cond_prev, cond, img_prev, img = b["cond_prev"], b["cond"], b["img_prev"], b["img"]
        with self._autocast():
            fake_prev = self.G(cond_prev, cond_prev, torch.zeros_like(img_prev))
            fake = self.G(cond, cond_prev, fake_prev.detach())
        conds = torch.cat([cond_prev, cond])
        fakes, reals = torch.cat([fake_prev, fake]), torch.cat([img_prev, img])
        pair_cond = torch.cat([cond_prev, cond], dim=1)

        # discriminators
        self.opt_D.zero_grad(set_to_none=True)
        with self._autocast():
            d_real = self.D(torch.cat([conds, reals], 1))
            d_fake = self.D(torch.cat([conds, fakes.detach()], 1))
            loss_d_real, loss_d_fake = pix2pixhd.gan_loss(d_real, True), pix2pixhd.gan_loss(
                d_fake, False)
            loss_d = 0.5 * (loss_d_real + loss_d_fake)
            loss_dt = torch.zeros((), device=self.device)
            if self.DT is not None:
                dt_real = self.DT(torch.cat([pair_cond, img_prev, img], 1))
                dt_fake = self.DT(torch.cat([pair_cond, fake_prev.detach(), fake.detach()], 1))
                loss_dt = 0.5 * (pix2pixhd.gan_loss(dt_real, True)
                                 + pix2pixhd.gan_loss(dt_fake, False))
        (loss_d + cfg["temporal_weight"] * loss_dt).backward()
        self.opt_D.step()

        # generator
        self.opt_G.zero_grad(set_to_none=True)
        with self._autocast():
            weight = 1.0
            if "mask" in b and cfg["mask_weight"]:
                masks = torch.cat([b["mask_prev"], b["mask"]])
                weight = 1 + cfg["mask_weight"] * masks
            l1 = (weight * (fakes.float() - reals.float()).abs()).mean()
            g_fake = self.D(torch.cat([conds, fakes], 1))
            g_gan = pix2pixhd.gan_loss(g_fake, True)
            g_feat = pix2pixhd.feature_matching_loss(g_fake, d_real)
            g_temporal = torch.zeros((), device=self.device)
            if self.DT is not None:
                gt_fake = self.DT(torch.cat([pair_cond, fake_prev, fake], 1))
                g_temporal = (pix2pixhd.gan_loss(gt_fake, True)
                              + pix2pixhd.feature_matching_loss(gt_fake, dt_real))
            g_vgg = self.vgg(fakes.float(), reals.float()) if self.vgg is not None else \
                torch.zeros((), device=self.device)
            loss_g = (cfg["l1_weight"] * l1 + cfg["gan_weight"] * g_gan
                      + cfg["feat_weight"] * g_feat + cfg["temporal_weight"] * g_temporal
                      + cfg["vgg_weight"] * g_vgg)
        loss_g.backward()
        self.opt_G.step()
        losses = {"G_l1": l1, "G_gan": g_gan, "G_feat": g_feat, "G_temporal": g_temporal,
                  "G_vgg": g_vgg, "D_real": loss_d_real, "D_fake": loss_d_fake, "DT": loss_dt}
        return {k: float(v.detach()) for k, v in losses.items()}, fake.detach()


def sample_grid(batch, fake, n: int = 4) -> np.ndarray:
    """BGR uint8 rows of (pose map | generated | real) for the first n items of a batch."""
    rows = []
    for i in range(min(n, fake.shape[0])):
        pose = batch["cond"][i, :POSE_CHANNELS].amax(0).numpy()
        pose_img = np.repeat((pose * 255).astype(np.uint8)[..., None], 3, axis=2)
        generated = tensor_layout_to_image(fake[i].float().cpu().numpy())
        real = tensor_layout_to_image(batch["img"][i].numpy())
        rows.append(np.concatenate([pose_img, generated, real], axis=1))
    return np.concatenate(rows, axis=0)


def train(dataset_dir, model_path, run_dir, cfg: dict, subject: str | None = None,
          threads: int | None = None, curves_path=None, samples_path=None) -> dict:
    """Train (or resume) and write the final model to `model_path`; returns a summary record.

    `run_dir` holds the frame cache, the checkpoints (`checkpoints/step_NNNNNN.pt`) and the
    TensorBoard logs; it survives failures so that a rerun resumes. QA pictures: the loss
    curves (`curves_path`) and the last sample grid (`samples_path`).
    """
    run_dir = Path(run_dir)
    if threads:
        torch.set_num_threads(threads)
    arch = pix2pixhd.preset(cfg["preset"])
    size = cfg.get("size") or arch.size
    data = SubjectData(dataset_dir, size=size, multiple=arch.multiple,
                       use_background=cfg["use_background"], use_iuv=cfg["use_iuv"],
                       use_mask=cfg["mask_weight"] > 0, cache_dir=run_dir / "cache",
                       subject=subject)
    n_train = heldout_start(data.n, cfg["heldout_fraction"])
    if n_train < 2:
        raise PoseAnimateError(f"only {n_train} training frame(s) of {data.n}.", subject=subject,
                               path=Path(dataset_dir) / "frames",
                               fix="give the subject a longer video (a few hundred frames).")
    spec = model_spec(cfg["preset"], arch, size, data)
    ckpt_dir = run_dir / "checkpoints"
    last = latest_checkpoint(ckpt_dir)
    state = load_checkpoint(last) if last is not None else None
    if state is not None:
        check_spec(state["spec"], spec, last)  # before building: a clear error, not a shape one
        if state.get("data") != data.signature:
            # Resuming is for interrupted runs; a changed dataset is trained afresh.
            log.info("the dataset changed since %s: training from scratch", last)
            for old in ckpt_dir.glob("step_*.pt"):
                old.unlink()
            state = None
    device = pick_device(cfg["device"])
    _seed_all(cfg["seed"])
    trainer = Trainer(arch, data.cond_channels, data.use_background, cfg, device)
    start, history = 0, []
    if state is not None:
        trainer.load(state)
        start, history = state["step"], state["history"]
        torch.set_rng_state(state["rng"]["torch"])
        log.info("resuming from %s (step %d of %d)", last, start, cfg["steps"])
    log.info("training %s: %d frames (%d for training, %d held out), %dx%d, preset %s, "
             "device %s%s", subject or dataset_dir, data.n, n_train, data.n - n_train,
             data.map_hw[1], data.map_hw[0], cfg["preset"], device,
             ", bf16 autocast" if trainer.amp_dtype else ", fp32")

    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start or None)
    pairs = PairDataset(data, n_train)
    batches = _batches(pairs, cfg["batch_size"], cfg["workers"], cfg["seed"], start,
                       pin_memory=device.type == "cuda")
    t0, cpu0, images_done = time.perf_counter(), time.process_time(), 0
    running = {k: 0.0 for k in LOSS_NAMES}
    count, step = 0, start

    def checkpoint(step_no, batch, fake):
        save_checkpoint(ckpt_dir / f"step_{step_no:06d}.pt",
                        {"format": CHECKPOINT_FORMAT, "spec": spec, "data": data.signature,
                         "step": step_no,
                         "history": history, "rng": {"torch": torch.get_rng_state()},
                         "subject": subject, **trainer.state()})
        for old in sorted(ckpt_dir.glob("step_*.pt"))[:-cfg["keep_checkpoints"]]:
            old.unlink()
        grid = sample_grid(batch, fake)
        writer.add_image("samples", grid[..., ::-1].copy(), step_no, dataformats="HWC")
        write_image(run_dir / "samples_latest.jpg", grid)

    try:
        bar = progress(range(start, cfg["steps"]), total=cfg["steps"] - start,
                       desc="training", unit="step")
        for step in bar:
            batch = next(batches)
            try:
                losses, fake = trainer.step(batch)
            except torch.cuda.OutOfMemoryError:
                raise PoseAnimateError(
                    f"the GPU ran out of memory at train.batch_size={cfg['batch_size']}, "
                    f"{data.map_hw[1]}x{data.map_hw[0]} px, preset {cfg['preset']}.",
                    subject=subject, fix=f"lower train.batch_size (now {cfg['batch_size']}), "
                                         f"or train.size, or use a GPU with more memory.")
            images_done += 2 * batch["img"].shape[0]
            for k in LOSS_NAMES:
                running[k] += losses[k]
            count += 1
            done = step + 1
            if done % cfg["log_every"] == 0 or done == cfg["steps"]:
                means = {k: running[k] / count for k in LOSS_NAMES}
                history.append({"step": done, **means})
                for k, v in means.items():
                    writer.add_scalar(f"loss/{k}", v, done)
                rate = images_done / (time.perf_counter() - t0)
                writer.add_scalar("speed/images_per_s", rate, done)
                running = {k: 0.0 for k in LOSS_NAMES}
                count = 0
                log.info("step %d: L1 %.4f, GAN %.3f, feat %.3f, D %.3f/%.3f, %.1f img/s",
                         done, means["G_l1"], means["G_gan"], means["G_feat"], means["D_real"],
                         means["D_fake"], rate)
            if done % cfg["checkpoint_every"] == 0 or done == cfg["steps"]:
                checkpoint(done, batch, fake)
        bar.close()
    finally:
        writer.close()
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    record = {"subject": subject, "preset": cfg["preset"], "steps": cfg["steps"],
              "resumed_from_step": start, "device": str(device),
              "precision": "bf16" if trainer.amp_dtype else "fp32",
              "size": list(data.map_hw), "frames": data.n, "training_frames": n_train,
              "heldout_frames": data.n - n_train, "seconds_this_run": round(seconds, 1),
              "cpu_seconds_this_run": round(cpu_seconds, 1),
              "images_per_s": round(images_done / seconds, 2) if seconds and images_done else None,
              "inputs": spec["inputs"], "final_losses": history[-1] if history else None}
    # The model file: what render and evaluate need (the generator, its inputs, the plate).
    save_checkpoint(model_path, {"format": CHECKPOINT_FORMAT, "spec": spec, "step": cfg["steps"],
                                 "history": history, "subject": subject,
                                 "G": trainer.G.state_dict(), "frame_hw": list(data.frame_hw),
                                 "training_frames": n_train, "background": data.background,
                                 "record": record})
    if curves_path:
        plot_curves(history, curves_path)
    if samples_path:
        write_image(samples_path, read_image(run_dir / "samples_latest.jpg"))
    log.info("trained %d steps (%d this run) in %.0f s; model: %s", cfg["steps"],
             cfg["steps"] - start, seconds, model_path)
    return record


def plot_curves(history: list[dict], path) -> None:
    """Training curves (the losses logged every `log_every` steps) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    steps = [h["step"] for h in history]
    for ax, names, title in zip(axes, [["G_l1"], ["G_gan", "G_feat", "G_temporal", "G_vgg"],
                                       ["D_real", "D_fake", "DT"]],
                                ["reconstruction (L1)", "generator adversarial",
                                 "discriminators"]):
        for name in names:
            values = [h[name] for h in history]
            if any(values):
                ax.plot(steps, values, label=name)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
