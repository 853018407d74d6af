"""How well discovered groups of crops agree with known product identities (scikit-learn scores)."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn import metrics

from shelfscan.errors import InputError

NOISE = -1


def _labels(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"clustering_scores {what}: expected a 1-D sequence of labels, got shape {arr.shape}")
    return arr


def clustering_scores(labels_true: Any, labels_pred: Any, features: Any = None, *, sample_size: int | None = 2000,
                      random_state: int = 0) -> dict:
    """ARI, NMI, V-measure and (optionally) cosine silhouette of a clustering.

    Label ``-1`` (noise / unassigned, as HDBSCAN writes it) in ``labels_pred`` is treated as one more cluster
    for ARI, NMI and V-measure: all unassigned items form a single group, so leaving items unassigned is
    penalised like putting them in one wrong cluster. The silhouette leaves the ``-1`` items out (noise has no
    centre to be close to).

    Args:
        labels_true: (N,) known identities (any hashable labels).
        labels_pred: (N,) cluster ids, ``-1`` for unassigned.
        features: optional (N, D) embeddings the clustering was made from.
        sample_size: silhouette is O(n^2); it is computed on a random sample of this many assigned items
            (all of them when there are fewer, or when ``None``).
        random_state: seed of that sample.

    Returns:
        ``{"ari", "nmi", "v_measure", "silhouette"}``; silhouette is ``None`` without features or when the
        (sampled) assigned items form fewer than 2 clusters or every item is its own cluster.
    """
    y_true = _labels(labels_true, "labels_true")
    y_pred = _labels(labels_pred, "labels_pred")
    if len(y_true) != len(y_pred):
        raise InputError(f"clustering_scores: expected labels_true and labels_pred of equal length, "
                         f"got {len(y_true)} and {len(y_pred)}")
    if len(y_true) == 0:
        raise InputError("clustering_scores: expected at least one label, got none")
    if sample_size is not None and sample_size < 2:
        raise InputError(f"clustering_scores sample_size: expected an integer >= 2 or None, got {sample_size!r}")
    out: dict[str, Any] = {
        "ari": float(metrics.adjusted_rand_score(y_true, y_pred)),
        "nmi": float(metrics.normalized_mutual_info_score(y_true, y_pred)),
        "v_measure": float(metrics.v_measure_score(y_true, y_pred)),
        "silhouette": None,
    }
    if features is None:
        return out
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y_pred):
        raise InputError(f"clustering_scores features: expected shape ({len(y_pred)}, D), got {x.shape}")
    keep = y_pred != NOISE
    x, y = x[keep], y_pred[keep]
    if sample_size is not None and len(y) > sample_size:
        pick = np.random.default_rng(random_state).choice(len(y), size=sample_size, replace=False)
        x, y = x[pick], y[pick]
    n_clusters = len(np.unique(y))
    if 2 <= n_clusters <= len(y) - 1:
        out["silhouette"] = float(metrics.silhouette_score(x, y, metric="cosine"))
    return out


def pair_separation(distances: Any, labels_true: Any, cut: float) -> dict:
    """How well a distance matrix tells boxes of one type from boxes of two, before any clustering.

    A grouping can only be as good as the distances it cuts: this says whether the errors of a clustering come
    from the distances (same-type pairs far apart, different-type pairs close) or from the clustering.

    Args:
        distances: (N, N) symmetric distances between items.
        labels_true: (N,) known identities (any labels).
        cut: the clustering's cut on those distances.

    Returns:
        ``{"auc", "nn_purity", "same_above_cut", "different_below_cut", "same_pairs", "different_pairs"}``:
        the ROC AUC of the distance as a score of "two types" over all pairs (1: every different-type pair
        farther than every same-type pair; None without pairs of both kinds); the share of the items whose type has
        other members whose nearest other item is of their own type (None when no type has two members); the
        share of same-type pairs farther than ``cut`` and of different-type pairs at most ``cut`` apart (None
        without such pairs); and the numbers of pairs of each kind.
    """
    d = np.asarray(distances, dtype=np.float64)
    y = _labels(labels_true, "labels_true")
    if d.ndim != 2 or d.shape != (len(y), len(y)):
        raise InputError(f"pair_separation distances: expected shape ({len(y)}, {len(y)}) for {len(y)} labels, "
                         f"got {d.shape}")
    if not np.isfinite(d).all():
        raise InputError(f"pair_separation distances: expected finite values, got {int((~np.isfinite(d)).sum())} "
                         f"NaN or infinite")
    if isinstance(cut, bool) or not isinstance(cut, numbers.Real) or not np.isfinite(cut):
        raise InputError(f"pair_separation cut: expected a finite number, got {cut!r}")
    rows, cols = np.triu_indices(len(y), 1)
    same = y[rows] == y[cols]
    pair_d = d[rows, cols]
    n_same, n_diff = int(same.sum()), int((~same).sum())
    auc = float(metrics.roc_auc_score(~same, pair_d)) if n_same and n_diff else None
    _, inverse, sizes = np.unique(y, return_inverse=True, return_counts=True)
    has_mate = sizes[inverse] >= 2
    purity = None
    if has_mate.any() and len(y) > 1:
        others = d + np.diag(np.full(len(y), np.inf))
        nearest = others.argmin(1)
        purity = float((y[nearest] == y)[has_mate].mean())
    return {"auc": auc, "nn_purity": purity,
            "same_above_cut": float((pair_d[same] > cut).mean()) if n_same else None,
            "different_below_cut": float((pair_d[~same] <= cut).mean()) if n_diff else None,
            "same_pairs": n_same, "different_pairs": n_diff}
