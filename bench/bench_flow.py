"""Optical flow: end-point error on real ground truth and on the demo clip's exact flow, and the
flow stage's throughput against bare OpenCV DIS on the same frames in the same run.

    .venv/bin/python bench/bench_flow.py [--realdata ../shared/realdata] [--frames 40] [--size 512]
        [--repeats 3] [--presets medium,ultrafast] [--no-epe]
    .venv/bin/python bench/bench_flow.py --method raft [--checkpoint raft-things.pth]
        [--iterations 20] [--learned-frames 6] [--batch-size 4]

- Middlebury RubberWhale (584x388), the mmflow FlyingThings3D-style 50x50 crops (forward and
  backward) and the FlyingChairs crop; EPE in px, unknown ground truth (> 1e9) skipped.
- Synthetic demo clip (pose_animate.synth): exact forward flow, EPE over the whole frame.
- Throughput: the flow stage (forward + backward + consistency masks + .flo/.png writes) vs a
  bare loop (imread gray, DIS forward and backward, cv2.writeOpticalFlow) on the same frames
  of a real video; and the bare loop writing with the stage's own .flo writer (write_flo, which
  is cheaper than cv2.writeOpticalFlow here), so the masks' cost alone shows too. Bare DIS
  uses OpenCV's threads (2); the stage runs as its rule does (2 pair workers, which
  compute_flow runs with cv2.setNumThreads(1)). Ratio = bare time / stage time (goal >=
  0.85), medians of --repeats runs taken in rotating order; the CPU-time ratio is printed
  too, since wall time on a shared machine depends on the other jobs.
- `--method raft|flownet2 [--checkpoint FILE]`: the learned methods. With the published
  weights (`--checkpoint raft-things.pth`, `FlowNet2_checkpoint.pth.tar`, ...), their EPE row
  on the same cases; without, randomly initialised weights in the published layout, for
  throughput only (their EPE would mean nothing and is not printed). Throughput: the flow
  stage with that network (batches, both ways, masks, writes) against the bare network on the
  same pairs (read, pad, forward both ways, crop, cv2.writeOpticalFlow), --learned-frames
  frames at --size, on the GPU when there is one.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.appearance.flow import (DIS_PRESETS, compute_flow, endpoint_error,  # noqa: E402
                                          make_estimator)
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.formats import read_flo, write_flo, write_image  # noqa: E402

METHODS = [("dis", "ultrafast"), ("dis", "fast"), ("dis", "medium"), ("farneback", None),
           ("deepflow", None)]


def pairs(realdata: Path):
    mid = realdata / "optical_flow_gt" / "middlebury_RubberWhale"
    mm = realdata / "optical_flow_gt" / "mmflow_tests_data"
    yield "RubberWhale", mid / "RubberWhale_frame10.png", mid / "RubberWhale_frame11.png", \
        mid / "RubberWhale_flow10_gt.flo"
    yield "things fwd", mm / "0000000-img_0.png", mm / "0000000-img_1.png", \
        mm / "0000000-flow_01.flo"
    yield "things bwd", mm / "0000000-img_1.png", mm / "0000000-img_0.png", \
        mm / "0000000-flow_10.flo"
    yield "chairs", mm / "00001_img1.ppm", mm / "00001_img2.ppm", mm / "00001_flow.flo"


def epe_cases(realdata: Path, synth_frames: int) -> list:
    """(name, frame a, frame b, true flow a -> b) of every case there is; a frame is (BGR,
    gray as the flow stage reads it)."""
    def read(path):
        return cv2.imread(str(path)), cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)

    cases = [(name, read(a), read(b), read_flo(gt))
             for name, a, b, gt in pairs(realdata)] if realdata.is_dir() else []
    try:
        from pose_animate.synth import write_demo
        out = Path(tempfile.mkdtemp(prefix="bench_flow_"))
        write_demo(out, seed=0, n_frames=synth_frames, size=256, fps=12)
        truth = out / "truth"
        for t in range(synth_frames - 1):
            cases.append((f"synth {t}", read(truth / "frames" / f"{t:06d}.png"),
                          read(truth / "frames" / f"{t + 1:06d}.png"),
                          read_flo(truth / "flow" / f"{t:06d}.flo")))
        shutil.rmtree(out)
    except ImportError:
        print("pose_animate.synth is not available: no synthetic measurement")
    return cases


def epe_table(cases: list, learned=None) -> None:
    """EPE per case group of the classical methods, or of `learned` (a LearnedFlow) alone."""
    groups = sorted({c[0].split(" ")[0] if c[0].startswith("synth") else c[0] for c in cases},
                    key=lambda g: [c[0].split(" ")[0] if c[0].startswith("synth") else c[0]
                                   for c in cases].index(g))
    print(f"{'EPE px':18s}" + "".join(f"{g:>13s}" for g in groups) + f"{'ms/pair (RW)':>14s}")
    estimators = [(f"{m} {p or ''}", lambda a, b, e=make_estimator(m, p or "medium"):
                   e(a[1], b[1])) for m, p in METHODS]
    if learned:
        estimators = [(learned.name, lambda a, b: learned.pairs([a[0], b[0]])[0][0])]
    for label, estimate in estimators:
        errors = {g: [] for g in groups}
        ms = None
        for name, a, b, gt in cases:
            start = time.perf_counter()
            flow = estimate(a, b)
            if name == "RubberWhale":
                ms = 1000 * (time.perf_counter() - start)
            group = "synth" if name.startswith("synth") else name
            errors[group].append(endpoint_error(flow, gt))
        print(f"{label:18s}" + "".join(f"{np.mean(errors[g]):13.3f}" for g in groups)
              + (f"{ms:14.1f}" if ms else ""))


def real_frames(video: Path, folder: Path, n: int, size: int) -> Path:
    folder.mkdir(parents=True)
    cap = cv2.VideoCapture(str(video))
    for t in range(n):
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        side = min(h, w)
        crop = frame[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2]
        write_image(folder / f"{t:06d}.png", cv2.resize(crop, (size, size),
                                                        interpolation=cv2.INTER_AREA))
    cap.release()
    return folder


def bare_dis(frames: Path, out: Path, preset: str, write=None) -> None:
    """Read each frame once (gray), DIS forward and backward, write both: `write(path, flow)`,
    by default cv2.writeOpticalFlow."""
    write = write or (lambda path, flow: cv2.writeOpticalFlow(str(path), flow))
    out.mkdir()
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    paths = sorted(frames.glob("*.png"))
    nxt = cv2.imread(str(paths[0]), cv2.IMREAD_GRAYSCALE)
    for t in range(len(paths) - 1):
        cur, nxt = nxt, cv2.imread(str(paths[t + 1]), cv2.IMREAD_GRAYSCALE)
        write(out / f"f{t:06d}.flo", dis.calc(cur, nxt, None))
        write(out / f"b{t:06d}.flo", dis.calc(nxt, cur, None))


def throughput(realdata: Path, n: int, size: int, preset: str, repeats: int):
    work = Path(tempfile.mkdtemp(prefix="bench_flow_tp_"))
    frames = real_frames(realdata / "videos" / "musepose_dance.mp4", work / "frames", n, size)

    def bare(r, write=None, tag="bare"):
        cv2.setNumThreads(2)  # the bare tool with OpenCV's threads over both cores
        bare_dis(frames, work / f"{tag}{r}", preset, write)

    def stage(r):  # compute_flow turns OpenCV's threads off itself: 2 pairs in parallel
        compute_flow(frames, work / f"fwd{r}", work / f"bwd{r}", work / f"valid{r}",
                     settings("flow", preset=preset), workers=2)

    runs = {"bare": bare, "stage": stage,
            "bare_our_writer": lambda r: bare(r, write_flo, "bare_w")}
    times = {name: [] for name in runs}  # (wall, CPU) seconds per run
    for r in range(repeats):
        # Rotate who goes first: none always meets a warm page cache or a quiet machine.
        names = list(runs)[r % 3:] + list(runs)[:r % 3]
        for name in names:
            start, cpu = time.perf_counter(), cpu_seconds()
            runs[name](r)
            times[name].append((time.perf_counter() - start, cpu_seconds() - cpu))
    shutil.rmtree(work)
    pairs_n = n - 1
    wall = {k: float(np.median([w for w, _ in v])) for k, v in times.items()}
    cpu = {k: float(np.median([c for _, c in v])) for k, v in times.items()}
    ratios = [b[0] / s[0] for b, s in zip(times["bare"], times["stage"])]
    print(f"throughput ({pairs_n} pairs of {size}x{size} real frames, DIS {preset}, median of "
          f"{repeats}): bare DIS {pairs_n / wall['bare']:.1f} pairs/s, flow stage "
          f"{pairs_n / wall['stage']:.1f} pairs/s, ratio {wall['bare'] / wall['stage']:.2f} "
          f"(per run {min(ratios):.2f}-{max(ratios):.2f}); CPU seconds bare {cpu['bare']:.2f}, "
          f"stage {cpu['stage']:.2f} (work ratio {cpu['bare'] / cpu['stage']:.2f}); load average "
          f"{os.getloadavg()[0]:.1f}")
    w = "bare_our_writer"
    print(f"  bare DIS writing with pose_animate's write_flo instead of cv2.writeOpticalFlow: "
          f"{pairs_n / wall[w]:.1f} pairs/s, ratio {wall[w] / wall['stage']:.2f}, CPU "
          f"{cpu[w]:.2f} s (work ratio {cpu[w] / cpu['stage']:.2f})")


def cpu_seconds() -> float:
    """CPU time of this process, all threads (robust to other jobs sharing the cores)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def learned_settings(method: str, checkpoint, work: Path, iterations: int, batch: int):
    """The flow settings for a learned method; without a checkpoint, one of randomly
    initialised weights in the published layout (throughput only)."""
    if checkpoint is None:
        import torch

        from pose_animate.appearance.flownet2 import FlowNet2
        from pose_animate.appearance.raft import RAFT
        network = RAFT("large") if method == "raft" else FlowNet2()
        checkpoint = work / f"random_{method}.pth"
        torch.save({f"module.{k}": v for k, v in network.state_dict().items()}, checkpoint)
    return settings("flow", method=method, checkpoint=str(checkpoint), iterations=iterations,
                    batch_size=batch)


