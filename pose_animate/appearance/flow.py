"""Optical flow between consecutive frames, both directions, with a validity mask.

`flow/t` maps frame t to t+1 (frame t's pixel x moves to x + flow[x]); `flow_inv/t` maps frame
t+1 back to t. Backends: OpenCV DIS (default, preset configurable), Farneback, and the contrib
DeepFlow (slower, more accurate); the learned RAFT and FlowNet2 from local published weights
(learned_flow.py, on the job's GPU); or `.flo` folders made elsewhere, validated and copied.

Validity (forward-backward consistency, Sundaram et al. 2010): a forward vector is kept where
the backward flow at its end point brings it back, |w_f + w_b(x + w_f)|^2 <=
alpha (|w_f|^2 + |w_b(x + w_f)|^2) + beta, and its end point stays inside the frame. Pixels
that fail are occluded or wrongly matched; temporal losses should ignore them.
"""

import collections
import concurrent.futures
import functools
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import atomic_dir
from ..core.config import configured_path
from ..core.draw import contact_sheet, evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, natural_key, read_flo, read_image, write_flo, write_image
from ..core.frameseq import FrameSequence
from ..core.runlog import log, progress

METHODS = ("dis", "farneback", "deepflow")
LEARNED = ("raft", "flownet2")  # pose_animate.appearance.learned_flow
# What flow.checkpoint must be, by learned method.
WEIGHTS = {
    "raft": "a RAFT checkpoint: the authors' raft-things.pth, raft-sintel.pth, raft-kitti.pth "
            "or raft-small.pth, or torchvision's raft_large_*.pth / raft_small_*.pth",
    "flownet2": "NVIDIA flownet2-pytorch's FlowNet2_checkpoint.pth.tar",
}
# Binary masks: run-length PNG encoding is fast and small.
_MASK_PNG = [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
               "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def make_estimator(method: str = "dis", preset: str = "medium"):
    """A function (gray0, gray1) -> (H, W, 2) float32 flow mapping gray0's pixels to gray1."""
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
        return lambda a, b: dis.calc(a, b, None)
    if method == "farneback":
        return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 5, 15, 5, 7, 1.5,
                                                         cv2.OPTFLOW_FARNEBACK_GAUSSIAN)
    if method == "deepflow":
        deep = cv2.optflow.createOptFlow_DeepFlow()
        return lambda a, b: deep.calc(a, b, None)
    raise ValueError(f"unknown flow method {method!r}; one of {METHODS}")


def check_checkpoint(cfg: dict) -> Path:
    """For a learned method, before any job and when the network loads: the weights file
    flow.checkpoint, checked to be there."""
    return configured_path(cfg["checkpoint"], "flow.checkpoint", WEIGHTS[cfg["method"]])


@functools.lru_cache(maxsize=4)
def _pixel_grid(h: int, w: int) -> np.ndarray:
    """(H, W, 2) float32 pixel coordinates (x, y)."""
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32),
                                np.arange(h, dtype=np.float32)), -1)
    grid.flags.writeable = False
    return grid


def _squared_norm(vectors: np.ndarray) -> np.ndarray:
    squares = vectors * vectors
    return squares[..., 0] + squares[..., 1]  # 3x faster than cv2.transform here


_BAND_ROWS = 64


