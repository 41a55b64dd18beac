"""Clean keypoint sequences: confidence, left/right swaps, outliers, gaps, temporal smoothing.

Everything works on a (T, 137, 3) sequence of [x, y, confidence] (missing = 0, 0, 0) and is
vectorised over joints; only the swap tracker steps through frames. The order matters:

1. points below `min_confidence` count as missing;
2. left/right swaps of arms, legs and eyes/ears are repaired against the previous frame;
3. outliers (jumps away from the joint's running median, bones much longer than the subject's
   robust length) become missing;
4. gaps of at most `max_gap` frames are filled by linear interpolation (also whole frames with
   nobody inside such a gap: the person reappears there); longer gaps stay missing;
5. each joint group (body, face, hands) is smoothed with its own filter, weighted by confidence
   (a filled point has weight 0: the filter interpolates it from its neighbours);
6. with a motion net, the net's joints take the net's output instead of the classical filter.

The stage that reads and writes the folders is `stage.clean_keypoints`.

Cleaning never invents a point that was missing outside a filled gap: frames with nobody stay
empty unless inside a short gap.
"""

import math
import warnings

import numpy as np
from scipy.ndimage import correlate1d

from ..core.body import BODY, BODY_25_LIMBS, GROUPS, HAND_LEFT, HAND_RIGHT, J, N_BODY

# Left/right joint chains that detectors confuse as a whole (OpenPose swaps a leg with its foot).
SWAP_GROUPS = {
    "arms": ([J["RShoulder"], J["RElbow"], J["RWrist"]], [J["LShoulder"], J["LElbow"], J["LWrist"]]),
    "legs": ([J["RHip"], J["RKnee"], J["RAnkle"], J["RBigToe"], J["RSmallToe"], J["RHeel"]],
             [J["LHip"], J["LKnee"], J["LAnkle"], J["LBigToe"], J["LSmallToe"], J["LHeel"]]),
    "head": ([J["REye"], J["REar"]], [J["LEye"], J["LEar"]]),
}

FILTER_GROUPS = {"body": [BODY], "face": [GROUPS["face"]], "hands": [HAND_LEFT, HAND_RIGHT]}

DEFAULT_FILTERS = {
    "body": {"method": "gaussian", "window": 9, "order": 2, "sigma": 1.0,
             "min_cutoff": 0.05, "beta": 0.5},
    "face": {"method": "gaussian", "window": 9, "order": 2, "sigma": 2.0,
             "min_cutoff": 0.03, "beta": 0.5},
    "hands": {"method": "gaussian", "window": 9, "order": 2, "sigma": 1.5,
              "min_cutoff": 0.05, "beta": 0.5},
}


# ---- helpers ---------------------------------------------------------------------------

def valid_mask(seq: np.ndarray, min_confidence: float = 0.0) -> np.ndarray:
    """(T, P) True where a point is present and at least `min_confidence`."""
    conf = seq[..., 2]
    return (conf > 0) & (conf >= min_confidence)


def sequence_scale(seq: np.ndarray, valid: np.ndarray | None = None) -> float:
    """The person's size in pixels: median over frames of the height of the valid body points.

    Used to express thresholds as fractions of body size; 100 px when nobody is ever seen.
    """
    body = seq[:, BODY]
    ok = body[..., 2] > 0 if valid is None else valid[:, BODY]
    ys = np.where(ok, body[..., 1], np.nan)
    with np.errstate(all="ignore"), _quiet_nan():
        height = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1)
    height = height[np.isfinite(height) & (ok.sum(1) >= 3)]
    if len(height) == 0 or np.median(height) <= 1:
        return 100.0
    return float(np.median(height))


def second_difference_jitter(seq: np.ndarray, part=BODY) -> float:
    """Median |second difference| (px) of the points present in three consecutive frames.

    The project's jitter measure (real OpenPose body output: about 3.8 px).
    """
    pts = seq[:, part]
    if len(pts) < 3:
        return float("nan")
    ok = (pts[2:, :, 2] > 0) & (pts[1:-1, :, 2] > 0) & (pts[:-2, :, 2] > 0)
    d2 = np.linalg.norm(pts[2:, :, :2] - 2 * pts[1:-1, :, :2] + pts[:-2, :, :2], axis=-1)
    return float(np.median(d2[ok])) if ok.any() else float("nan")