def learned_throughput(realdata: Path, cfg: dict, n: int, size: int, work: Path):
    import torch

    from pose_animate.appearance.learned_flow import LearnedFlow, crop, pad_to
    video = realdata / "videos" / "musepose_dance.mp4"
    if not video.is_file():
        print(f"no {video}: no learned-flow throughput")
        return
    frames = real_frames(video, work / "frames", n, size)
    network = LearnedFlow(cfg)

    def bare():
        out = work / "bare"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        paths = sorted(frames.glob("*.png"))
        kwargs = {"iterations": network.iterations} if network.iterations else {}
        with torch.inference_mode():
            for t in range(len(paths) - 1):
                a, b = (torch.from_numpy(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB))
                        .permute(2, 0, 1).float()[None].to(network.device)
                        for p in paths[t:t + 2])
                (one, pads), (two, _) = (pad_to(x, network.multiple, network.minimum)
                                         for x in (torch.cat([a, b]), torch.cat([b, a])))
                flow = crop(network.network(one, two, **kwargs), pads).permute(0, 2, 3, 1)
                flow = flow.float().cpu().numpy()
                cv2.writeOpticalFlow(str(out / f"f{t:06d}.flo"), flow[0])
                cv2.writeOpticalFlow(str(out / f"b{t:06d}.flo"), flow[1])

    def stage():
        shutil.rmtree(work / "stage", ignore_errors=True)
        compute_flow(frames, work / "stage" / "fwd", work / "stage" / "bwd",
                     work / "stage" / "valid", cfg, network=network, workers=2)

    def timed(run):
        if network.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if network.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    timed(bare)  # warm-up: first-call allocations and kernel choices
    bare_s, stage_s = timed(bare), timed(stage)
    pairs_n = n - 1
    print(f"{network.name} throughput ({pairs_n} pairs of {size}x{size} real frames, both ways, "
          f"{network.device.type}, {network.precision}, batch {cfg['batch_size']}"
          + (f", {network.iterations} iterations" if network.iterations else "") + "): "
          f"bare network {pairs_n / bare_s:.3f} pairs/s, flow stage {pairs_n / stage_s:.3f} "
          f"pairs/s, ratio {bare_s / stage_s:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", default=str(Path(__file__).resolve().parents[2] /
                                                  "shared" / "realdata"))
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--synth-frames", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs (median)")
    parser.add_argument("--presets", default="medium,ultrafast",
                        help="DIS presets timed for throughput")
    parser.add_argument("--no-epe", action="store_true", help="throughput only")
    parser.add_argument("--method", choices=["raft", "flownet2"],
                        help="measure a learned method instead of the classical ones")
    parser.add_argument("--checkpoint", help="its published weights (else random: "
                                             "throughput only)")
    parser.add_argument("--iterations", type=int, default=20, help="RAFT's updates")
    parser.add_argument("--batch-size", type=int, default=4, help="pairs per network pass")
    parser.add_argument("--learned-frames", type=int, default=6,
                        help="frames timed for a learned method")
    args = parser.parse_args()
    realdata = Path(args.realdata)
    if args.method:
        work = Path(tempfile.mkdtemp(prefix="bench_flow_learned_"))
        cfg = learned_settings(args.method, args.checkpoint, work, args.iterations,
                               args.batch_size)
        if args.checkpoint and not args.no_epe:
            from pose_animate.appearance.learned_flow import LearnedFlow
            epe_table(epe_cases(realdata, args.synth_frames), LearnedFlow(cfg))
        elif not args.checkpoint:
            print(f"{args.method}: no --checkpoint, random weights: throughput only (an EPE "
                  "of untrained weights means nothing)")
        if realdata.is_dir():
            learned_throughput(realdata, cfg, args.learned_frames, args.size, work)
        shutil.rmtree(work)
        return
    if not args.no_epe:
        epe_table(epe_cases(realdata, args.synth_frames))
    if realdata.is_dir():
        for preset in args.presets.split(","):
            throughput(realdata, args.frames, args.size, preset, args.repeats)


if __name__ == "__main__":
    import logging
    logging.getLogger("pose_animate").setLevel(logging.WARNING)
    main()
