"""Agglomerative clustering of a distance matrix in numpy: flat clusters cut at ``k`` or at a distance.

Written out (issue #16) because ``import scipy.cluster`` costs ~0.5 s of every cold ``shelfscan count``: its
``__init__`` imports ``scipy.cluster.vq``, which pulls in ``scipy.spatial``, ``scipy.linalg`` and
``scipy.special``, all to call ``linkage`` and ``fcluster``/``cut_tree`` on a few hundred crops.
``tests/cluster/test_linkage.py`` checks that the partitions are the ones SciPy's hierarchy gives.

The algorithm is the "generic" greedy one (Muellner 2011, "Modern hierarchical, agglomerative clustering
algorithms"): the pair of clusters at the smallest distance is merged, the merged distances come from the
Lance-Williams update, and each row keeps its nearest neighbour among the clusters of larger index, so only the
rows whose nearest neighbour was one of the two merged clusters are searched again. O(N^2) memory, close to
O(N^2) time.
"""
from __future__ import annotations

import numpy as np

from shelfscan.errors import expect

_LINKAGES = ("single", "average", "complete")


def _check(dist: object, linkage: str, k: int | None, threshold: float | None) -> np.ndarray:
    """Validated float64 (N, N) copy of ``dist``: the upper triangle mirrored (as SciPy's ``squareform``)."""
    try:
        d = np.array(dist, dtype=np.float64)
    except (TypeError, ValueError):
        d = None
    expect(d is not None, "flat_clusters dist", "a numeric (N, N) distance matrix", type(dist).__name__)
    expect(d.ndim == 2 and d.shape[0] == d.shape[1], "flat_clusters dist", "a square (N, N) matrix", d.shape)
    bad = int((np.isnan(d) | (d == -np.inf)).sum())
    expect(bad == 0, "flat_clusters dist", "finite values or +inf", f"{bad} NaN or -inf entries")
    expect(linkage in _LINKAGES, "flat_clusters linkage", f"one of {_LINKAGES}", linkage)
    expect((k is None) != (threshold is None), "flat_clusters", "exactly one of k and threshold",
           f"k={k!r}, threshold={threshold!r}")
    n = len(d)
    if k is not None:
        expect(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= n, "flat_clusters k",
               f"an integer in 1..{n} (the number of items)", k)
    else:
        expect(isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool)
               and not np.isnan(threshold), "flat_clusters threshold", "a number (not NaN)", threshold)
    upper = np.triu(d, 1)
    d = upper + upper.T
    np.fill_diagonal(d, np.inf)
    return d


def _nearest_above(d: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest neighbour of each of ``rows`` (R,) among the columns of larger index of (N, N) ``d``.

    Returns (R,) indices and (R,) distances; ties go to the smaller index, a row with none gets (0, inf).
    """
    sub = d[rows]
    sub[np.arange(d.shape[1])[None, :] <= rows[:, None]] = np.inf
    idx = sub.argmin(1)
    return idx, sub[np.arange(len(rows)), idx]


def _update(row_a: np.ndarray, row_b: np.ndarray, size_a: float, size_b: float, linkage: str) -> np.ndarray:
    """Lance-Williams update: (N,) distances of every cluster to the union of clusters a and b."""
    if linkage == "single":
        return np.minimum(row_a, row_b)
    if linkage == "complete":
        return np.maximum(row_a, row_b)
    return (size_a * row_a + size_b * row_b) / (size_a + size_b)  # average (UPGMA)


def _merge(d: np.ndarray, linkage: str, k: int, threshold: float | None) -> np.ndarray:
    """Merge the closest clusters of (N, N) ``d`` (diagonal inf; overwritten) while more than ``k`` remain and
    (``threshold`` given) the closest pair is nearer than ``threshold``.

    Returns (N,) the smallest item index of each item's cluster.
    Ties go to the pair (i, j), i < j, of smallest (i, j), a cluster being named by its smallest item index.
    """
    n = len(d)
    owner = np.arange(n)
    active = np.ones(n, bool)
    size = np.ones(n)
    nn_idx, nn_dist = _nearest_above(d, np.arange(n))
    left = n
    while left > k:
        i = int(nn_dist.argmin())
        height = nn_dist[i]
        if threshold is not None and not height < threshold:
            break
        if height == np.inf:  # every pair left is at +inf: merge in index order, as the tie rule says
            rest = np.flatnonzero(active)[: left - k + 1]
            owner[np.isin(owner, rest)] = rest[0]
            break
        a, b = i, int(nn_idx[i])  # a < b
        new = _update(d[a], d[b], size[a], size[b], linkage)
        new[a] = new[b] = np.inf
        d[a], d[:, a] = new, new
        d[b], d[:, b] = np.inf, np.inf
        size[a] += size[b]
        owner[owner == b] = a
        active[b] = False
        nn_dist[b] = np.inf
        left -= 1
        redo = active & ((nn_idx == a) | (nn_idx == b))
        redo[a] = True
        below = np.flatnonzero(active[:a] & ~redo[:a])  # rows r < a keep their neighbour unless a is nearer
        closer = (new[below] < nn_dist[below]) | ((new[below] == nn_dist[below]) & (nn_idx[below] > a))
        nn_idx[below[closer]], nn_dist[below[closer]] = a, new[below[closer]]
        rows = np.flatnonzero(redo)
        nn_idx[rows], nn_dist[rows] = _nearest_above(d, rows)
    return owner


def first_appearance(labels: np.ndarray) -> np.ndarray:
    """int64 (N,): ``labels`` (N,) renumbered 0..c-1 in the order each label first appears."""
    if len(labels) == 0:
        return np.zeros(0, np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def flat_clusters(dist: np.ndarray, *, linkage: str, k: int | None = None,
                  threshold: float | None = None) -> np.ndarray:
    """Flat clusters of agglomerative clustering on an (N, N) distance matrix: int64 (N,) labels.

    Args:
        dist: (N, N) symmetric distances, finite or +inf; the upper triangle is read, the diagonal ignored.
        linkage: ``"single"``, ``"average"`` (UPGMA, weighted by cluster sizes, as SciPy's ``"average"``) or
            ``"complete"``.
        k: merge until exactly ``k`` clusters remain (SciPy's ``cut_tree(tree, n_clusters=k)``), 1 <= k <= N.
        threshold: (instead of ``k``) do every merge at a linkage distance strictly less than ``threshold``
            (SciPy's ``fcluster(tree, t, "distance")`` just below ``t``).

    Returns:
        int64 (N,) labels 0..c-1 numbered by first appearance (item 0 has label 0, the next new label is 1...).
        Ties between equal distances are broken by index, so the result is deterministic.

    Raises:
        InputError: ``dist`` not square or with NaN / -inf, unknown linkage, not exactly one of ``k`` and
            ``threshold``, ``k`` outside 1..N.
    """
    d = _check(dist, linkage, k, threshold)
    if len(d) < 2:
        return np.zeros(len(d), np.int64)
    owner = _merge(d, linkage, 1 if k is None else int(k), None if threshold is None else float(threshold))
    return first_appearance(owner)


__all__ = ["first_appearance", "flat_clusters"]