def lag_frames(raw: np.ndarray, cleaned: np.ndarray, max_shift: int = 5) -> float:
    """The lag of a cleaned sequence behind the raw one, in frames: per point and coordinate
    seen throughout, the shift that maximises the cross-correlation of the two velocities;
    the median over them (0 for a zero-lag filter, positive when cleaned lags)."""
    ok = (raw[..., 2] > 0).all(0) & (cleaned[..., 2] > 0).all(0)
    a = np.diff(raw[:, ok, :2], axis=0).reshape(len(raw) - 1, -1)
    b = np.diff(cleaned[:, ok, :2], axis=0).reshape(len(raw) - 1, -1)
    a, b = a - a.mean(0), b - b.mean(0)
    shifts = range(-max_shift, max_shift + 1)
    corr = np.stack([(a[max(0, -s):len(a) - max(0, s)] * b[max(0, s):len(b) - max(0, -s)]).sum(0)
                     for s in shifts])
    return float(np.median(np.asarray(shifts)[np.argmax(corr, axis=0)]))


def _runs(mask_1d: np.ndarray):
    """(start, stop) of the runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], mask_1d, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


# ---- swaps -----------------------------------------------------------------------------

def repair_swaps(seq: np.ndarray, valid: np.ndarray, min_gain: float = 0.5,
                 min_jump: float = 0.05, max_age: int = 2) -> tuple[np.ndarray, np.ndarray, int]:
    """Undo left/right swaps of whole chains (arms, legs, eyes/ears).

    Each frame is compared with the last seen position of every joint, seen at most `max_age`
    frames before (an older one has moved on): a chain is swapped when swapping it reduces its
    distance to that reference to less than `min_gain` times and by more than `min_jump` x
    body size. Swaps are tracked as a state, and the state held by most frames
    is taken as the detector's correct labelling (so a swapped first frame is not propagated).
    The hands (face keypoints are symmetric in name only) follow the arms' swap.
    Returns the repaired sequence, its validity mask, and the number of chain-frames swapped.
    """
    seq, valid = seq.copy(), valid.copy()
    n_frames = len(seq)
    scale = sequence_scale(seq, valid)
    flips = {name: np.zeros(n_frames, bool) for name in SWAP_GROUPS}
    for name, (right, left) in SWAP_GROUPS.items():
        joints = np.array(right + left)
        mirror = np.array(left + right)
        ref = np.full((len(joints), 2), np.nan)
        seen_at = np.full(len(joints), -n_frames - max_age - 1)
        state = False
        for t in range(n_frames):
            xy = seq[t, joints, :2]
            ok = valid[t, joints]
            if state:
                xy, ok = seq[t, mirror, :2], valid[t, mirror]
            # Both labellings are scored on the same joints: those seen on both sides (with
            # one side out of view, a swap cannot be told from motion, and scoring different
            # joints swapped side views wrongly).
            swapped = np.r_[len(right):len(joints), 0:len(right)]
            both = ok & ok[swapped] & (t - seen_at <= max_age)
            if both.sum() >= 2:
                keep = np.linalg.norm(xy - ref, axis=1)[both].mean()
                sw_xy = xy[swapped]
                swap = np.linalg.norm(sw_xy - ref, axis=1)[both].mean()
                if swap < min_gain * keep and keep - swap > min_jump * scale:
                    state = not state
                    xy, ok = sw_xy, ok[swapped]
            flips[name][t] = state
            ref[ok] = xy[ok]
            seen_at[ok] = t
        if flips[name].mean() > 0.5:
            flips[name] = ~flips[name]
    count = 0
    for name, (right, left) in SWAP_GROUPS.items():
        frames = np.flatnonzero(flips[name])
        count += len(frames)
        if len(frames) == 0:
            continue
        joints, mirror = np.array(right + left), np.array(left + right)
        sub = seq[frames]
        sub[:, joints] = seq[frames][:, mirror]
        sub_valid = valid[frames]
        sub_valid[:, joints] = valid[frames][:, mirror]
        if name == "arms":
            sub[:, HAND_LEFT], sub[:, HAND_RIGHT] = seq[frames][:, HAND_RIGHT], seq[frames][:, HAND_LEFT]
            sub_valid[:, HAND_LEFT] = valid[frames][:, HAND_RIGHT]
            sub_valid[:, HAND_RIGHT] = valid[frames][:, HAND_LEFT]
        seq[frames], valid[frames] = sub, sub_valid
    return seq, valid, count


# ---- outliers --------------------------------------------------------------------------

# Frames per slice of the windowed filters: their temporaries (about 40 KB a frame for the
# 137 points) stay bounded on long videos, and the results are the same as in one piece.
CHUNK = 512


def by_chunks(fn, arrays, halo: int, chunk: int | None = None) -> np.ndarray:
    """`fn(*arrays)` (each (T, ...), the result (T, ...)) computed on time slices with `halo`
    frames of context either side: for filters whose output at t depends only on inputs within
    `halo` frames of t, identical to one call, with bounded temporaries."""
    chunk = chunk or CHUNK
    n = len(arrays[0])
    if n <= chunk + 2 * halo:
        return fn(*arrays)
    parts = []
    for start in range(0, n, chunk):
        lo, hi = max(0, start - halo), min(n, start + chunk + halo)
        parts.append(fn(*(a[lo:hi] for a in arrays))[start - lo:start - lo + chunk])
    return np.concatenate(parts)


def running_median(xy: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """Median over a centred window of the valid values (nan where none), (T, P, 2)."""
    return by_chunks(lambda x, v: _running_median(x, v, window), [xy, valid], window // 2)


def _running_median(xy: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    vals = np.where(valid[..., None], xy, np.nan)
    padded = np.pad(vals, ((half, half), (0, 0), (0, 0)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    with np.errstate(all="ignore"), _quiet_nan():
        return np.nanmedian(windows, axis=-1)


class _quiet_nan:
    """Silence numpy's 'All-NaN slice' warnings (a joint missing from a whole window)."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def reject_outliers(seq: np.ndarray, valid: np.ndarray, window: int = 7,
                    threshold: float = 6.0, min_jump: float = 0.12,
                    max_bone_ratio: float = 2.0) -> tuple[np.ndarray, int]:
    """Mark implausible points missing; returns the new validity mask and how many were rejected.

    - Jumps: a point farther from its joint's running median than `threshold` robust sigmas of
      that joint's residuals and than `min_jump` x body size (a Hampel filter; fast real motion
      stays well inside it).
    - Bones: a BODY_25 bone longer than `max_bone_ratio` x the subject's median length of that
      bone (foreshortening only shortens bones): the joint to blame becomes missing.
    """
    valid = valid.copy()
    scale = sequence_scale(seq, valid)
    med = running_median(seq[..., :2], valid, window)
    resid = np.linalg.norm(seq[..., :2] - med, axis=-1)
    resid = np.where(valid & np.isfinite(resid), resid, np.nan)
    with _quiet_nan():
        sigma = 1.4826 * np.nanmedian(resid, axis=0)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0)
    limit = np.maximum(threshold * sigma, min_jump * scale)
    jumps = valid & (np.nan_to_num(resid, nan=0.0) > limit[None])
    valid &= ~jumps
    n_bad = int(jumps.sum())
    a = np.array([p for p, _ in BODY_25_LIMBS])
    b = np.array([c for _, c in BODY_25_LIMBS])
    length = np.linalg.norm(seq[:, a, :2] - seq[:, b, :2], axis=-1)
    both = valid[:, a] & valid[:, b]
    with _quiet_nan():
        typical = np.nanmedian(np.where(both, length, np.nan), axis=0)
    too_long = both & (length > max_bone_ratio * np.nan_to_num(typical, nan=np.inf)[None])
    # Blame a joint all of whose bones are too long (a wrist flung away, not its elbow); for a
    # bone between two otherwise sound joints, the one with the larger jump residual (the
    # child on a tie).
    n_bad_bones = np.zeros(valid.shape, int)
    n_good_bones = np.zeros(valid.shape, int)
    for k, (p, c) in enumerate(zip(a, b)):
        for j in (p, c):
            n_bad_bones[:, j] += too_long[:, k]
            n_good_bones[:, j] += both[:, k] & ~too_long[:, k]
    lone = (n_bad_bones > 0) & (n_good_bones == 0)
    r = np.nan_to_num(resid, nan=0.0)
    unresolved = too_long & ~lone[:, a] & ~lone[:, b]
    t_idx, limb = np.nonzero(unresolved)
    worst = np.where(r[t_idx, a[limb]] > r[t_idx, b[limb]], a[limb], b[limb])
    before = valid.sum()
    valid &= ~lone
    valid[t_idx, worst] = False
    return valid, n_bad + int(before - valid.sum())


