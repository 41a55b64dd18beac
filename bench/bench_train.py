"""Training throughput of the renderer: steps/s, images/s, FLOPs per step, and on a GPU the
achieved fraction of the bf16 matrix peak.

    python bench/bench_train.py                          # tiny preset, 128 px, CPU
    python bench/bench_train.py --preset full --batch 4  # 512 px, on the GPU when there is one

Times are medians over the timed steps. The "bare" line is the generator alone (forward +
backward of the two frames of a step, no discriminators, no optimiser) on the same batch: the
engine's overhead is the ratio of the two.
FLOPs are counted from the convolutions' shapes (2 per multiply-add); a backward pass is
counted as twice its forward. The measured matmul line is the bare bf16 matmul peak of this
device, taken in the same run, so the fraction does not rely on a datasheet.
"""

import argparse
import statistics
import time
from types import SimpleNamespace

# Before torch: importing pose_animate sets GOMP_SPINCOUNT=20000 unless the environment does
# (see its __init__); compare with OMP_WAIT_POLICY=ACTIVE or PASSIVE in the environment.
import pose_animate  # noqa: F401  (first: the OpenMP setting must precede torch)
import torch

from pose_animate.core.config import settings
from pose_animate.renderers.device import pick_device
from pose_animate.renderers import networks
from pose_animate.renderers.edn import model as edn
from pose_animate.renderers.edn.train import TrainStep
from pose_animate.renderers.posemap import input_channels


def synthetic_batch(batch: int, cond_ch: int, hw, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    pose = (torch.rand((batch, cond_ch) + hw, generator=gen) > 0.97).float()
    img = torch.rand((batch, 3) + hw, generator=gen) * 2 - 1
    return {"cond_prev": pose, "cond": pose.roll(1, dims=3), "img_prev": img, "img": img.flip(3)}


def step_flops(trainer: TrainStep, batch: dict) -> dict:
    """FLOPs of one training step, per network (see the module docstring)."""
    device = trainer.device
    n = batch["cond"].shape[0]  # FLOPs grow linearly with the batch: count one item
    cond = batch["cond"][:1].to(device)
    img = batch["img"][:1].to(device)
    f_g = networks.conv_flops(trainer.G, cond, cond, img)
    d_in = torch.cat([torch.cat([cond, cond]), torch.cat([img, img])], 1)
    f_d = networks.conv_flops(trainer.D, d_in)
    f_dt = (networks.conv_flops(trainer.DT, torch.cat([cond, cond, img, img], 1))
            if trainer.DT is not None else 0)
    # G: two frames, forward + backward; D: real + fake in its step, fake again in G's step
    return {"G": 6 * n * f_g, "D": 9 * n * f_d, "DT": 9 * n * f_dt}


def time_it(fn, steps: int, sync) -> float:
    """Median seconds per call (robust to other jobs sharing the machine)."""
    fn()  # warm-up (cudnn autotune, allocator)
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(device, dtype, n: int = 8192, reps: int = 20) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = time_it(lambda: a @ b, reps, torch.cuda.synchronize)
    return 2 * n ** 3 / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", choices=sorted(edn.PRESETS))
    parser.add_argument("--size", type=int, default=None, help="default: the preset's")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=15, help="timed steps (median is shown)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--flops-only", action="store_true",
                        help="count FLOPs per step without timing (e.g. the full preset on a CPU)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    cfg = settings("families.edn", preset=args.preset, size=args.size, device=args.device,
                   use_background=True)
    size, _ = edn.geometry(cfg)
    hw = (size, size)
    cond_ch = input_channels(iuv=False, background=True)
    trainer = TrainStep(edn.spec(cfg, SimpleNamespace(map_hw=hw)), cfg, device)
    batch = synthetic_batch(args.batch, cond_ch, hw)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def bare():
        b = {k: v.to(device) for k, v in batch.items()}
        with trainer._autocast():
            prev = trainer.G(b["cond_prev"], b["cond_prev"], torch.zeros_like(b["img"]))
            out = trainer.G(b["cond"], b["cond_prev"], prev)
        (prev.float().mean() + out.float().mean()).backward()

    name = f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""
    precision = "bf16 autocast" if trainer.amp_dtype else "fp32"
    print(f"device {device}{name}, {precision}, {torch.get_num_threads()} threads")
    flops = step_flops(trainer, batch)
    total = sum(flops.values())
    params = sum(p.numel() for p in trainer.G.parameters())
    print(f"preset {args.preset}: {size}x{size}, batch {args.batch} pairs, G {params / 1e6:.1f} M "
          f"parameters")
    print("FLOPs per step: " + ", ".join(f"{k} {v / 1e9:.1f} G" for k, v in flops.items())
          + f", total {total / 1e9:.1f} GFLOP")
    if args.flops_only:
        return
    step_s = time_it(lambda: trainer.step(batch), args.steps, sync)
    bare_s = time_it(bare, args.steps, sync)
    images = 2 * args.batch  # two frames (t-1, t) per pair
    print(f"training step: {1 / step_s:.3f} steps/s, {images / step_s:.2f} images/s "
          f"({step_s * 1000:.0f} ms/step)")
    print(f"bare generator fwd+bwd: {bare_s * 1000:.0f} ms; step / bare = {step_s / bare_s:.2f}")
    print(f"achieved {total / step_s / 1e12:.3f} TFLOP/s")
    if device.type == "cuda":
        peak = matmul_peak(device, torch.bfloat16)
        print(f"bare bf16 matmul 8192^3: {peak / 1e12:.1f} TFLOP/s; training step achieves "
              f"{total / step_s / peak:.1%} of it")


if __name__ == "__main__":
    main()
