"""The training engine shared by every renderer family.

A family gives its networks and one optimisation step (`<family>/train.py`); the engine does
the rest once for all of them:
- the data: each subject's dataset folder at the model's size (renderers.data, cached); for a
  subject's renderer the last `heldout_fraction` of its frames never enter training;
- the device (the job's GPU, else the CPU), bf16 autocast and channels_last on CUDA (inside the
  family's step), seeding of weights, batches and workers;
- a checkpoint every `checkpoint_every` steps, written atomically; a rerun resumes from the
  last one and reaches the same weights as an uninterrupted run, but only with the same
  model, data and training settings (`checkpoint.resumable`: anything else trains afresh and
  says why);
- TensorBoard (losses, speed, sample grids), a progress bar with rate and ETA, the run's record
  (with the loss history the curves are drawn from) and the model file render and evaluate
  read.
"""

import functools
import random
import time
from pathlib import Path

import numpy as np
import torch

from ..core.errors import PoseAnimateError
from ..core.formats import write_image
from ..core.runlog import log, progress
from . import checkpoint
from .data import SubjectData, heldout_start
from .d2g import model as d2g_model
from .d2g import train as d2g_train
from .device import pick_device
from .distributed import Ranks, launch, world_size
from .edn import model as edn_model
from .edn import train as edn_train
from .families import family as declared
from .gfla import model as gfla_model
from .gfla import train as gfla_train
from .pose2img import model as pose2img_model
from .pose2img import train as pose2img_train

# Per family: (its model module, its training step).
TRAINING = {"edn": (edn_model, edn_train.TrainStep), "d2g": (d2g_model, d2g_train.TrainStep),
            "pose2img": (pose2img_model, pose2img_train.TrainStep),
            "gfla": (gfla_model, gfla_train.TrainStep)}


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _seed_worker(base: int, worker_id: int) -> None:
    seed_all(base + 7919 * worker_id)


