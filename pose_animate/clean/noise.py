"""A detector-noise model: what real 2D keypoint detectors do to a clean pose sequence.

Errors are in units of the person's body size (`filters.sequence_scale`, the height of the
body points) so one model fits any resolution. Four kinds, matched to real detectors:

- jitter: white per-frame noise (`jitter`) plus a slowly wandering per-joint offset (AR(1) with
  correlation `drift_corr`, size `drift`): detectors both shake and drift off the true joint.
  Calibration (`bench/bench_clean.py`, sizes as `filters.sequence_scale`): real OpenPose BODY_25
  output (../shared/realdata/keypoint_sequences/openpose_body25_real) has a median |second
  difference| of 3.76 px = 0.57 % of body size, real motion included; the default model gives
  0.61 % on a still pose. A real detector on 4 Human3.6M frames (keypoints_gt/h36m:
  test_h36m_2d_detection.npy vs the ground truth) is off by a median of 0.98 % of body size
  (mean 1.89 %); the model's median is 0.95 % (mean 1.09 % with all error kinds). That the
  per-point error is far larger than white noise with that jitter would give says detector
  error is mostly slow drift, hence the AR(1) term.
- dropped joints: a joint disappears (confidence 0) for a run of frames (`drop_rate` runs per
  joint per frame, lengths 1..`drop_max_len`), as occluded joints do.
- left/right swaps: an arm or a leg chain takes the other side's positions for 1..3 frames
  (`swap_rate` per chain per frame), OpenPose's typical confusion.
- far outliers: a point lands `outlier_size` x body size away (uniform direction, size up to
  that), `outlier_rate` per point per frame, with a lowered confidence.

The rates of drops, swaps and outliers have no ground truth in ../shared/realdata to be
fitted to; they are set so that each repair is exercised a few times per 100 frames (2.7 % of
points dropped by default).

Confidences of kept points are drawn from the real OpenPose distribution's central range
(0.6..0.95); outliers get 0.1..0.6.
"""

from dataclasses import dataclass

import numpy as np

from .filters import SWAP_GROUPS, sequence_scale


@dataclass
class NoiseModel:
    jitter: float = 0.0015
    drift: float = 0.008
    drift_corr: float = 0.95
    drop_rate: float = 0.004
    drop_max_len: int = 12
    swap_rate: float = 0.003
    outlier_rate: float = 0.002
    outlier_size: float = 0.3


def _ar1(rng, shape, corr):
    """Unit-variance AR(1) noise along axis 0."""
    out = np.empty(shape)
    out[0] = rng.standard_normal(shape[1:])
    innov = np.sqrt(1 - corr ** 2)
    eps = rng.standard_normal(shape)
    for t in range(1, shape[0]):
        out[t] = corr * out[t - 1] + innov * eps[t]
    return out


def apply_noise(seq: np.ndarray, rng: np.random.Generator, model: NoiseModel = NoiseModel(),
                joints=None) -> np.ndarray:
    """A noisy copy of a clean (T, P, 3) sequence (points with confidence 0 stay missing).

    `joints` gives the BODY_25 index of each of the P columns (default: P == 25 or 137, in
    OpenPose order) so swaps find their left/right partners in joint subsets.
    """
    seq = np.asarray(seq, np.float32)
    n_frames, n_points = seq.shape[:2]
    joints = list(range(n_points)) if joints is None else list(joints)
    present = seq[..., 2] > 0
    scale = sequence_scale(_as_body(seq, joints), _as_body(seq, joints)[..., 2] > 0)
    noisy = seq.copy()
    offset = (model.jitter * rng.standard_normal((n_frames, n_points, 2))
              + model.drift * _ar1(rng, (n_frames, n_points, 2), model.drift_corr))
    noisy[..., :2] += scale * offset
    noisy[..., 2] = rng.uniform(0.6, 0.95, (n_frames, n_points))
    # Left/right swaps of whole chains for a few frames.
    column = {j: c for c, j in enumerate(joints)}
    for name, (right, left) in SWAP_GROUPS.items():
        if name == "head":
            continue
        pairs = [(column[r], column[l]) for r, l in zip(right, left) if r in column and l in column]
        if not pairs:
            continue
        rc, lc = map(list, zip(*pairs))
        for start in np.flatnonzero(rng.random(n_frames) < model.swap_rate):
            stop = min(n_frames, start + rng.integers(1, 4))
            noisy[start:stop, rc + lc] = noisy[start:stop, lc + rc]
    # Far outliers.
    far = rng.random((n_frames, n_points)) < model.outlier_rate
    angle = rng.uniform(0, 2 * np.pi, far.sum())
    radius = scale * model.outlier_size * rng.uniform(0.3, 1.0, far.sum())
    noisy[far, 0] += radius * np.cos(angle)
    noisy[far, 1] += radius * np.sin(angle)
    noisy[far, 2] = rng.uniform(0.1, 0.6, far.sum())
    # Dropped runs.
    drop = np.zeros((n_frames, n_points), bool)
    for t, p in zip(*np.nonzero(rng.random((n_frames, n_points)) < model.drop_rate)):
        drop[t:t + rng.integers(1, model.drop_max_len + 1), p] = True
    noisy[drop | ~present] = 0
    return noisy


def _as_body(seq, joints):
    """The columns placed at their BODY_25 rows (for the body-size measure)."""
    body = np.zeros((len(seq), 25, 3), np.float32)
    for c, j in enumerate(joints):
        if j < 25:
            body[:, j] = seq[:, c]
    return body
