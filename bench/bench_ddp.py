"""Data-parallel training against one process on the same global batch, in the same run.

    .venv/bin/python bench/bench_ddp.py --folder results/subjects/dancer [--family edn]
        [--gpus 2] [--batch 2] [--size 128] [--steps 20] [--threads 2]

The training engine runs the family twice on the dataset folder: one process with batch
gpus x batch, then `gpus` ranks of `batch` each (one per GPU, or CPU processes with gloo where
there is none; the job's threads shared among them). Printed: images/s of each (the engine's
own rate, start-up excluded), their ratio, wall seconds including the ranks' start-up, and how
far apart the two loss curves are (largest relative difference per loss over the steps; the
first steps agree to rounding, see tests/test_distributed.py for why later ones drift).
"""

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pose_animate  # noqa: F401  (first: its OpenMP setting must precede torch)
from pose_animate.core.config import settings
from pose_animate.renderers.engine import train


def run(family, folder, work, cfg, threads):
    start = time.perf_counter()
    record = train(family, [folder], work / "model.pt", work, cfg, name="bench",
                   threads=threads)
    return record, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True, help="a subject's dataset folder")
    parser.add_argument("--family", default="edn", choices=["edn", "d2g"])
    parser.add_argument("--gpus", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2, help="per rank")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("pose_animate").setLevel(logging.WARNING)
    base = {"preset": "tiny", "size": args.size, "steps": args.steps, "workers": 0,
            "log_every": 1, "checkpoint_every": args.steps}
    single_cfg = settings(f"families.{args.family}", {**base, "batch_size": args.batch *
                                                      args.gpus})
    ranks_cfg = settings(f"families.{args.family}", {**base, "batch_size": args.batch,
                                                     "gpus": args.gpus})
    with tempfile.TemporaryDirectory(prefix="bench_ddp_") as tmp:
        one, one_s = run(args.family, args.folder, Path(tmp) / "one", single_cfg, args.threads)
        many, many_s = run(args.family, args.folder, Path(tmp) / "ranks", ranks_cfg,
                           args.threads)
    print(f"{args.family} tiny at {one['size'][1]}x{one['size'][0]}, {args.steps} steps, global "
          f"batch {args.batch * args.gpus}, {one['device']}, {args.threads} threads")
    print(f"  1 process, batch {args.batch * args.gpus}: {one['images_per_s']} images/s, "
          f"{one_s:.1f} s wall")
    print(f"  {args.gpus} ranks, batch {args.batch} each: {many['images_per_s']} images/s, "
          f"{many_s:.1f} s wall (ranks' start-up included); ratio "
          f"{many['images_per_s'] / one['images_per_s']:.2f}")
    losses = [k for k in one["history"][0] if k != "step"]
    drift = {k: max(abs(b[k] - a[k]) / max(abs(a[k]), 1e-8)
                    for a, b in zip(one["history"], many["history"])) for k in losses}
    first = max(abs(many["history"][0][k] - one["history"][0][k]) /
                max(abs(one["history"][0][k]), 1e-8) for k in losses)
    print(f"  loss curves: step 1 within {first:.1e}; largest relative difference over "
          f"{args.steps} steps: " + ", ".join(f"{k} {v:.3f}" for k, v in drift.items()))


if __name__ == "__main__":
    main()
