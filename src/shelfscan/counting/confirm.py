"""Weak detections confirmed by appearance.

A detector's score is a poor judge of a box on its own: a product behind a price tag or in shadow scores low, and so
does a false box on a shelf edge. On a shelf, a real product almost always has look-alikes (its other facings),
a false box has none. So only boxes that score well form product types, and a weakly scored box is counted when it
looks like one of those types (hysteresis, as in edge detection); otherwise it is dropped as not a product.
"""
from __future__ import annotations

import numpy as np

from shelfscan.cluster.methods import UNASSIGNED, relabel_by_size
from shelfscan.counting.fragments import check_type_inputs
from shelfscan.errors import expect

DROPPED = -2  # a weak box that resembles no type: not counted


def confirm_weak(labels: np.ndarray, dist: np.ndarray, strong: np.ndarray, threshold: float) -> np.ndarray:
    """Give each weak box the type it resembles most, or drop it.

    Args:
        labels: int (N,) type of each strong box (>= 0, or -1 unassigned); the values at weak positions are ignored.
        dist: (N, N) distances between all boxes (e.g. ``combined_distance``), the scale the types were cut on.
        strong: bool (N,) the boxes that formed the types.
        threshold: the clustering cut: a weak box joins the type whose boxes are nearest on average when that mean
            distance is at most ``threshold``.

    Returns:
        int64 (N,): strong boxes keep their type, weak ones get a type or ``DROPPED`` (-2); types renumbered by
        size (0 = largest), -1 kept.
    """
    labels, dist, strong = check_type_inputs(labels, dist, strong, "confirm_weak", "strong")
    expect(threshold > 0, "confirm_weak threshold", "a number > 0", threshold)
    out = np.where(strong, labels, DROPPED)
    types = [t for t in np.unique(labels[strong]).tolist() if t != UNASSIGNED]
    weak = np.flatnonzero(~strong)
    if types and len(weak):
        # (W, T) mean distance of each weak box to the boxes of each type
        means = np.stack([dist[np.ix_(weak, np.flatnonzero(strong & (labels == t)))].mean(1) for t in types], 1)
        best = means.argmin(1)
        ok = means[np.arange(len(weak)), best] <= threshold
        out[weak[ok]] = np.asarray(types, np.int64)[best[ok]]
    kept = out != DROPPED
    out[kept] = relabel_by_size(out[kept])
    return out


__all__ = ["DROPPED", "confirm_weak"]
