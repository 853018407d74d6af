"""Greedy suppression over a sparse list of conflicting pairs, and the two conflict tests the EM-Merger uses."""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import box_centres, paired_intersection, xyxy_to_xywh

# Squared Mahalanobis radius of the 50%-confidence ellipse of a 2-D Gaussian: chi2(2 dof) quantile 0.5.
HALF_CONFIDENCE_R2 = 2.0 * np.log(2.0)


def greedy_keep(priority: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """What sequential greedy suppression keeps: best first, each item dropped when it conflicts with a kept one.

    Resolved in vectorised rounds instead of one item at a time: an undecided item is kept once all its
    better conflicting items are dropped, and dropped as soon as one of them is kept. The result is identical
    to the sequential loop; rounds are as many as the longest chain of conflicts, usually a handful.

    Args:
        priority: (M,) higher is better; ties go to the lower index.
        pairs: (P, 2) int, unordered conflicting pairs.

    Returns:
        bool (M,) keep mask.
    """
    m = len(priority)
    rank = np.empty(m, np.int64)
    rank[np.lexsort((np.arange(m), -priority))] = np.arange(m)
    i, j = pairs[:, 0], pairs[:, 1]
    better_first = rank[i] < rank[j]
    hi, lo = np.where(better_first, i, j), np.where(better_first, j, i)
    state = np.zeros(m, np.int8)  # 0 undecided, 1 kept, 2 dropped
    while True:
        undecided = state == 0
        if not undecided.any():
            break
        blocked = np.zeros(m, bool)
        blocked[lo[state[hi] != 2]] = True
        killed = np.zeros(m, bool)
        killed[lo[state[hi] == 1]] = True
        state[undecided & killed] = 2
        state[undecided & ~blocked] = 1
        pending = (state[lo] == 0) | (state[hi] == 0)
        hi, lo = hi[pending], lo[pending]
    return state == 1


def ellipse_overlap_pairs(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Pairs (P, 2) of Gaussians whose 50%-confidence ellipses overlap (or one's mean lies in the other's).

    Axis-aligned ellipses with semi-axes ``a_i = sqrt(r2 * variance_i)`` are taken to overlap when
    ``sum_d ((mean_i - mean_j)_d / (a_i + a_j)_d)^2 < 1``. That ellipse contains the exact Minkowski sum of the
    two (triangle inequality on the support functions), so the test errs towards overlap only for ellipses of
    very different shapes. A mean inside the other's ellipse always counts.

    Args:
        mean: (C, 2). variance: (C, 2).
    """
    if len(mean) < 2:
        return np.zeros((0, 2), np.int64)
    axes = np.sqrt(HALF_CONFIDENCE_R2 * variance)
    radius = 2.0 * float(np.linalg.norm(axes, axis=1).max())
    pairs = _kd_tree(mean).query_pairs(radius, output_type="ndarray").astype(np.int64).reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    gap = ((mean[i] - mean[j]) / (axes[i] + axes[j])) ** 2
    return pairs[gap.sum(1) < 1.0]


def intersection_over_min_pairs(boxes: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs (P, 2) of boxes (M, 4) xyxy whose intersection over the smaller box's area exceeds ``threshold``.

    A zero-area box has intersection-over-minimum 0 with everything.
    """
    if len(boxes) < 2:
        return np.zeros((0, 2), np.int64)
    size = xyxy_to_xywh(boxes)[:, 2:]
    reach = np.maximum(size.max(0), 1e-9)  # boxes that intersect have centres closer than this on each axis
    centres = box_centres(boxes) / reach
    pairs = _kd_tree(centres).query_pairs(1.0, p=np.inf, output_type="ndarray").astype(np.int64).reshape(-1, 2)
    inter = paired_intersection(boxes[pairs[:, 0]], boxes[pairs[:, 1]])
    smaller = np.minimum(size[pairs[:, 0]].prod(1), size[pairs[:, 1]].prod(1))
    iomin = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    return pairs[iomin > threshold]


def _kd_tree(points: np.ndarray):
    """SciPy's k-d tree of ``points`` (N, 2); SciPy is imported here, on first use, not by every ``detect``."""
    from scipy.spatial import cKDTree

    return cKDTree(points)