def batches(dataset, batch_size, workers, seed, start_step, pin_memory=False,
            ranks: Ranks | None = None):
    """An endless stream of shuffled batches; the order depends only on (seed, epoch), so a
    resumed run sees the batches an uninterrupted one would.

    With several `ranks`, each global batch is what one process of batch_size x world would
    draw, and each rank loads its own slice of it."""
    ranks = ranks or Ranks.single()
    total = batch_size * ranks.world
    per_epoch = max(1, len(dataset) // total)
    skip = start_step % per_epoch
    epoch = start_step // per_epoch
    while True:
        gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = torch.utils.data.DataLoader(
            dataset, batch_sampler=_rank_batches(len(dataset), total, ranks, gen),
            num_workers=workers, pin_memory=pin_memory, generator=gen,
            worker_init_fn=functools.partial(_seed_worker, seed + epoch + 104_729 * ranks.rank))
        for i, batch in enumerate(loader):
            if i >= skip:
                yield batch
        skip = 0
        epoch += 1


def _rank_batches(n: int, total: int, ranks: Ranks, gen: torch.Generator) -> list[list[int]]:
    """One epoch's batches of this rank: the epoch's permutation drawn as
    DataLoader(shuffle=True, generator=gen) draws it (after the one number it takes first for
    its workers' seeds; tests/test_train.py checks the two agree), cut into global batches of
    `total` (the last, partial one dropped), each cut into the ranks' equal slices. A dataset
    smaller than one global batch is one batch in one process; with several ranks it repeats
    items so that every rank gets as many."""
    torch.empty((), dtype=torch.int64).random_(generator=gen)
    order = torch.randperm(n, generator=gen).tolist()
    if n < total and ranks.world > 1:
        order = (order * (total // n + 1))[:total]
    size = min(total, len(order))  # a global batch: all of a small dataset in one process
    share = size // ranks.world
    return [order[start + ranks.rank * share:start + (ranks.rank + 1) * share]
            for start in range(0, len(order) - size + 1, size)]


def load_data(family_name: str, folders, settings: dict, cache_dir) -> list[SubjectData]:
    """The subjects' dataset folders at the family's model size, reading what it needs."""
    model, _ = TRAINING[family_name]
    size, multiple = model.geometry(settings)
    parts = declared(family_name).parts(settings)
    cache_dir = Path(cache_dir)
    caches = [cache_dir] if len(folders) == 1 else [cache_dir / Path(f).name for f in folders]
    datas = []
    for folder, cache in zip(folders, caches):
        try:
            datas.append(SubjectData(folder, parts, size=size, multiple=multiple,
                                     cache_dir=cache))
        except PoseAnimateError as exc:  # name the subject of a dataset's folder
            raise exc.name_job(subject=Path(folder).name) if len(folders) > 1 else exc
    return datas


def train(family_name: str, folders, model_path, run_dir, settings: dict, *,
          name: str | None = None, threads: int | None = None, init=None) -> dict:
    """Train (or resume) a `family_name` model on the dataset folders `folders` (one for a
    subject's renderer, the train subjects' for a dataset family) with `settings` (the
    validated `families.<name>` section); write the model file; return the run's record.
    `init` is a model file of the same family whose weights a fresh run starts from (what
    the family's `TrainStep.init_from` takes of them, e.g. d2g's pretrained TransG).

    `run_dir` holds the frame cache, the checkpoints (`checkpoints/step_NNNNNN.pt`), the
    TensorBoard logs and the latest sample grid; it survives failures so that a rerun resumes.
    With `gpus` above 1, that many ranks train together (renderers.distributed: one per GPU,
    or CPU processes without GPUs), each on batches of `batch_size`, and this process waits
    for them; `threads` are shared among them.
    """
    cuda = pick_device(settings["device"]).type == "cuda"
    world = world_size(settings["gpus"], torch.cuda.device_count() if cuda else 0)
    args = (family_name, folders, model_path, run_dir, settings, name, threads, init)
    if world == 1:
        return _train(Ranks.single(), *args)
    launch(_train, args, world, run_dir, cuda)
    return checkpoint.load(model_path, family_name)["record"]


def _train(ranks: Ranks, family_name, folders, model_path, run_dir, settings, name, threads,
           init) -> dict:
    """One rank's training (all of it in one process)."""
    run_dir, folders = Path(run_dir), [Path(f) for f in folders]
    if threads:
        torch.set_num_threads(max(1, threads // ranks.world))
    model, TrainStep = TRAINING[family_name]
    scope = declared(family_name).scope
    # Rank 0 first: it fills the frame cache and moves stale checkpoints aside alone.
    datas = ranks.first(lambda: load_data(family_name, folders, settings, run_dir / "cache"))
    if scope == "subject":
        n_trains = [heldout_start(d.n, settings["heldout_fraction"]) for d in datas]
        if n_trains[0] < 2:
            raise PoseAnimateError(
                f"only {n_trains[0]} training frame(s) of {datas[0].n}.",
                path=folders[0] / "frames",
                fix="give the subject a longer video (a few hundred frames).")
    else:
        n_trains = [d.n for d in datas]
    spec = model.spec(settings, datas[0])
    signature = datas[0].signature if len(datas) == 1 else "+".join(d.signature for d in datas)
    if init is not None:  # another starting point is another run
        signature += f"+init:{datas[0].digests.signature([init])}"
        if ranks.main:
            datas[0].digests.save()
    ckpt_dir = run_dir / "checkpoints"
    found = ranks.first(lambda: checkpoint.resumable(ckpt_dir, family_name, spec, signature,
                                                     settings))
    state, last = found if found else (None, None)
    device = ranks.device(pick_device(settings["device"]).type == "cuda")
    seed_all(settings["seed"])
    step_fn = TrainStep(spec, settings, device, datas)
    start, history = 0, []
    if state is not None:
        step_fn.load(state["train"])
        start, history = state["step"], state["history"]
        torch.set_rng_state(state["rng"]["torch"])
        log.info("resuming from %s (step %d of %d)", last, start, settings["steps"])
    elif init is not None:
        step_fn.init_from(checkpoint.load(init, family_name)["weights"])
        log.info("starting from the weights of %s", init)
    # The step's networks and optimizers, found rather than declared so that no family can
    # forget one: with several ranks, weights start alike and gradients are averaged.
    parts = vars(step_fn).values()
    ranks.share_weights([p for p in parts if isinstance(p, torch.nn.Module)])
    ranks.average_gradients([p for p in parts if isinstance(p, torch.optim.Optimizer)])
    frames = sum(d.n for d in datas)
    log.info("training %s %s: %d frames (%d for training, %d held out) of %d subject(s), "
             "%dx%d, preset %s, device %s%s%s", family_name, name or folders[0], frames,
             sum(n_trains), frames - sum(n_trains), len(datas), datas[0].map_hw[1],
             datas[0].map_hw[0], settings["preset"], device,
             ", bf16 autocast" if step_fn.amp_dtype else ", fp32",
             f", {ranks.world} ranks of batch {settings['batch_size']}"
             if ranks.world > 1 else "")

    from torch.utils.tensorboard import SummaryWriter  # heavy (tensorboard), training only
    writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start or None) \
        if ranks.main else None
    stream = batches(step_fn.dataset(datas, n_trains), settings["batch_size"],
                     settings["workers"], settings["seed"], start,
                     pin_memory=device.type == "cuda", ranks=ranks)
    t0, cpu0, images_done = time.perf_counter(), time.process_time(), 0
    losses_seen = {k: 0.0 for k in step_fn.LOSSES}
    count = 0

    def save_checkpoint(step_no):
        if not ranks.main:
            return
        checkpoint.save(ckpt_dir / f"step_{step_no:06d}.pt",
                        {"family": family_name, "spec": spec, "data": signature,
                         "settings": checkpoint.training_settings(settings),
                         "step": step_no, "history": history,
                         "rng": {"torch": torch.get_rng_state()}, "name": name,
                         "train": step_fn.state()})
        for old in checkpoint.listed(ckpt_dir)[:-settings["keep_checkpoints"]]:
            old.unlink()
        grid = step_fn.sample_picture()
        writer.add_image("samples", grid[..., ::-1].copy(), step_no, dataformats="HWC")
        write_image(run_dir / "samples_latest.jpg", grid)

    try:
        steps = range(start, settings["steps"])
        bar = progress(steps, total=len(steps), desc="training", unit="step") \
            if ranks.main else None
        for step in bar or steps:
            batch = next(stream)
            try:
                losses = ranks.mean(step_fn.step(batch))
            except torch.cuda.OutOfMemoryError:
                raise PoseAnimateError(
                    f"the GPU ran out of memory at batch_size={settings['batch_size']}, "
                    f"{datas[0].map_hw[1]}x{datas[0].map_hw[0]} px, preset "
                    f"{settings['preset']}.",
                    fix=f"lower families.{family_name}.batch_size (now "
                        f"{settings['batch_size']}), or its size, or use a GPU with more "
                        "memory.")
            images_done += step_fn.images(batch) * ranks.world
            for k in step_fn.LOSSES:
                losses_seen[k] += losses[k]
            count += 1
            done = step + 1
            if done % settings["log_every"] == 0 or done == settings["steps"]:
                means = {k: losses_seen[k] / count for k in step_fn.LOSSES}
                history.append({"step": done, **means})
                rate = images_done / (time.perf_counter() - t0)
                if writer:
                    for k, v in means.items():
                        writer.add_scalar(f"loss/{k}", v, done)
                    writer.add_scalar("speed/images_per_s", rate, done)
                losses_seen = {k: 0.0 for k in step_fn.LOSSES}
                count = 0
                log.info("step %d: %s, %.1f img/s", done,
                         ", ".join(f"{k} {v:.4f}" for k, v in means.items() if v), rate)
            if done % settings["checkpoint_every"] == 0 or done == settings["steps"]:
                save_checkpoint(done)
        if bar:
            bar.close()
    finally:
        if writer:
            writer.close()
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    record = {"family": family_name, "name": name, "subjects": [f.name for f in folders],
              "init": str(init) if init else None,
              "preset": settings["preset"], "steps": settings["steps"],
              "resumed_from_step": start, "device": str(device),
              "world_size": ranks.world, "batch_size": settings["batch_size"],
              "global_batch_size": settings["batch_size"] * ranks.world,
              "precision": "bf16" if step_fn.amp_dtype else "fp32",
              "size": list(datas[0].map_hw), "frames": frames, "training_frames": sum(n_trains),
              "heldout_frames": frames - sum(n_trains), "seconds_this_run": round(seconds, 1),
              "cpu_seconds_this_run": round(cpu_seconds, 1),
              "images_per_s": round(images_done / seconds, 2) if seconds and images_done else None,
              "inputs": spec["inputs"], "final_losses": history[-1] if history else None,
              "history": history, "loss_panels": step_fn.PANELS}
    if not ranks.main:
        return record
    size, multiple = model.geometry(settings)
    extras = {**model.extras(datas[0], n_trains[0], settings), "parts": list(datas[0].parts),
              "size": size, "multiple": multiple,
              "training_frames": n_trains[0] if scope == "subject" else None}
    checkpoint.save(model_path, {"family": family_name, "spec": spec, "name": name,
                                 "step": settings["steps"], "weights": step_fn.weights(),
                                 "extras": extras, "record": record})
    log.info("trained %d steps (%d this run) in %.0f s; model: %s", settings["steps"],
             settings["steps"] - start, seconds, model_path)
    return record
