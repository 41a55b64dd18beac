"""One GPU session's benchmark and check of every renderer family, in one run that ends inside a
time budget with one markdown table (also written to --out).

    # here, without a GPU: a small copy of a subject's dataset folder for the GPU machine
    .venv/bin/python bench/bench_gpu.py --prepare bench/out/gpu_dancer \
        --from /tmp/real/results/subjects/dancer --frames 40 --size 192
    # on the GPU machine (python3 with torch; neither snakemake, mediapipe nor ../shared)
    python3 bench/bench_gpu.py --folder bench/out/gpu_dancer --steps 300 --out gpu_table.md
    # the same code paths on a CPU in seconds (tests/test_bench_gpu.py runs it)
    .venv/bin/python bench/bench_gpu.py --folder DIR --smoke --out table.md

The GPU machine's python3 has no jsonschema (pose_animate.core.config needs it) and no ffmpeg
binary; carry wheels of jsonschema, jsonschema-specifications, referencing and rpds-py (and
imageio-ffmpeg, 28 MiB, for render's own H.264 writer; without one the render rows write their
videos through OpenCV's mp4v encoder and say so).

For every family of the engine (`engine.TRAINING`), at the `full` preset and 512 px, with bf16
autocast and channels_last as the engine runs on CUDA (edn composited over the plate with the
masks weighted up, as the demo trains it; d2g past its static phase, its whole step):
1. the bf16 dense matmul rate of the device, 8192-cube (bench_train.matmul_peak), measured in
   the same run: the peak that the fractions below are of;
2. training throughput of the family's TrainStep on real batches of the folder (its own
   dataset through `engine.batches`): a few batches drawn once and cycled (the step alone; its
   FLOPs counted as bench_train counts them) and the live stream with loader workers as the
   engine feeds it; then variants, each a row against that baseline: cudnn.benchmark, fused
   Adam (the TrainStep's optimizers rebuilt with fused=True over the same param groups), the
   losses left on the device (the step ends in float(loss) per loss, a host sync each: `float`
   is shadowed in the family's train module at run time, no library code is edited; host
   syncs per step are counted with torch.cuda.set_sync_debug_mode), batch x2 and x4, the three
   together, a CUDA graph of the whole step (where the step allows it: the row says why not)
   and torch.compile of the networks. Compile and CUDA graphs run in child processes (a hang,
   a crash or a broken CUDA context stays there); compilation runs while section 4 runs, which
   times nothing, and the children are stopped (SIGSTOP) while anything is timed;
3. rendering at 512x512 with the model trained in 4: `render.render_driving` on the folder's own
   poses (frames, IUV and both videos written), the Animator's frames without file I/O, and the
   network alone (fp32, as render runs it, and under bf16 autocast with channels_last);
4. correctness: `engine.train` on the folder (PASS when the mean reconstruction loss of the last
   10 % of logged steps is 5 % or more below that of the first 10 %), and its model rendered on
   the GPU and on the CPU for a few frames: PASS when the mean |GPU - CPU| is at most 1 level of
   255 and 99.9 % of the values are within 8 levels. Why: both renders are fp32 (the GPU's
   convolutions TF32); one bf16 rounding of a value in -1..1 is at most 2^-9 of it, a quarter of
   a level, and with instance norms renormalising every layer such errors add up through the
   network's ~40 layers and a few frames of temporal chain to about a level on average; the tail
   allows edge pixels where a steep alpha matte (d2g also: its part argmax and the DIS flow of
   its 8-bit static rendering) magnifies a tiny difference. A wrong kernel, layout or weight
   load is off by tens of levels. A bf16-autocast GPU render is shown beside it for scale;
5. a budget (--budget-s): each section gets a share of what is left and is skipped, with a row
   saying so, when that is too little; progress lines carry the time and the seconds used.
"""

import argparse
import collections
import contextlib
import gc
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

STARTED = time.perf_counter()  # the budget counts the imports too
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]
try:
    import pose_animate  # noqa: F401  (first: it sets the OpenMP spin policy before torch)
    import cv2
    import numpy as np
    import torch

    from bench_train import d2g_step_flops, matmul_peak, step_flops, time_it
    from pose_animate.core.atomic import atomic_dir
    from pose_animate.core.config import settings
    from pose_animate.core.errors import PoseAnimateError
    from pose_animate.core.formats import (frame_name, keypoints_name, list_frames, read_flo,
                                           read_image, read_iuv, read_openpose,
                                           read_openpose_folder, write_flo, write_image,
                                           write_iuv, write_openpose)
    from pose_animate.core.videoio import ffmpeg_exe
    from pose_animate.renderers import engine, render
    from pose_animate.renderers.data import heldout_start
    from pose_animate.renderers.edn import model as edn_model
    from pose_animate.renderers.family import Driving
    from pose_animate.renderers.inference import load_model
    from pose_animate.renderers.metrics import resize_flow
    from pose_animate.renderers.posemap import draw_pose
except ModuleNotFoundError as exc:
    if exc.name and exc.name.split(".")[0] in ("mediapipe", "snakemake"):
        raise  # a module of the path imports one at its top: a bug of this script's imports
    sys.exit(f"bench_gpu: python module '{exc.name}' is missing; on the GPU machine carry its "
             "wheels (see this script's docstring).")

FLOPS = {"edn": step_flops, "d2g": d2g_step_flops}  # FLOPs per step, as bench_train counts
RESERVE_S = 4.0  # kept back for the table and the process's end
COMPILE_WEIGHT, GRAPH_WEIGHT = 4.0, 2.5  # their shares of the variants' time (1 each)
CHILD_TIMED_S = 12.0  # a child's timed steps, once it is ready
GRAPH_WHY_NOT = {
    "d2g": "not attempted: the step cannot be captured from outside. Between the two halves of "
           "its forward StaticFlow copies the static renderings to the host and runs OpenCV DIS "
           "(a device-to-host sync and CPU work inside the step), and balanced_cross_entropy "
           "indexes with a boolean mask (data-dependent shapes, another sync); a graph needs "
           "the step split in renderers/d2g/train.py"}
# Where a row sits in its family's part of the table.
RANKS = {"setup": 0, "peak": 1, "baseline": 10, "live": 11, "cudnn": 20, "fused": 21,
         "nosync": 22, "x2": 23, "x4": 24, "combined": 25, "graphs": 26, "compile": 27,
         "render": 30, "frame": 31, "net": 32, "net_bf16": 33, "train": 40, "agree": 41,
         "agree_bf16": 42}


