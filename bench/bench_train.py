"""Training throughput of a renderer family: steps/s, images/s, FLOPs per step, and on a GPU
the achieved fraction of the bf16 matrix peak.

    python bench/bench_train.py                          # edn, tiny preset, 128 px, CPU
    python bench/bench_train.py --family d2g             # d2g, tiny preset
    python bench/bench_train.py --preset full --batch 4  # 512 px, on the GPU when there is one

Batches are synthetic (random poses, frames and, for d2g, IUV and flow): the cost of a step does
not depend on the values. Times are medians over the timed steps. The "bare" line is the
generators alone (forward + backward of the two frames of a step, no discriminators, no
optimiser, for d2g no flow estimate) on the same batch: the step's overhead is the ratio.
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
from pose_animate.renderers import networks
from pose_animate.renderers.d2g import model as d2g
from pose_animate.renderers.d2g.train import TrainStep as D2GStep
from pose_animate.renderers.device import pick_device
from pose_animate.renderers.edn import model as edn
from pose_animate.renderers.edn.train import TrainStep
from pose_animate.renderers.posemap import POSE_CHANNELS, input_channels


def synthetic_batch(batch: int, cond_ch: int, hw, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    pose = (torch.rand((batch, cond_ch) + hw, generator=gen) > 0.97).float()
    img = torch.rand((batch, 3) + hw, generator=gen) * 2 - 1
    return {"cond_prev": pose, "cond": pose.roll(1, dims=3), "img_prev": img, "img": img.flip(3)}


def synthetic_d2g_batch(batch: int, hw, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for tag in ("_prev", ""):
        out[f"pose{tag}"] = (torch.rand((batch, POSE_CHANNELS) + hw, generator=gen) > 0.97).float()
        out[f"img{tag}"] = torch.rand((batch, 3) + hw, generator=gen) * 2 - 1
        out[f"mask{tag}"] = (torch.rand((batch, 1) + hw, generator=gen) > 0.5).float()
        out[f"part{tag}"] = torch.randint(0, 25, (batch,) + hw, generator=gen)
        out[f"uv{tag}"] = torch.rand((batch, 2) + hw, generator=gen)
    out["flow"] = torch.randn((batch, 2) + hw, generator=gen)
    out["valid"] = torch.ones((batch, 1) + hw)
    return out


def d2g_step_flops(trainer: D2GStep, batch: dict) -> dict:
    """FLOPs of one d2g step (static phase over): TransG and the detail generator on two
    frames (forward + backward), the discriminator as for edn."""
    net, device = trainer.net, trainer.device
    n = batch["pose"].shape[0]
    pose = batch["pose"][:1].to(device)
    feats = torch.zeros((1, net.arch.texture_channels) + pose.shape[2:], device=device)
    f_trans = networks.conv_flops(net.trans, pose)
    f_detail = networks.conv_flops(net.detail, torch.cat([feats, pose, pose[:, :3]], 1))
    d_in = torch.cat([torch.cat([pose, pose]), torch.zeros((2, 3) + pose.shape[2:],
                                                           device=device)], 1)
    f_d = networks.conv_flops(trainer.D, d_in)
    return {"TransG": 6 * n * f_trans, "detail": 6 * n * f_detail, "D": 9 * n * f_d}


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
    parser.add_argument("--family", default="edn", choices=["edn", "d2g"])
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
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if args.family == "edn":
        cfg = settings("families.edn", preset=args.preset, size=args.size, device=args.device,
                       use_background=True)
        size, _ = edn.geometry(cfg)
        hw = (size, size)
        trainer = TrainStep(edn.spec(cfg, SimpleNamespace(map_hw=hw)), cfg, device)
        batch = synthetic_batch(args.batch, input_channels(iuv=False, background=True), hw)
        flops, generators = step_flops(trainer, batch), [trainer.G]

        def bare():
            b = {k: v.to(device) for k, v in batch.items()}
            with trainer._autocast():
                prev = trainer.G(b["cond_prev"], b["cond_prev"], torch.zeros_like(b["img"]))
                out = trainer.G(b["cond"], b["cond_prev"], prev)
            (prev.float().mean() + out.float().mean()).backward()
    else:
        cfg = settings("families.d2g", preset=args.preset, size=args.size, device=args.device,
                       static_steps=0)
        size, _ = d2g.geometry(cfg)
        hw = (size, size)
        trainer = D2GStep(d2g.spec(cfg, SimpleNamespace(map_hw=hw)), cfg, device)
        batch = synthetic_d2g_batch(args.batch, hw)
        flops, generators = d2g_step_flops(trainer, batch), [trainer.net]

        def bare():
            b = {k: v.to(device) for k, v in batch.items()}
            poses = torch.cat([b["pose_prev"], b["pose"]])
            with trainer._autocast():
                surface = trainer.net.surface(poses)
                out = trainer.net.details(surface, poses, torch.cat([b["img_prev"], b["img"]]))
            (out["frame"].float().mean() + surface["uv"].float().mean()).backward()

    name = f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""
    precision = "bf16 autocast" if trainer.amp_dtype else "fp32"
    print(f"device {device}{name}, {precision}, {torch.get_num_threads()} threads")
    total = sum(flops.values())
    params = sum(p.numel() for g in generators for p in g.parameters())
    print(f"{args.family} preset {args.preset}: {size}x{size}, batch {args.batch} pairs, "
          f"generators {params / 1e6:.1f} M parameters")
    print("FLOPs per step: " + ", ".join(f"{k} {v / 1e9:.1f} G" for k, v in flops.items())
          + f", total {total / 1e9:.1f} GFLOP")
    if args.flops_only:
        return
    step_s = time_it(lambda: trainer.step(batch), args.steps, sync)
    bare_s = time_it(bare, args.steps, sync)
    images = 2 * args.batch  # two frames (t-1, t) per pair
    print(f"training step: {1 / step_s:.3f} steps/s, {images / step_s:.2f} images/s "
          f"({step_s * 1000:.0f} ms/step)")
    print(f"bare generators fwd+bwd: {bare_s * 1000:.0f} ms; step / bare = "
          f"{step_s / bare_s:.2f}")
    print(f"achieved {total / step_s / 1e12:.3f} TFLOP/s")
    if device.type == "cuda":
        peak = matmul_peak(device, torch.bfloat16)
        print(f"bare bf16 matmul 8192^3: {peak / 1e12:.1f} TFLOP/s; training step achieves "
              f"{total / step_s / peak:.1%} of it")


if __name__ == "__main__":
    main()
