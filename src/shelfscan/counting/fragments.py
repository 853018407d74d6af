"""Products cut off by the photo's edge: their crops show part of a pack, so they look unlike its whole facings
and would otherwise become a product type of their own."""
from __future__ import annotations

import numpy as np

from shelfscan.cluster.methods import relabel_by_size
from shelfscan.errors import expect

EDGE_MARGIN = 2.0     # pixels: a box this close to the border is cut off by it
MAX_FRAGMENT_TYPE = 2  # a type of at most this many boxes, all at the border, is a candidate to absorb
ABSORB_FACTOR = 1.5    # absorbed when its mean distance to a type is at most this times the clustering cut


def touches_border(xyxy: np.ndarray, width: int, height: int, margin: float = EDGE_MARGIN) -> np.ndarray:
    """Boxes (N, 4) xyxy within ``margin`` pixels of the border of a ``width`` × ``height`` photo -> bool (N,)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return ((xyxy[:, 0] <= margin) | (xyxy[:, 1] <= margin) | (xyxy[:, 2] >= width - margin)
            | (xyxy[:, 3] >= height - margin))


def check_type_inputs(labels: np.ndarray, dist: np.ndarray, mask: np.ndarray, what: str, mask_name: str
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``labels`` as int64 (N,), ``dist`` as float64 (N, N) and ``mask`` as bool (N,), or InputError naming
    ``what``."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    dist = np.asarray(dist, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    expect(dist.shape == (n, n), f"{what} dist", f"shape ({n}, {n})", dist.shape)
    expect(mask.shape == (n,), f"{what} {mask_name}", f"shape ({n},)", mask.shape)
    return labels, dist, mask


def absorb_edge_fragments(labels: np.ndarray, dist: np.ndarray, at_border: np.ndarray, threshold: float,
                          factor: float = ABSORB_FACTOR, max_size: int = MAX_FRAGMENT_TYPE) -> np.ndarray:
    """Merge small types made only of border-cut boxes into the type they resemble most.

    A type qualifies when it has at most ``max_size`` boxes and every one touches the border. Each of its boxes
    joins the type (with at least one box away from the border) whose boxes are nearest on average, if that mean
    distance is at most ``factor · threshold``; otherwise it stays where it was (a product seen only at the
    edge keeps its own type). Unassigned boxes (-1) are neither moved nor targets.

    Args:
        labels: int (N,) type of each box (0 = largest; -1 unassigned).
        dist: (N, N) the distances the types were cut on (e.g. ``combined_distance``).
        at_border: bool (N,), e.g. :func:`touches_border`.
        threshold: the clustering cut on ``dist``.

    Returns:
        int64 (N,) labels renumbered by size (0 = largest), -1 kept.
    """
    labels, dist, at_border = check_type_inputs(labels, dist, at_border, "absorb_edge_fragments", "at_border")
    types = [t for t in np.unique(labels).tolist() if t >= 0]
    anchored = [t for t in types if (~at_border[labels == t]).any()]
    out = labels.copy()
    for t in types:
        members = np.flatnonzero(labels == t)
        if len(members) > max_size or not at_border[members].all():
            continue
        targets = [u for u in anchored if u != t]
        if not targets:
            continue
        for i in members:
            means = np.array([dist[i, labels == u].mean() for u in targets])
            best = int(means.argmin())
            if means[best] <= factor * threshold:
                out[i] = targets[best]
    if (out == labels).all():
        return labels
    return relabel_by_size(out)


__all__ = ["absorb_edge_fragments", "check_type_inputs", "touches_border"]