# ---- the small dataset folder for the GPU machine ----------------------------------------

def prepare(out, source, n_frames: int, size: int) -> None:
    """Write the first `n_frames` frames of the dataset folder `source` to `out`, every part the
    families read (renderers.family.DATASET_PARTS) resized alike to `size` px on the long side:
    frames and plate by area, masks by area then thresholded, IUV nearest, flows with their
    vectors scaled, keypoints scaled; the texture atlas as it is."""
    source, out = Path(source), Path(out)
    started = time.perf_counter()
    frames = list_frames(source / "frames")[:n_frames]
    if len(frames) < 3:
        raise PoseAnimateError(f"{len(frames)} frames: the families train on pairs and hold "
                               "the last tenth out.", path=source / "frames",
                               fix="give --frames 3 or more of a longer dataset folder.")
    n = len(frames)
    h, w = read_image(frames[0]).shape[:2]
    scale = size / max(h, w)
    hw = (max(1, round(h * scale)), max(1, round(w * scale)))
    point_scale = np.float32([hw[1] / w, hw[0] / h, 1])

    def fit(img, interpolation):
        return img if img.shape[:2] == hw else cv2.resize(img, hw[::-1],
                                                          interpolation=interpolation)

    written, missing = [], []
    with atomic_dir(out) as tmp:
        for part in ("frames", "openpose_json", "mask", "densepose", "flow", "flow_inv"):
            if (source / part).is_dir():
                (tmp / part).mkdir()
                written.append(part)
            else:
                missing.append(part)
        for t, path in enumerate(frames):
            write_image(tmp / "frames" / frame_name(t), fit(read_image(path), cv2.INTER_AREA))
            people = read_openpose(source / "openpose_json" / keypoints_name(t))
            write_openpose(tmp / "openpose_json" / keypoints_name(t),
                           [p * point_scale for p in people])
            if "mask" in written:
                mask = fit(read_image(source / "mask" / frame_name(t), cv2.IMREAD_GRAYSCALE),
                           cv2.INTER_AREA)
                write_image(tmp / "mask" / frame_name(t), np.where(mask > 127, 255, 0)
                            .astype(np.uint8))
            if "densepose" in written:
                parts, u, v = read_iuv(source / "densepose" / frame_name(t))
                write_iuv(tmp / "densepose" / frame_name(t), *(fit(a, cv2.INTER_NEAREST)
                                                                for a in (parts, u, v)))
        for part in ("flow", "flow_inv"):
            for t in range(n - 1) if part in written else ():
                flow = read_flo(source / part / frame_name(t, ".flo"))
                write_flo(tmp / part / frame_name(t, ".flo"), flow if flow.shape[:2] == hw
                          else resize_flow(flow, hw))
        if (source / "bg.jpg").exists():
            write_image(tmp / "bg.jpg", fit(read_image(source / "bg.jpg"), cv2.INTER_AREA),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            written.append("bg.jpg")
        else:
            missing.append("bg.jpg")
        if (source / "texture.jpg").exists():  # the atlas has one layout at every frame size
            shutil.copyfile(source / "texture.jpg", tmp / "texture.jpg")
            written.append("texture.jpg")
        else:
            missing.append("texture.jpg")
    mib = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(f"prepared {out}: {n} frames of {source}, {w}x{h} -> {hw[1]}x{hw[0]}; "
          f"{', '.join(written)}; {mib:.1f} MiB in {time.perf_counter() - started:.1f} s"
          + (f"; missing in the source: {', '.join(missing)}" if missing else ""), flush=True)


# ---- the parts of a measurement ------------------------------------------------------------

class Clock:
    """The run's budget and its progress lines."""

    def __init__(self, budget_s: float):
        self.budget = budget_s

    def used(self) -> float:
        return time.perf_counter() - STARTED

    def left(self) -> float:
        return self.budget - self.used()

    def until(self, seconds: float) -> float:
        """The perf_counter time `seconds` from now, or where the budget (less the reserve)
        ends if sooner."""
        return time.perf_counter() + max(0.0, min(seconds, self.left() - RESERVE_S))

    def say(self, text: str) -> None:
        print(f"{datetime.now():%H:%M:%S} +{self.used():4.0f}s  {text}", flush=True)


@dataclass
class Row:
    family: str  # "" for the run's own rows
    rank: int  # its place in the family's part of the table (RANKS)
    what: str
    batch: str = ""
    steps_s: float | None = None
    images_s: float | None = None
    ms: float | None = None
    mem_gib: float | None = None
    tflops: float | None = None
    percent: float | None = None
    note: str = ""


def describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, torch.cuda.OutOfMemoryError):  # children may hold memory too
        free, total = torch.cuda.mem_get_info()
        text = f"out of memory ({free / 2**30:.0f} of {total / 2**30:.0f} GiB free on the " \
               f"device, all processes): {text[:120]}"
    return f"{type(exc).__name__}: {text[:240]}"


def family_settings(args, family: str, **overrides) -> dict:
    """The validated families.<family> section the run trains with."""
    values = {"preset": args.preset, "size": args.model_size, "batch_size": args.batch,
              "workers": args.workers, "device": args.device, "seed": 0}
    if family == "edn":  # as the demo trains it: composited over the plate, masks weighted up
        values.update(use_background=True, mask_weight=2.0)
    if family == "d2g":  # past the static phase: the whole step, as bench_train counts it
        values["static_steps"] = 0
    return settings(f"families.{family}", {**values, **overrides})


def warm_up(step, pool, count: int, sync) -> float:
    started = time.perf_counter()
    for i in range(count):
        step(pool[i % len(pool)])
    sync()
    return time.perf_counter() - started


def timed_steps(step, pool, max_steps: int, until: float, sync) -> tuple[int, float]:
    """(steps, seconds) of `step` over the pool's batches in turn until `max_steps` or the
    perf_counter time `until`: one sync at the end only, so that a step without host syncs can
    run ahead of the device."""
    sync()
    started, n = time.perf_counter(), 0
    while n < max_steps:
        step(pool[n % len(pool)])
        n += 1
        if time.perf_counter() >= until:
            break
    sync()
    return n, time.perf_counter() - started


def _keep_tensor(value):
    return value


@contextlib.contextmanager
def losses_on_device(trainer):
    """The step's losses returned as device tensors: its float(loss) calls (a host sync each)
    find this module global before the builtin."""
    module = sys.modules[type(trainer).__module__]
    module.float = _keep_tensor
    try:
        yield
    finally:
        del module.float


