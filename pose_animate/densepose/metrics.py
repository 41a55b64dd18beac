"""Agreement of an IUV estimate with a reference IUV (the demo's exact truth, or real maps)."""

import numpy as np


def iuv_agreement(pred, truth) -> dict:
    """Foreground IoU, part accuracy and U/V errors of `pred` (I, U, V) against `truth`.

    part_accuracy: share of the truth's foreground pixels given the right part (missed
    pixels count as wrong); part_accuracy_overlap: the same over pixels both call foreground;
    u_mae / v_mae: mean absolute U and V error where the parts agree.
    """
    p_parts, p_u, p_v = pred
    t_parts, t_u, t_v = truth
    p_fg, t_fg = p_parts > 0, t_parts > 0
    union = np.sum(p_fg | t_fg)
    both = p_fg & t_fg
    agree = both & (p_parts == t_parts)
    return {
        "fg_iou": float(np.sum(both) / union) if union else float("nan"),
        "part_accuracy": float(np.sum(agree) / max(np.sum(t_fg), 1)),
        "part_accuracy_overlap": float(np.sum(agree) / max(np.sum(both), 1)),
        "u_mae": float(np.mean(np.abs(p_u[agree] - t_u[agree]))) if agree.any() else
        float("nan"),
        "v_mae": float(np.mean(np.abs(p_v[agree] - t_v[agree]))) if agree.any() else
        float("nan"),
        "pixels_truth": int(np.sum(t_fg)),
    }


def confusion(pred_parts, truth_parts, n: int = 25) -> np.ndarray:
    """(n, n) pixel counts: rows truth part, columns predicted part (0 = background)."""
    idx = truth_parts.astype(np.int64).reshape(-1) * n + pred_parts.astype(np.int64).reshape(-1)
    return np.bincount(idx, minlength=n * n).reshape(n, n)