def consistency_u8(fwd: np.ndarray, bwd: np.ndarray, alpha: float = 0.01,
                   beta: float = 0.5) -> np.ndarray:
    """uint8 (H, W): 255 where `fwd` is confirmed by `bwd` (the opposite direction's flow),
    0 where not. Written for speed (it runs twice per frame pair): about 2.4 ms at 512x512.

    Computed in bands of rows so that the temporaries stay in the CPU cache: right after DIS
    and the file writes the cache is cold, and the whole-frame version took twice as long
    (4.6 ms)."""
    h, w = fwd.shape[:2]
    fwd = np.ascontiguousarray(fwd, np.float32)
    bwd = np.ascontiguousarray(bwd, np.float32)
    grid, corner = _pixel_grid(h, w), (float(w - 1), float(h - 1))
    out = np.empty((h, w), np.uint8)
    for y in range(0, h, _BAND_ROWS):
        f = fwd[y:y + _BAND_ROWS]
        end = cv2.add(grid[y:y + _BAND_ROWS], f)
        bwd_at_end = cv2.remap(bwd, end, None, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        tolerance = cv2.addWeighted(_squared_norm(f), alpha, _squared_norm(bwd_at_end), alpha,
                                    beta)
        agree = cv2.compare(_squared_norm(cv2.add(f, bwd_at_end)), tolerance, cv2.CMP_LE)
        cv2.bitwise_and(agree, cv2.inRange(end, (0.0, 0.0), corner), dst=out[y:y + _BAND_ROWS])
    return out


def consistency_mask(fwd: np.ndarray, bwd: np.ndarray, alpha: float = 0.01,
                     beta: float = 0.5) -> np.ndarray:
    """bool (H, W): where `fwd` is confirmed by `bwd` (see the module's docstring)."""
    return consistency_u8(fwd, bwd, alpha, beta) > 0


def endpoint_error(flow: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean end-point error in pixels; GT values above 1e9 (Middlebury 'unknown') are skipped."""
    known = np.all(np.abs(truth) < 1e9, axis=-1)
    if valid is not None:
        known &= valid
    return float(np.linalg.norm(flow - truth, axis=-1)[known].mean())


def _colour_wheel() -> np.ndarray:
    """The Middlebury colour wheel (Baker et al. 2007): 55 hues, RGB 0..255."""
    segments = [(15, (255, 0, 0), (255, 255, 0)), (6, (255, 255, 0), (0, 255, 0)),
                (4, (0, 255, 0), (0, 255, 255)), (11, (0, 255, 255), (0, 0, 255)),
                (13, (0, 0, 255), (255, 0, 255)), (6, (255, 0, 255), (255, 0, 0))]
    rows = []
    for n, a, b in segments:
        f = np.arange(n)[:, None] / n
        rows.append((1 - f) * np.array(a) + f * np.array(b))
    return np.floor(np.concatenate(rows)).astype(np.float32)


_WHEEL = _colour_wheel()


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """BGR uint8 picture of a flow in the Middlebury colour coding (hue = direction,
    saturation = speed relative to `max_magnitude`, default the largest known vector)."""
    flow = np.where(np.abs(flow) < 1e9, flow, 0).astype(np.float32)
    u, v = flow[..., 0], flow[..., 1]
    rad = np.sqrt(u ** 2 + v ** 2)
    scale = max_magnitude or max(float(rad.max()), 1e-6)
    u, v, rad = u / scale, v / scale, rad / scale
    angle = np.arctan2(-v, -u) / np.pi
    pos = (angle + 1) / 2 * (len(_WHEEL) - 1)
    k0 = np.floor(pos).astype(int)
    k1 = (k0 + 1) % len(_WHEEL)
    f = (pos - k0)[..., None]
    col = ((1 - f) * _WHEEL[k0] + f * _WHEEL[k1]) / 255
    r = np.minimum(rad, 1)[..., None]
    col = np.where(rad[..., None] <= 1, 1 - r * (1 - col), col * 0.75)
    return np.ascontiguousarray((col * 255).astype(np.uint8)[..., ::-1])


def compute_flow(frames, fwd_dir, bwd_dir, valid_dir, settings: dict, *, source=None,
                 network=None, workers: int = 2) -> dict:
    """The flow stage: flow for every consecutive pair of `frames`: `fwd_dir/t.flo`
    (t -> t+1), `bwd_dir/t.flo` (t+1 -> t), and `valid_dir/fwd/t.png`, `valid_dir/bwd/t.png`
    (255 = consistent, 0 = occluded or unreliable). All three folders appear atomically.
    Returns the record.

    `settings` is the config's `flow` section. With `method: import`, `source` (the rule's
    import input: a folder holding `flow/` and `flow_inv/` of `.flo` files made elsewhere)
    is validated and copied instead of computed; validity is computed. With `raft` or
    `flownet2`, `network` is the `learned_flow.LearnedFlow` to run on batches of pairs (the
    caller builds it from the same settings, so that this module needs no torch). `workers`
    frame pairs are estimated (classical methods) and written at once.
    """
    method = settings["method"]
    alpha, beta = settings["alpha"], settings["beta"]
    seq = FrameSequence(frames)
    n_pairs = len(seq) - 1
    start = time.perf_counter()
    if (network is not None) != (method in LEARNED):
        raise ValueError(f"flow.method {method!r} with network={network!r}: a LearnedFlow "
                         f"goes with the methods {LEARNED} and only with them")
    if method == "import":
        if not source:
            raise PoseAnimateError("flow.method is 'import' but no folder to import was given.",
                                   fix="set flow.import_dir to a folder holding flow/ and "
                                       "flow_inv/ ({subject} is replaced by the subject's "
                                       "name).")
        jobs = _imported_jobs(_ImportedFlow(source, n_pairs, seq.size), n_pairs)
    elif method in LEARNED:
        jobs = _learned_jobs(network, seq, settings["batch_size"])
    else:
        make_estimator(method, settings["preset"])  # an unknown method fails here, early
        jobs = _classical_jobs(seq, method, settings["preset"])

    def one_pair(t, job, f_dir, b_dir, v_dir):
        fwd, bwd = job()
        write_flo(f_dir / frame_name(t, ".flo"), fwd)
        write_flo(b_dir / frame_name(t, ".flo"), bwd)
        ok_f = consistency_u8(fwd, bwd, alpha, beta)
        ok_b = consistency_u8(bwd, fwd, alpha, beta)
        write_image(v_dir / "fwd" / frame_name(t), ok_f, _MASK_PNG)
        write_image(v_dir / "bwd" / frame_name(t), ok_b, _MASK_PNG)
        speed = float(cv2.norm(fwd[::4, ::4], cv2.NORM_L2SQR) / fwd[::4, ::4, 0].size) ** 0.5
        return cv2.countNonZero(ok_f) / ok_f.size, cv2.countNonZero(ok_b) / ok_b.size, speed

    # Whole pairs run in parallel threads, one estimator each (OpenCV releases the GIL): with
    # OpenCV's own threads off this uses the cores better than DIS's own threading does
    # (bench/bench_flow.py). The process-wide setting is put back afterwards.
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    stats = []
    try:
        with atomic_dir(fwd_dir) as f_tmp, atomic_dir(bwd_dir) as b_tmp, \
                atomic_dir(valid_dir) as v_tmp, \
                concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
            (v_tmp / "fwd").mkdir()
            (v_tmp / "bwd").mkdir()
            pending = collections.deque()  # bounded: memory does not grow with video length
            for t, job in progress(jobs, total=n_pairs, desc="flow", unit="pair"):
                pending.append(pool.submit(one_pair, t, job, f_tmp, b_tmp, v_tmp))
                if len(pending) >= 2 * max(1, workers):
                    stats.append(pending.popleft().result())
            stats += [p.result() for p in pending]
    finally:
        cv2.setNumThreads(opencv_threads)
    valid_frac = [s[:2] for s in stats]
    magnitude = [s[2] for s in stats]
    seconds = time.perf_counter() - start
    summary = {
        "backend": method,
        "preset": settings["preset"] if method == "dis" else None,
        "network": None if network is None else {
            "name": network.name, "checkpoint": str(settings["checkpoint"]),
            "iterations": network.iterations, "device": network.device.type,
            "precision": network.precision, "batch_size": settings["batch_size"]},
        "imported_from": str(source) if method == "import" else None,
        "pairs": n_pairs, "size": list(seq.size),
        "valid_fraction_fwd": round(float(np.mean([v[0] for v in valid_frac])), 4)
        if valid_frac else None,
        "valid_fraction_bwd": round(float(np.mean([v[1] for v in valid_frac])), 4)
        if valid_frac else None,
        "rms_speed_px": round(float(np.mean(magnitude)), 3) if magnitude else None,
        "consistency": {"alpha": alpha, "beta": beta},
        "seconds": round(seconds, 2),
        "pairs_per_second": round(n_pairs / seconds, 2) if seconds > 0 else None,
    }
    log.info("flow: %d pairs (%s) in %.1f s; forward-backward consistent on %.1f%% of pixels",
             n_pairs, network.name if network else method, seconds,
             100 * (summary["valid_fraction_fwd"] or 0))
    return summary


# Each *_jobs generator yields (t, job) in pair order, job() -> (forward, backward) flow; the
# stage runs the jobs in its thread pool, with the file writes.

def _classical_jobs(seq, method, preset):
    """OpenCV estimates, one per thread (a job runs in the pool's thread that takes it)."""
    local = threading.local()

    def estimate(cur, nxt):
        if not hasattr(local, "estimate"):
            local.estimate = make_estimator(method, preset)
        return local.estimate(cur, nxt), local.estimate(nxt, cur)

    nxt = seq.read(0, gray=True)
    for t in range(len(seq) - 1):
        cur, nxt = nxt, seq.read(t + 1, gray=True)  # each frame read once, size-checked
        yield t, functools.partial(estimate, cur, nxt)


def _learned_jobs(network, seq, batch_size):
    """The network's pairs, `batch_size` pairs per pass (run here, jobs only hand them on)."""
    frames = [seq.read(0)]
    for t in range(len(seq) - 1):
        frames.append(seq.read(t + 1))
        if len(frames) == batch_size + 1 or t == len(seq) - 2:
            first = t + 2 - len(frames)
            for k, pair in enumerate(network.pairs(frames)):
                yield first + k, (lambda ready=pair: ready)
            frames = frames[-1:]


def _imported_jobs(imported, n_pairs):
    for t in range(n_pairs):
        yield t, functools.partial(imported.pair, t)


class _ImportedFlow:
    """`.flo` files made elsewhere: `root/flow/` and `root/flow_inv/`, one per frame pair,
    in natural name order, each the frames' size with finite values."""

    def __init__(self, root, n_pairs, size):
        root = Path(root)
        self.size = size
        self.files = {}
        for name in ("flow", "flow_inv"):
            folder = root / name
            if not folder.is_dir():
                raise PoseAnimateError(f"the flow import folder has no '{name}/' folder.",
                                       path=root,
                                       fix="put forward .flo files in flow/ and backward ones "
                                           "in flow_inv/, one per consecutive frame pair.")
            files = sorted(folder.glob("*.flo"), key=natural_key)
            if len(files) != n_pairs:
                raise PoseAnimateError(
                    f"{len(files)} .flo files for {n_pairs + 1} frames ({n_pairs} pairs).",
                    path=folder,
                    fix="import flow made from exactly these frames (one file per pair).")
            self.files[name] = files

    def _read(self, path):
        flow = read_flo(path)
        if flow.shape[:2] != tuple(self.size):
            raise PoseAnimateError(
                f"flow is {flow.shape[1]}x{flow.shape[0]} but the frames are "
                f"{self.size[1]}x{self.size[0]}.", path=path,
                fix="compute the imported flow on the extracted frames (same crop and size).")
        if not np.isfinite(flow).all() or (np.abs(flow) > 1e9).any():
            raise PoseAnimateError("flow holds NaN, infinite or 'unknown' (>1e9) values.",
                                   path=path,
                                   fix="fill unknown vectors before importing.")
        return flow

    def pair(self, t):
        return self._read(self.files["flow"][t]), self._read(self.files["flow_inv"][t])


def flow_sheet(frames, fwd_dir, valid_dir, n_pairs: int = 6, tile: int = 192) -> np.ndarray:
    """Rows of [frame t | forward flow in colour | validity mask] for a few pairs, one colour
    scale for all (the largest magnitude shown, written on the first flow)."""
    seq = FrameSequence(frames)
    total = len(seq) - 1
    if total == 0:  # a one-frame subject has no flow; say so rather than fail
        note = np.zeros((tile // 2, 3 * tile, 3), np.uint8)
        cv2.putText(note, "one frame: no flow", (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1)
        return note
    picks = evenly_spaced(total, n_pairs)
    flows = [read_flo(Path(fwd_dir) / frame_name(t, ".flo")) for t in picks]
    scale = max(max(float(np.linalg.norm(f, axis=-1).max()) for f in flows), 1e-6)
    cells, labels = [], []
    for k, (t, flow) in enumerate(zip(picks, flows)):
        valid = read_image(Path(valid_dir) / "fwd" / frame_name(t), cv2.IMREAD_GRAYSCALE)
        cells += [seq.read(t), flow_to_color(flow, scale), valid]
        labels += [f"t={t}", f"max {scale:.1f} px" if k == 0 else None, None]
    return contact_sheet(cells, 3, labels=labels, tile_width=tile)