@contextlib.contextmanager
def fused_adam(trainer, capturable: bool = False):
    """Every optimizer of the step rebuilt as fused Adam over the same param groups."""
    for name, part in list(vars(trainer).items()):
        if isinstance(part, torch.optim.Optimizer):
            groups = [{k: g[k] for k in ("params", "lr", "betas", "eps", "weight_decay")}
                      for g in part.param_groups]
            setattr(trainer, name, torch.optim.Adam(groups, fused=True, capturable=capturable))
    yield


@contextlib.contextmanager
def capturable_fused_adam(trainer):
    with fused_adam(trainer, capturable=True):
        yield


@contextlib.contextmanager
def cudnn_benchmark(trainer):
    old = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = old


@contextlib.contextmanager
def uncached_autocast(trainer):
    """The step's autocast without its weight-cast cache (what graph capture asks for)."""
    trainer._autocast = lambda: torch.autocast(trainer.device.type, dtype=trainer.amp_dtype,
                                               enabled=trainer.amp_dtype is not None,
                                               cache_enabled=False)
    yield


def compile_targets(trainer) -> list:
    """The networks the step calls: d2g calls its generators through surface() and
    details(), so they (not the D2G module's forward) are compiled."""
    net = getattr(trainer, "net", None)
    if net is not None:
        return [net.trans, net.detail, trainer.D]
    return list(trainer.nets)


def graphed_step(trainer, pool, warmup: int):
    """The step captured once as a CUDA graph on static device copies of a batch: the returned
    step copies a batch into them and replays the graph. Warm-up on a side stream first, as
    torch.cuda.graph asks (optimizer state, workspaces)."""
    static = {k: v.to(trainer.device).contiguous(memory_format=trainer.memory_format)
              if v.dim() == 4 else v.to(trainer.device) for k, v in pool[0].items()}
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(max(1, warmup)):
            trainer.step(static)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        losses = trainer.step(static)

    def replay(batch):
        for k, v in batch.items():
            static[k].copy_(v, non_blocking=True)
        graph.replay()
    return replay, losses


def frame_difference(dir_a: Path, dir_b: Path) -> dict:
    """|a - b| over the frames two renders wrote, in levels of 255."""
    a_paths, b_paths = list_frames(dir_a), list_frames(dir_b)
    if len(a_paths) != len(b_paths) or not a_paths:
        raise ValueError(f"{len(a_paths)} frames against {len(b_paths)}")
    diff = np.concatenate([np.abs(read_image(a).astype(np.int16)
                                  - read_image(b).astype(np.int16)).ravel()
                           for a, b in zip(a_paths, b_paths)])
    return {"max": int(diff.max()), "mean": float(diff.mean()),
            "p999": float(np.percentile(diff, 99.9)), "frames": len(a_paths)}


def agreement(diff: dict) -> bool:
    return diff["mean"] <= 1.0 and diff["p999"] <= 8


class Cv2VideoWriter:
    """render's VideoWriter through OpenCV's own FFmpeg libraries (mp4v), where there is no
    ffmpeg binary."""

    def __init__(self, path, fps: float, **_):
        self.path, self.fps, self._writer = Path(path), fps, None
        self.frames_written = 0

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, frame) -> None:
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"),
                                           self.fps, (w, h))
        self._writer.write(np.ascontiguousarray(frame, np.uint8))
        self.frames_written += 1

    def __exit__(self, *exc):
        if self._writer is not None:
            self._writer.release()
        return False