# ---- gaps ------------------------------------------------------------------------------

def fill_gaps(seq: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate gaps of at most `max_gap` frames between two valid points.

    Returns (filled sequence, filled mask). A filled point's confidence is the lower of its two
    neighbours'; invalid points outside filled gaps become (0, 0, 0).
    """
    out = np.where(valid[..., None], seq, 0).astype(np.float32)
    filled = np.zeros_like(valid)
    if max_gap <= 0:
        return out, filled
    n_frames = len(seq)
    t = np.arange(n_frames)
    for p in np.flatnonzero(valid.any(0) & ~valid.all(0)):
        ok = valid[:, p]
        for start, stop in _runs(~ok):
            if start == 0 or stop == n_frames or stop - start > max_gap:
                continue
            lo, hi = start - 1, stop
            w = ((t[start:stop] - lo) / (hi - lo))[:, None]
            out[start:stop, p, :2] = (1 - w) * seq[lo, p, :2] + w * seq[hi, p, :2]
            out[start:stop, p, 2] = min(seq[lo, p, 2], seq[hi, p, 2])
            filled[start:stop, p] = True
    return out, filled


# ---- temporal filters ------------------------------------------------------------------

def local_polynomial(x: np.ndarray, weight: np.ndarray, kernel: np.ndarray,
                     order: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted local polynomial regression along axis 0, evaluated at each sample.

    `x` (T, ...) values, `weight` (T, ...) >= 0 (0 = missing), `kernel` (2h+1,) window weights.
    With a box kernel this is a Savitzky-Golay filter that tolerates missing points and needs
    no edge padding; with order 0 it is a normalised (confidence-weighted) convolution. Symmetric
    windows give zero lag inside the sequence. Returns (smoothed, total weight in the window).
    """
    half = len(kernel) // 2
    u = np.arange(-half, half + 1) / max(half, 1)  # offsets scaled to [-1, 1] for conditioning
    wx = weight * x
    moments = [correlate1d(weight, kernel * u ** j, axis=0, mode="constant")
               for j in range(2 * order + 1)]
    rhs = np.stack([correlate1d(wx, kernel * u ** j, axis=0, mode="constant")
                    for j in range(order + 1)], -1)
    if order == 0:
        with np.errstate(all="ignore"):
            return rhs[..., 0] / moments[0], moments[0]
    lhs = np.stack([np.stack([moments[i + j] for j in range(order + 1)], -1)
                    for i in range(order + 1)], -2)
    # A small ridge on the slope/curvature terms keeps sparse windows solvable (it leans
    # towards a lower order where few points support the fit).
    ridge = 1e-6 * moments[0][..., None, None] * np.diag([0.0] + [1.0] * order) + 1e-9 * np.eye(order + 1)
    coef = np.linalg.solve(lhs + ridge, rhs[..., None])[..., 0, 0]
    return coef, moments[0]


def savgol_kernel(window: int) -> np.ndarray:
    window = max(3, int(window) | 1)
    return np.ones(window)


def gaussian_kernel(sigma: float) -> np.ndarray:
    half = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / max(sigma, 1e-6)) ** 2)
    return k / k.sum()


