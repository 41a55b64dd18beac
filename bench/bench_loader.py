"""Does data loading keep training fed? The training loader's frames/s against the training
step's frames/s, at a preset's size (the full preset's 512 px by default), in the same run.

    .venv/bin/python bench/bench_loader.py [--family edn] [--preset full] [--folder DIR]
        [--batch 4] [--batches 20] [--steps 1] [--workers 0 2]

DIR is a dataset folder (default: the demo's results/subjects/demo_target, made by
`make demo`); it is decoded and resized once into a temporary cache (timed apart: a training
run does it once, before its first step). Timed then, on this machine's device:
- loader: the engine's own batch stream (`engine.batches`, shuffled, the family's dataset of
  frame pairs and pose maps) for `--batches` batches after one warm-up batch, for each worker
  count: frames/s, a pair counting its two frames as the step does (`TrainStep.images`);
- step: the family's training step (forward, backward, optimiser, both frames of a pair) for
  `--steps` steps after one warm-up step, on a batch from that loader: frames/s.
The ratio loader / step above 1 means the loader keeps up; on a GPU the step is faster and
the ratio says how many workers it needs.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
import pose_animate  # noqa: E402,F401  (first: it sets the OpenMP spin policy before torch)
import torch  # noqa: E402

from pose_animate.core.config import settings  # noqa: E402
from pose_animate.renderers.data import heldout_start  # noqa: E402
from pose_animate.renderers.device import pick_device  # noqa: E402
from pose_animate.renderers.engine import TRAINING, batches, load_data, seed_all  # noqa: E402


def loader_rate(dataset, step_cls, batch: int, workers: int, n: int) -> float:
    stream = batches(dataset, batch, workers, seed=0, start_step=0)
    next(stream)  # workers started, first batch made
    started, frames = time.perf_counter(), 0
    for _ in range(n):
        frames += step_cls.images(next(stream))
    return frames / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="edn", choices=sorted(TRAINING))
    ap.add_argument("--preset", default="full")
    ap.add_argument("--folder", default=str(REPO / "results/subjects/demo_target"))
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = ap.parse_args()
    folder = Path(args.folder)
    if not (folder / "frames").is_dir():
        sys.exit(f"{folder} is not a dataset folder: run `make demo` or pass --folder")
    cfg = settings(f"families.{args.family}", preset=args.preset, batch_size=args.batch)
    _, step_cls = TRAINING[args.family]
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        datas = load_data(args.family, [folder], cfg, cache)
        caching = time.perf_counter() - started
        n_train = heldout_start(datas[0].n, cfg["heldout_fraction"])
        dataset = step_cls.dataset(datas, [n_train])
        h, w = datas[0].map_hw
        device = pick_device(cfg["device"])
        print(f"{args.family} preset {args.preset}: {w}x{h}, batch {args.batch}, device "
              f"{device}, {torch.get_num_threads()} threads; {datas[0].n} frames of {folder} "
              f"cached in {caching:.1f} s")
        rates = {k: loader_rate(dataset, step_cls, args.batch, k, args.batches)
                 for k in args.workers}
        model, _ = TRAINING[args.family]
        seed_all(0)
        step_fn = step_cls(model.spec(cfg, datas[0]), cfg, device, datas)
        batch = next(batches(dataset, args.batch, 0, seed=0, start_step=0))
        step_fn.step(batch)  # warm-up
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step_fn.step(batch)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        step_rate = step_cls.images(batch) / statistics.median(times)
    print(f"training step: {statistics.median(times):.2f} s, {step_rate:.2f} frames/s")
    for k, rate in rates.items():
        print(f"loader, {k} worker(s): {rate:.1f} frames/s; loader / step {rate / step_rate:.1f}")


if __name__ == "__main__":
    main()