class Child:
    """This script in a child process (`--child`) for one risky measurement: it prepares
    (compiles, captures), says READY, waits for GO <seconds>, times and says RESULT. In its own
    process group, so that it can be paused, resumed and killed whole (compile workers too)."""

    def __init__(self, name: str, job: dict):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(job)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            bufsize=1, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.started = time.perf_counter()
        self.paused_s, self._paused_at = 0.0, None  # time it was kept stopped
        self.messages = queue.Queue()
        self.tail = collections.deque(maxlen=6)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            tag, _, payload = line.rstrip().partition(" ")
            if tag in ("READY", "RESULT"):
                self.messages.put((tag, json.loads(payload)))
            elif line.strip():
                self.tail.append(line.strip())
                print(f"    [{self.name}] {line.rstrip()}", flush=True)
        self.messages.put(("EXIT", {"error": "exited: " + " / ".join(self.tail)}))

    def expect(self, timeout: float) -> tuple[str, dict]:
        try:
            return self.messages.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return "TIMEOUT", {}

    def signal(self, sig) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        now = time.perf_counter()
        if sig == signal.SIGSTOP and self._paused_at is None:
            self._paused_at = now
        elif sig == signal.SIGCONT and self._paused_at is not None:
            self.paused_s += now - self._paused_at
            self._paused_at = None

    def go(self, seconds: float) -> None:
        self.signal(signal.SIGCONT)
        with contextlib.suppress(OSError):  # it died: its EXIT message says how
            self.proc.stdin.write(f"GO {seconds:.1f}\n")
            self.proc.stdin.flush()

    def kill(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        self.proc.wait()


# ---- the run ---------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args, self.clock = args, Clock(args.budget_s)
        self.device = torch.device(args.device)
        self.cuda = self.device.type == "cuda"
        self.sync = torch.cuda.synchronize if self.cuda else (lambda: None)
        self.folder, self.work = Path(args.folder), Path(args.work)
        self.families = [f for f in args.families.split(",") if f in engine.TRAINING]
        self.skip = set(filter(None, args.skip.split(",")))
        self.rows: list[Row] = []
        self.peak = None  # FLOP/s of the matmul row
        self.base: dict[str, dict] = {}  # per family: its baseline measurement
        self.largest: dict[str, int] = {}  # per family: the largest batch multiple that ran
        self.models: dict[str, Path] = {}  # per family: the model engine.train wrote
        self.children: dict[str, Child] = {}
        self._datas = {}
        try:
            ffmpeg_exe()
            self.ffmpeg = True
        except PoseAnimateError:
            self.ffmpeg = False

    # -- helpers
    def add(self, family: str, key: str, what: str, **fields) -> Row:
        row = Row(family, RANKS[key], what, **fields)
        self.rows.append(row)
        return row

    def free_memory(self) -> None:
        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()

    def reset_peak(self) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()

    def peak_gib(self):
        return torch.cuda.max_memory_allocated() / 2**30 if self.cuda else None

    def count_syncs(self, fn):
        """Host syncs of one call of `fn` (CUDA only)."""
        if not self.cuda:
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                fn()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()
        return sum("synchroniz" in str(w.message) for w in caught)

    def run_dir(self, family: str) -> Path:
        return self.work / "train" / family / "run"

    def data(self, family: str):
        """(the family's SubjectData list, training frames), cached where engine.train caches
        (the run folder's cache/), so that its run and the children find it made."""
        if family not in self._datas:
            cfg = family_settings(self.args, family)
            datas = engine.load_data(family, [self.folder], cfg, self.run_dir(family) / "cache")
            self._datas[family] = (datas, heldout_start(datas[0].n, cfg["heldout_fraction"]))
        return self._datas[family]

    def trainer(self, family: str, cfg: dict):
        model, train_step = engine.TRAINING[family]
        datas, _ = self.data(family)
        engine.seed_all(cfg["seed"])
        return train_step(model.spec(cfg, datas[0]), cfg, self.device, datas)

    def pool(self, family: str, trainer, batch_size: int, count: int) -> list:
        """`count` real batches from the family's dataset through engine.batches."""
        datas, n_train = self.data(family)
        stream = engine.batches(trainer.dataset(datas, [n_train]), batch_size, 0, 0, 0,
                                pin_memory=self.cuda)
        pool = [next(stream) for _ in range(max(1, count))]
        stream.close()
        return pool

    def flops(self, family: str, trainer, batch):
        count = FLOPS.get(family)
        return sum(count(trainer, batch).values()) if count else None

    def measurement(self, trainer, pool, what, n, seconds, flops, warm_s, warmup) -> dict:
        return {"what": what, "batch": len(next(iter(pool[0].values()))), "steps": n,
                "seconds": seconds, "images": trainer.images(pool[0]), "flops": flops,
                "mem": self.peak_gib(), "warm_s": warm_s, "warmup": warmup, "note": ""}

    def row_from(self, family: str, key: str, m: dict) -> Row:
        """A throughput row of a measurement (or of its error), against the baseline."""
        what = m.get("what", key)
        if m.get("error"):
            return self.add(family, key, what, note="error: " + m["error"])
        step_s = m["seconds"] / m["steps"]
        row = self.add(family, key, what, batch=str(m["batch"]), steps_s=1 / step_s,
                       images_s=m["images"] / step_s, ms=1000 * step_s, mem_gib=m["mem"])
        if m["flops"]:
            row.tflops = m["flops"] / step_s / 1e12
            row.percent = 100 * m["flops"] / step_s / self.peak if self.peak else None
        notes = [f"{m['steps']} steps timed after {m['warmup']} warm-up ({m['warm_s']:.1f} s)"]
        if m.get("syncs") is not None:
            notes.append(f"{m['syncs']} host syncs/step")
        base = self.base.get(family)
        if base and base is not m and not base.get("error"):
            base_rate = base["images"] * base["steps"] / base["seconds"]
            notes.append(f"x{row.images_s / base_rate:.2f} images/s vs baseline")
        row.note = "; ".join(notes + [m["note"]] * bool(m["note"]))
        return row

    def guarded(self, family: str, key: str, what: str, work) -> dict:
        """work() as one measurement: any failure (out of memory, a compile error) is its row's
        error, never the run's end."""
        self.clock.say(f"{family}: {what}")
        try:
            m = work()
        except Exception as exc:  # noqa: BLE001  (every failure is a row)
            m = {"what": what, "error": describe(exc)}
            self.clock.say(f"{family}: {what}: {m['error']}")
        self.free_memory()
        return m

    # -- sections
    def setup_rows(self) -> None:
        args = self.args
        if self.cuda:
            props = torch.cuda.get_device_properties(0)
            chip = f"{torch.cuda.get_device_name(0)} ({props.total_memory / 2**30:.0f} GiB)"
            versions = (f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN "
                        f"{torch.backends.cudnn.version()}")
        else:
            chip = f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
            versions = f"torch {torch.__version__}"
        self.chip, self.versions = chip, versions
        frames = len(list_frames(self.folder / "frames"))
        h, w = read_image(list_frames(self.folder / "frames")[0]).shape[:2]
        self.add("", "setup", "run", note=(
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {chip}; {versions}; "
            f"{torch.get_num_threads()} CPU threads; {self.folder.name}: {frames} frames "
            f"{w}x{h}; preset {args.preset} at {args.model_size or 512} px, "
            f"{'bf16 autocast + channels_last' if self.cuda else 'fp32 (CPU)'}; batch "
            f"{args.batch} pairs; loader workers {args.workers}; budget {args.budget_s:.0f} s"
            + ("; SMOKE run (CPU, tiny preset): numbers mean nothing" if args.smoke else "")))

    def peak_row(self) -> None:
        self.clock.say("bf16 matmul peak")
        if self.cuda:
            n, self.peak = 8192, matmul_peak(self.device, torch.bfloat16)
        else:  # a small product, the same arithmetic (bench_train's matmul_peak syncs CUDA)
            n = 256
            a = torch.randn(n, n, dtype=torch.bfloat16)
            b = torch.randn(n, n, dtype=torch.bfloat16)
            self.peak = 2 * n ** 3 / time_it(lambda: a @ b, 3, lambda: None)
        self.add("", "peak", f"bf16 dense matmul {n}^3", tflops=self.peak / 1e12,
                 percent=100.0, note="median of 20 products" if self.cuda else
                 "CPU smoke: a 256-cube product, not a peak")

    def baseline(self, family: str) -> None:
        args = self.args
        self.clock.say(f"{family}: loading the folder at the model's size")
        self.data(family)
        if self.clock.left() < 10 + RESERVE_S:
            self.add(family, "baseline", "baseline", note="skipped: budget spent")
            return
        cfg = family_settings(args, family)
        kept = {}

        def work():
            trainer = self.trainer(family, cfg)
            pool = self.pool(family, trainer, cfg["batch_size"], args.pool)
            flops = self.flops(family, trainer, pool[0])
            warm_s = warm_up(trainer.step, pool, args.warmup, self.sync)
            self.reset_peak()
            n, seconds = timed_steps(trainer.step, pool, args.steps,
                                     self.clock.until(0.07 * args.budget_s), self.sync)
            m = self.measurement(trainer, pool, "baseline: the step on pooled batches", n,
                                 seconds, flops, warm_s, args.warmup)
            m["syncs"] = self.count_syncs(lambda: trainer.step(pool[0]))
            m["note"] = (f"{flops / 1e9:.0f} GFLOP/step; engine defaults (foreach Adam, "
                         "cudnn.benchmark off)" if flops else "")
            if family == "d2g":
                m["note"] += f"; of it StaticFlow (OpenCV DIS on the CPU) " \
                             f"{self.static_flow_ms(trainer, pool[0]):.0f} ms"
            kept["trainer"] = trainer
            return m

        self.base[family] = m = self.guarded(family, "baseline", "baseline", work)
        self.row_from(family, "baseline", m)
        if "live" in self.skip or m.get("error"):
            return

        def live(trainer):
            datas, n_train = self.data(family)
            stream = engine.batches(trainer.dataset(datas, [n_train]), cfg["batch_size"],
                                    args.workers, cfg["seed"], 0, pin_memory=self.cuda)
            last = []

            def step(_):
                last[:] = [next(stream)]
                trainer.step(last[0])
            try:
                warm_s = warm_up(step, [None], args.warmup, self.sync)  # workers start
                self.reset_peak()
                n, seconds = timed_steps(step, [None], args.steps,
                                         self.clock.until(0.03 * args.budget_s), self.sync)
            finally:
                stream.close()
            out = self.measurement(trainer, last, f"live engine.batches stream, "
                                   f"{args.workers} workers", n, seconds, m["flops"], warm_s,
                                   args.warmup)
            out["note"] = "the engine's feed: loader workers, pinned memory"
            return out

        self.row_from(family, "live", self.guarded(family, "live", "live stream",
                                                   lambda: live(kept.pop("trainer"))))

    def static_flow_ms(self, trainer, batch) -> float:
        """d2g's StaticFlow on a batch's static renderings, ms (part of every step)."""
        n = batch["pose"].shape[0]
        poses = torch.cat([batch["pose_prev"], batch["pose"]]).to(self.device)
        with torch.no_grad(), trainer._autocast():
            static = trainer.net.surface(poses)["static"]
        self.sync()
        started = time.perf_counter()
        trainer.flow(static[n:], static[:n])
        self.sync()
        return 1000 * (time.perf_counter() - started)

    def start_compile_children(self) -> None:
        if "compile" in self.skip:
            return
        for family in self.families:
            if self.clock.left() < (15 if self.args.smoke else 120):
                self.add(family, "compile", "torch.compile of the networks",
                         note="skipped: too little budget left to compile")
                continue
            self.clock.say(f"{family}: compiling in a child process (while nothing is timed)")
            self.children[family] = Child(f"compile {family}", {
                "kind": "compile", "family": family, "args": self.child_args()})

    def child_args(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in vars(self.args).items()}

    def pause_children(self, keep=None) -> None:
        for child in self.children.values():
            if child is not keep:
                child.signal(signal.SIGSTOP)

    def resume_children(self) -> None:
        for child in self.children.values():
            child.signal(signal.SIGCONT)

    def correctness(self, family: str) -> None:
        """engine.train on the folder, then its model rendered on the device and the CPU."""
        args = self.args
        base = self.base.get(family, {})
        step_s = base["seconds"] / base["steps"] if base.get("steps") else 1.0
        need = args.train_steps * step_s * 1.5 + 25
        what = f"engine.train, {args.train_steps} steps"
        if "train" in self.skip or self.clock.left() - RESERVE_S < need:
            self.add(family, "train", what, note="skipped: " + (
                "--skip train" if "train" in self.skip else
                f"{self.clock.left():.0f} s left, needs ~{need:.0f} s"))
            return
        steps = args.train_steps
        loss = engine.TRAINING[family][1].LOSSES[0]  # the reconstruction loss
        cfg = family_settings(args, family, steps=steps, log_every=max(1, steps // 40),
                              checkpoint_every=steps, keep_checkpoints=1,
                              **({"static_steps": steps // 2} if family == "d2g" else {}))
        run_dir = self.run_dir(family)
        for stale in ("checkpoints", "tensorboard"):  # a fresh run, not a resumed one
            shutil.rmtree(run_dir / stale, ignore_errors=True)
        model_path = run_dir.parent / "model.pt"
        self.clock.say(f"{family}: {what} (correctness)")
        try:
            record = engine.train(family, [self.folder], model_path, run_dir, cfg,
                                  name=self.folder.name)
        except Exception as exc:  # noqa: BLE001
            self.add(family, "train", what, note="error: " + describe(exc))
            self.free_memory()
            return
        history = record["history"]
        k = max(1, len(history) // 10)
        first = float(np.mean([h[loss] for h in history[:k]]))
        last = float(np.mean([h[loss] for h in history[-k:]]))
        verdict = "PASS" if last <= 0.95 * first else "FAIL"
        self.add(family, "train", what, batch=str(record["batch_size"]),
                 images_s=record["images_per_s"], note=(
                     f"{verdict}: mean {loss} of the first 10 % of logged steps {first:.4f}, "
                     f"of the last 10 % {last:.4f} ({last / first:.2f}x); "
                     f"{record['seconds_this_run']:.0f} s on {record['device']} "
                     f"({record['precision']}), images/s the engine's own (per-step syncs, "
                     "live loader, logging)"
                     + ("; d2g static phase for the first half" if family == "d2g" else "")))
        self.models[family] = model_path
        self.free_memory()
        self.agree(family)

    def driving(self, n: int) -> Path:
        """A driving folder of the folder's first `n` frames and poses (the folder itself
        when that is all of it)."""
        if n >= len(list_frames(self.folder / "frames")):
            return self.folder
        dest = self.work / f"driving_{n}"
        if not dest.exists():
            with atomic_dir(dest) as tmp:
                for part, name in (("frames", frame_name), ("openpose_json", keypoints_name)):
                    (tmp / part).mkdir()
                    for t in range(n):
                        shutil.copyfile(self.folder / part / name(t), tmp / part / name(t))
        return dest

    @contextlib.contextmanager
    def video_writer(self):
        if self.ffmpeg:
            yield
            return
        old, render.VideoWriter = render.VideoWriter, Cv2VideoWriter
        try:
            yield
        finally:
            render.VideoWriter = old

    def render(self, family: str, driving: Path, dest: Path, device: str) -> float:
        """render.render_driving of the family's model onto `driving`; seconds."""
        shutil.rmtree(dest, ignore_errors=True)
        started = time.perf_counter()
        with self.video_writer():
            render.render_driving(self.models[family], driving / "openpose_json",
                                  driving / "frames", dest / "frames", dest / "iuv",
                                  dest / "video.mp4", dest / "compare.mp4", settings("render"),
                                  fps=25.0, device=device,
                                  # the reference a dataset family (gfla) animates
                                  source=(driving / "frames", driving / "openpose_json", 0))
        return time.perf_counter() - started

    def agree(self, family: str) -> None:
        args = self.args
        n = args.agree_frames
        what = f"render on {self.device.type} vs CPU, {n} frames"
        need = 20 + 5 * n
        if "agree" in self.skip or self.clock.left() - RESERVE_S < need:
            self.add(family, "agree", what, note="skipped: " + (
                "--skip agree" if "agree" in self.skip else
                f"{self.clock.left():.0f} s left, needs ~{need:.0f} s"))
            return
        self.clock.say(f"{family}: {what}")
        out = self.work / "agree" / family
        try:
            driving = self.driving(n)
            self.render(family, driving, out / "device", self.device.type)
            self.render(family, driving, out / "cpu", "cpu")
            diff = frame_difference(out / "device" / "frames", out / "cpu" / "frames")
        except Exception as exc:  # noqa: BLE001
            self.add(family, "agree", what, note="error: " + describe(exc))
            return
        self.add(family, "agree", what, note=(
            f"{'PASS' if agreement(diff) else 'FAIL'}: abs({self.device.type} - cpu) max "
            f"{diff['max']}, mean {diff['mean']:.3f}, 99.9 % within {diff['p999']:.1f} levels "
            "of 255 (PASS: mean <= 1, 99.9 % <= 8; both fp32, the GPU's convolutions TF32)"
            + ("; smoke: both on the CPU" if not self.cuda else "")))
        if not self.cuda:
            self.add(family, "agree_bf16", "render under bf16 autocast vs CPU (for scale)",
                     note="skipped: needs CUDA")
            return
        try:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                self.render(family, driving, out / "bf16", "cuda")
            ref = frame_difference(out / "bf16" / "frames", out / "cpu" / "frames")
            note = (f"abs(bf16 - cpu) max {ref['max']}, mean {ref['mean']:.3f}, 99.9 % within "
                    f"{ref['p999']:.1f} levels ({'within' if agreement(ref) else 'outside'} "
                    "the same thresholds)")
        except Exception as exc:  # noqa: BLE001
            note = "error: " + describe(exc)
        self.add(family, "agree_bf16", "render under bf16 autocast vs CPU (for scale)",
                 note=note)
        self.free_memory()

    def render_speed(self, family: str) -> None:
        args = self.args
        if family not in self.models:
            self.add(family, "render", "render_driving", note="skipped: no model (the "
                                                              "correctness run did not train one)")
            return
        frames = len(list_frames(self.folder / "frames"))
        n = min(args.render_frames or frames, frames)
        need = 10 + 0.3 * n
        if "render" in self.skip or self.clock.left() - RESERVE_S < need:
            self.add(family, "render", f"render_driving, {n} frames", note="skipped: " + (
                "--skip render" if "render" in self.skip else
                f"{self.clock.left():.0f} s left, needs ~{need:.0f} s"))
            return
        self.clock.say(f"{family}: rendering {n} frames")
        try:
            driving = self.driving(n)
            started = time.perf_counter()
            _, animator = load_model(self.models[family], self.device.type)
            load_s = time.perf_counter() - started
            seconds = self.render(family, driving, self.work / "render" / family,
                                  self.device.type)
            video = "H.264 (ffmpeg)" if self.ffmpeg else \
                "mp4v through OpenCV (no ffmpeg binary here)"
            steady = max(1e-9, seconds - load_s)
            self.add(family, "render", f"render_driving, {n} frames, I/O included",
                     images_s=n / steady, ms=1000 * steady / n, note=(
                         f"frames/s after the model's load ({load_s:.1f} s; {n / seconds:.1f} "
                         f"frames/s with it): PNG frames{', IUV' if family == 'd2g' else ''}, "
                         f"video.mp4 and compare.mp4 in {video}"))
            poses = [p for p in render.fill_missing(
                read_openpose_folder(driving / "openpose_json"), "hold") if p is not None]
            if not poses:
                return
            if getattr(animator, "NEEDS_SOURCE", False):
                animator.set_source(*render.read_source(
                    driving / "frames", driving / "openpose_json", 0,
                    *(p if p.exists() else None for p in (driving / "densepose",
                                                          driving / "bg.jpg"))))
            animator.reset()
            animator.frame(Driving(poses[0]))
            started = time.perf_counter()
            for person in poses:
                animator.frame(Driving(person))
            frame_s = (time.perf_counter() - started) / len(poses)
            self.add(family, "frame", "Animator.frame, no file I/O", images_s=1 / frame_s,
                     ms=1000 * frame_s, note="pose map, network, host copy"
                     + (", DIS flow on the CPU" if family == "d2g" else ""))
            self.network_rows(family, animator, poses[0], len(poses))
        except Exception as exc:  # noqa: BLE001
            self.add(family, "render", "render_driving", note="error: " + describe(exc))
        self.free_memory()

    def network_rows(self, family: str, animator, person, n: int) -> None:
        """The family's networks alone for one frame, as its Animator runs them."""
        device = self.device
        if family == "edn":
            cond = torch.from_numpy(edn_model.conditioning(
                person, animator.frame_hw, animator.map_hw, None, animator.background))[None]
            inputs = [cond.to(device), cond.to(device),
                      torch.zeros((1, 3) + animator.map_hw, device=device)]
            nets = [animator.G]

            def forward(x):
                return animator.G(*x)
        elif family == "d2g":
            pose = torch.from_numpy(draw_pose(person, animator.frame_hw, animator.map_hw))[None]
            inputs = [pose.to(device), torch.zeros((1, 3) + animator.map_hw, device=device)]
            nets = [animator.net]

            def forward(x):
                return animator.net.details(animator.net.surface(x[0]), x[0], x[1])
        else:
            return

        def per_frame(x) -> float:
            with torch.no_grad():
                forward(x)
                self.sync()
                started = time.perf_counter()
                for _ in range(n):
                    forward(x)
                self.sync()
            return (time.perf_counter() - started) / n

        seconds = per_frame(inputs)
        self.add(family, "net", "network only, fp32 (as render runs it)", images_s=1 / seconds,
                 ms=1000 * seconds, note=f"{n} frames, batch 1, no host copies"
                 + ("" if family == "edn" else ", previous frame not warped"))
        if not self.cuda:
            self.add(family, "net_bf16", "network only, bf16 autocast + channels_last",
                     note="skipped: needs CUDA")
            return
        for net in nets:
            net.to(memory_format=torch.channels_last)
        inputs = [x.contiguous(memory_format=torch.channels_last) for x in inputs]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            seconds_bf16 = per_frame(inputs)
        self.add(family, "net_bf16", "network only, bf16 autocast + channels_last",
                 images_s=1 / seconds_bf16, ms=1000 * seconds_bf16,
                 note=f"x{seconds / seconds_bf16:.2f} vs fp32: what render could gain")

    def variant_jobs(self) -> list[tuple]:
        """(family, key, label, weight, least seconds, batch multiple, patches) in the order
        they run: the cheap switches first, then larger batches, then all together."""
        small = 0 if self.args.smoke else 6
        jobs = []
        for family in self.families:
            jobs += [(family, "cudnn", "cudnn.benchmark on", 1, small, 1, [cudnn_benchmark]),
                     (family, "fused", "fused Adam (same param groups)", 1, small, 1,
                      [fused_adam]),
                     (family, "nosync", "losses left on the device (float shadowed)", 1, small,
                      1, [losses_on_device])]
        for mult in (2, 4):
            jobs += [(f, f"x{mult}", f"batch x{mult}", 1, small, mult, []) for f in self.families]
        jobs += [(f, "combined", "cudnn.benchmark + fused Adam + losses on device", 1, small,
                  None, [cudnn_benchmark, fused_adam, losses_on_device]) for f in self.families]
        return [j for j in jobs if j[1] not in self.skip and not (
            j[1] in ("x2", "x4") and "batch" in self.skip)]

    def variants(self) -> None:
        jobs = self.variant_jobs()
        graphs = "graphs" not in self.skip
        weights = (sum(j[3] for j in jobs) + GRAPH_WEIGHT * graphs
                   + COMPILE_WEIGHT * len(self.children))
        for family, key, label, weight, least, mult, patches in jobs:
            share = max(0.0, self.clock.left() - RESERVE_S) * weight / weights
            weights -= weight
            if family not in self.base or self.base[family].get("error"):
                self.add(family, key, label, note="skipped: no baseline")
                continue
            if mult is None:
                mult = self.largest.get(family, 1)
                label += f", batch x{mult}"
            if mult == 4 and self.largest.get(family, 1) < 2:
                self.add(family, key, label, note="skipped: batch x2 did not run")
                continue
            if share < least:
                self.add(family, key, label, note=f"skipped: budget ({share:.0f} s for it)")
                continue
            m = self.guarded(family, key, label, lambda: self.variant(
                family, label, mult, patches, time.perf_counter() + share))
            if not m.get("error") and mult > self.largest.get(family, 1):
                self.largest[family] = mult
            self.row_from(family, key, m)
        if graphs:
            self.graph_rows(weights)

    def variant(self, family, label, mult, patches, until) -> dict:
        args = self.args
        cfg = family_settings(args, family, batch_size=args.batch * mult)
        with contextlib.ExitStack() as undo:
            trainer = self.trainer(family, cfg)
            pool = self.pool(family, trainer, cfg["batch_size"], max(2, args.pool // mult))
            flops = self.flops(family, trainer, pool[0])
            for patch in patches:
                undo.enter_context(patch(trainer))
            warm_s = warm_up(trainer.step, pool, args.warmup, self.sync)
            self.reset_peak()
            n, seconds = timed_steps(trainer.step, pool, args.steps,
                                     min(until, self.clock.until(1e9)), self.sync)
            m = self.measurement(trainer, pool, label, n, seconds, flops, warm_s, args.warmup)
            if losses_on_device in patches:
                m["syncs"] = self.count_syncs(lambda: trainer.step(pool[0]))
                m["note"] = "the engine itself still sums float losses every step"
        return m

    def graph_rows(self, weights: float) -> None:
        label = "CUDA graph of the whole step"
        for family in self.families:
            if family in GRAPH_WHY_NOT:
                self.add(family, "graphs", label, note=GRAPH_WHY_NOT[family])
                continue
            if not self.cuda:
                self.add(family, "graphs", label, note="skipped: needs CUDA")
                continue
            share = max(0.0, self.clock.left() - RESERVE_S) * GRAPH_WEIGHT / max(weights, 1e-9)
            if share < 20:
                self.add(family, "graphs", label, note=f"skipped: budget ({share:.0f} s)")
                continue
            self.clock.say(f"{family}: {label} (child process)")
            child = Child(f"graphs {family}", {"kind": "graphs", "family": family,
                                                "args": self.child_args()})
            timed = min(CHILD_TIMED_S, share / 3)
            self.row_from(family, "graphs", self.child_result(
                child, time.perf_counter() + share - timed - 5, timed, label))

    def child_result(self, child: Child, ready_by: float, timed: float, label: str) -> dict:
        """READY by `ready_by` (a perf_counter time), then GO for `timed` seconds, then RESULT
        of a child; its error or a timeout as a measurement."""
        tag, message = child.expect(ready_by - time.perf_counter())
        paused = child.paused_s
        if tag == "READY":
            self.pause_children(keep=child)
            timed = max(1.0, min(timed, self.clock.left() - RESERVE_S - 5))
            child.go(timed)
            tag, message = child.expect(timed + min(30.0, max(5.0, self.clock.left()
                                                                - RESERVE_S - timed)))
        used = time.perf_counter() - child.started
        child.kill()
        if tag == "RESULT" and paused and not message.get("error"):
            message["note"] += f"; {paused:.0f} s of the warm-up paused while the parent timed"
        if tag == "RESULT":
            return message
        if tag == "TIMEOUT":
            return {"what": label, "error": f"not done after {used:.0f} s (killed; last: "
                                            f"{' / '.join(child.tail)[-160:]})"}
        return {"what": label, **message}

    def finish_children(self) -> None:
        """The compile children: resumed, then each timed alone once it is ready."""
        self.resume_children()
        order = list(self.children.items())
        for i, (family, child) in enumerate(order):
            remaining = len(order) - i
            left = self.clock.left() - RESERVE_S
            ready_by = time.perf_counter() + left - (CHILD_TIMED_S + 5) * remaining
            self.clock.say(f"{family}: waiting for torch.compile (up to "
                           f"{max(0.0, ready_by - time.perf_counter()):.0f} s more)")
            m = self.child_result(child, ready_by, CHILD_TIMED_S,
                                  "torch.compile of the networks")
            self.row_from(family, "compile", m)
            self.resume_children()
        self.children.clear()

    def kill_children(self) -> None:
        for child in self.children.values():
            child.kill()
        self.children.clear()

    def table(self) -> str:
        order = {"": -1, **{f: i for i, f in enumerate(self.families)}}
        rows = sorted(self.rows, key=lambda r: (order.get(r.family, 99), r.rank))
        header = ["family", "measurement", "batch", "steps/s", "images/s", "ms", "peak GiB",
                  "TFLOP/s", "% bf16 peak", "notes"]
        lines = [f"## bench_gpu: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {self.chip}, "
                 f"{self.versions}; {self.clock.used():.0f} s of a {self.args.budget_s:.0f} s "
                 "budget", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        for r in rows:
            cells = [r.family or "run", r.what, r.batch, _num(r.steps_s), _num(r.images_s),
                     _num(r.ms), _num(r.mem_gib), _num(r.tflops), _num(r.percent), r.note]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        return "\n".join(lines) + "\n"


def _num(value) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}" if abs(value) >= 0.1 \
        else f"{value:.3g}"


def run(args) -> None:
    bench = Bench(args)
    say = bench.clock.say
    try:
        bench.setup_rows()
        if "peak" not in bench.skip:
            bench.peak_row()
        for family in bench.families:
            bench.baseline(family)
        bench.start_compile_children()  # they compile while the correctness runs
        for family in bench.families:
            bench.correctness(family)
        bench.pause_children()  # nothing competes with what is timed from here
        for family in bench.families:
            bench.render_speed(family)
        bench.variants()
        bench.finish_children()
    except Exception as exc:  # noqa: BLE001  (the table is printed whatever happened)
        bench.add("", "setup", "run stopped", note="error: " + describe(exc))
        say(f"stopped: {describe(exc)}")
    finally:
        bench.kill_children()
    text = bench.table()
    say("done")
    print("\n" + text, flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)


def child_main(args, job: dict) -> None:
    """One compile or CUDA-graph measurement (see Child)."""
    family, kind = job["family"], job["kind"]
    bench = Bench(args)
    label = "torch.compile of the networks" if kind == "compile" else \
        "CUDA graph of the whole step"
    try:
        cfg = family_settings(args, family)
        trainer = bench.trainer(family, cfg)
        pool = bench.pool(family, trainer, cfg["batch_size"], args.pool)
        flops = bench.flops(family, trainer, pool[0])
        started = time.perf_counter()
        with contextlib.ExitStack() as undo:
            if kind == "compile":
                backend = "eager" if args.smoke else "inductor"
                print(f"compiling {family}'s networks ({backend})", flush=True)
                for net in compile_targets(trainer):
                    net.compile(backend=backend)
                step, warmup = trainer.step, args.warmup + 2  # recompiles in the first steps
                note = f"backend {backend}; compile + warm-up included in the warm-up time"
            else:
                for patch in (capturable_fused_adam, losses_on_device, uncached_autocast):
                    undo.enter_context(patch(trainer))
                step, losses = graphed_step(trainer, pool, args.warmup)
                warmup = 2
                note = "capturable fused Adam, losses on device, autocast uncached"
            warm_s = warm_up(step, pool, warmup, bench.sync)
            bench.free_memory()
            print("READY " + json.dumps({"warm_s": warm_s}), flush=True)
            line = sys.stdin.readline().split()
            if not line or line[0] != "GO":
                return
            bench.reset_peak()
            n, seconds = timed_steps(step, pool, args.steps,
                                     time.perf_counter() + float(line[1]), bench.sync)
            m = bench.measurement(trainer, pool, label, n, seconds, flops,
                                  time.perf_counter() - started - seconds, warmup)
            if kind == "graphs":
                finite = all(bool(torch.isfinite(v).all()) for v in losses.values())
                note += f"; losses after replays {'finite' if finite else 'NOT finite'}"
            m["note"] = note
    except Exception as exc:  # noqa: BLE001
        m = {"what": label, "error": describe(exc)}
    print("RESULT " + json.dumps(m), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="a dataset folder (see --prepare)")
    parser.add_argument("--prepare", type=Path, metavar="OUT",
                        help="write a small copy of the dataset folder --from to OUT and stop")
    parser.add_argument("--from", dest="source", type=Path, help="the folder --prepare reads")
    parser.add_argument("--frames", type=int, default=40, help="--prepare: its first N frames")
    parser.add_argument("--size", type=int, default=192,
                        help="--prepare: long side in px (the model upsamples to its own)")
    parser.add_argument("--steps", type=int, default=300, help="most timed steps per row")
    parser.add_argument("--train-steps", type=int, default=120,
                        help="steps of the correctness run through engine.train")
    parser.add_argument("--batch", type=int, default=4, help="pairs per batch (the baseline)")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                        help="loader workers of the live stream and the correctness run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before each row")
    parser.add_argument("--pool", type=int, default=4, help="batches drawn once and cycled")
    parser.add_argument("--agree-frames", type=int, default=4,
                        help="frames rendered on the device and the CPU and compared")
    parser.add_argument("--render-frames", type=int, default=0,
                        help="frames of the render timing (0: all of the folder's)")
    parser.add_argument("--budget-s", type=float, default=480.0)
    parser.add_argument("--families", default=",".join(engine.TRAINING))
    parser.add_argument("--skip", default="", help="comma-separated: peak, live, train, agree, "
                        "render, cudnn, fused, nosync, batch, combined, graphs, compile")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "gpu_work",
                        help="runs, models and renders (rewritten)")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--smoke", action="store_true",
                        help="CPU, tiny preset, 64 px, batch 1, 3 steps, 2 frames: the code "
                             "paths only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        if not args.source:
            parser.error("--prepare needs --from FOLDER")
        prepare(args.prepare, args.source, args.frames, args.size)
        return
    if args.child:
        job = json.loads(args.child)
        vars(args).update(job["args"])
        args.folder, args.work = Path(args.folder), Path(args.work)
        child_main(args, job)
        return
    if not args.folder or not (args.folder / "frames").is_dir():
        parser.error("--folder must be a dataset folder (make one with --prepare)")
    args.preset, args.model_size, args.device = "full", None, "cuda"
    if args.smoke:
        args.preset, args.model_size, args.device = "tiny", 64, "cpu"
        args.steps, args.train_steps, args.warmup, args.pool = 3, 3, 1, 2
        args.batch, args.workers, args.agree_frames, args.render_frames = 1, 0, 2, 2
    elif not torch.cuda.is_available():
        parser.error("no CUDA device here: --smoke runs the CPU check of the code paths")
    args.work.mkdir(parents=True, exist_ok=True)
    run(args)


if __name__ == "__main__":
    main()