def one_euro(x: np.ndarray, valid: np.ndarray, min_cutoff: float, beta: float,
             d_cutoff: float = 1.0) -> np.ndarray:
    """The One-Euro filter (Casiez et al. 2012), causal, in frame units (cutoffs in cycles per
    frame), vectorised over points. It restarts after a missing point. x (T, P, 2)."""
    def alpha(cutoff):
        r = 2 * math.pi * cutoff
        return r / (r + 1)

    out = x.copy()
    prev = x[0].copy()
    dprev = np.zeros_like(prev)
    ok_prev = valid[0].copy()
    a_d = alpha(d_cutoff)
    for t in range(1, len(x)):
        ok = valid[t] & ok_prev
        dx = x[t] - prev
        dhat = np.where(ok[:, None], a_d * dx + (1 - a_d) * dprev, 0.0)
        cutoff = min_cutoff + beta * np.linalg.norm(dhat, axis=-1, keepdims=True)
        r = 2 * math.pi * cutoff
        a = r / (r + 1)
        new = np.where(ok[:, None], a * x[t] + (1 - a) * prev, x[t])
        out[t] = new
        prev, dprev, ok_prev = new, dhat, valid[t]
    return out


def smooth(xy: np.ndarray, weight: np.ndarray, present: np.ndarray, method: str,
           window: int = 9, order: int = 2, sigma: float = 1.5, min_cutoff: float = 0.05,
           beta: float = 0.5, scale: float = 100.0) -> np.ndarray:
    """Smooth trajectories xy (T, P, 2) with one filter; `weight` (T, P) is each point's
    confidence (0 for filled or missing points), `present` (T, P) where an output is wanted.
    Where the window holds no weight the input is kept. One-Euro's beta is per body size."""
    if method == "none" or len(xy) < 3:
        return xy
    if method == "one_euro":
        # One-Euro's speed term is in pixels per frame: express it per body size.
        return one_euro(xy, present, min_cutoff, beta / scale)
    if method == "savgol":
        kernel, order = savgol_kernel(window), int(order)
    elif method == "gaussian":
        # Local linear, not a plain weighted mean: the same inside a full window, but unbiased
        # next to gaps and at the sequence ends, where the window is one-sided.
        kernel, order = gaussian_kernel(sigma), 1
    else:
        raise ValueError(f"unknown filter {method!r}")
    return by_chunks(lambda x, w, p: _smooth_window(x, w, p, kernel, order),
                     [xy, weight, present], len(kernel) // 2)


def _smooth_window(xy, weight, present, kernel, order) -> np.ndarray:
    w = np.broadcast_to(weight[..., None], xy.shape)
    est, support = local_polynomial(xy.astype(np.float64), w.astype(np.float64), kernel, order)
    keep = (support > 1e-6 * kernel.max()) & np.isfinite(est)
    if order > 0:
        # A point that was not observed (a filled gap) takes the fit only where data flank it
        # on both sides: a one-sided slope from a few far points extrapolates wildly.
        half = len(kernel) // 2
        side = 0.05 * kernel.max()
        left = correlate1d(w, np.where(np.arange(-half, half + 1) < 0, kernel, 0), axis=0,
                           mode="constant")
        right = correlate1d(w, np.where(np.arange(-half, half + 1) > 0, kernel, 0), axis=0,
                            mode="constant")
        keep &= (w > 0) | ((left > side) & (right > side))
    return np.where(keep & present[..., None], est, xy).astype(np.float32)


# ---- the whole cleaning ----------------------------------------------------------------

def prepare(seq: np.ndarray, *, min_confidence: float = 0.1, max_gap: int = 10,
            swap_repair: bool = True, outliers: dict | None = None) -> dict:
    """Steps 1-4 (confidence, swaps, outliers, gaps): what the filters and the net start from.

    Returns a dict: `seq` (filled, invalid points zero), `observed` (valid detections kept),
    `present` (observed or filled), and the counts of what was changed.
    """
    seq = np.asarray(seq, np.float32)
    if seq.ndim != 3 or seq.shape[2] != 3:
        raise ValueError(f"keypoints must be (T, P, 3), got {seq.shape}")
    valid = valid_mask(seq, min_confidence)
    n_low = int((valid_mask(seq) & ~valid).sum())
    n_swaps = 0
    if swap_repair and seq.shape[1] >= N_BODY:
        seq, valid, n_swaps = repair_swaps(seq, valid)
    n_outliers = 0
    if outliers is None or outliers.get("enabled", True):
        opts = {k: v for k, v in (outliers or {}).items() if k != "enabled"}
        valid, n_outliers = reject_outliers(seq, valid, **opts) if seq.shape[1] >= N_BODY \
            else (valid, 0)
    filled_seq, filled = fill_gaps(seq, valid, max_gap)
    return {"seq": filled_seq, "observed": valid, "present": valid | filled,
            "counts": {"low_confidence": n_low, "swapped_chain_frames": n_swaps,
                       "outliers": n_outliers, "filled": int(filled.sum())}}


def clean_sequence(seq: np.ndarray, *, min_confidence: float = 0.1, max_gap: int = 10,
                   swap_repair: bool = True, outliers: dict | None = None,
                   confidence_weighted: bool = True, filters: dict | None = None,
                   net=None) -> tuple[np.ndarray, dict]:
    """Clean a (T, 137, 3) sequence; returns (cleaned, counts). `net` is a loaded MotionNet
    (pose_animate.clean.motion_net) whose joints replace the classical filter's output."""
    prep = prepare(seq, min_confidence=min_confidence, max_gap=max_gap,
                   swap_repair=swap_repair, outliers=outliers)
    out = prep["seq"].copy()
    present, observed = prep["present"], prep["observed"]
    scale = sequence_scale(out, present)
    weight = np.where(observed, out[..., 2] if confidence_weighted else 1.0, 0.0)
    filters = {**DEFAULT_FILTERS, **(filters or {})}
    for group, parts in FILTER_GROUPS.items():
        opts = {**DEFAULT_FILTERS[group], **filters[group]}
        for part in parts:
            if not present[:, part].any():
                continue
            out[:, part, :2] = smooth(out[:, part, :2], weight[:, part], present[:, part],
                                      scale=scale, **opts)
    if net is not None:
        joints = np.asarray(net.config.joints)
        xy = net.denoise(prep["seq"][:, joints], observed[:, joints])
        sel = present[:, joints]
        out[:, joints, :2] = np.where(sel[..., None], xy, out[:, joints, :2])
    out[~present] = 0
    return out, prep["counts"]
