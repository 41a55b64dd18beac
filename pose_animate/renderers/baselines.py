"""Baselines a renderer must beat: a model that does not is not learning."""

import numpy as np

from .metrics import pose_distance


def nearest_neighbour(train_poses: np.ndarray, query: np.ndarray, penalty: float) -> int:
    """Index of the training pose closest to `query` (see metrics.pose_distance): the
    nearest-neighbour baseline returns that training frame for a wanted pose."""
    dists = [pose_distance(p, query, penalty) for p in train_poses]
    return int(np.argmin(dists))
