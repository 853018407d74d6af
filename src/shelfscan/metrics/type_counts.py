"""Per-type count metrics (RPC checkout benchmark) and matching of discovered types to known ones."""
from __future__ import annotations

import math
from typing import Any, Hashable, Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix

from shelfscan.errors import InputError

NOISE = -1


def _count_matrix(true_counts: Sequence[Mapping[str, int]],
                  pred_counts: Sequence[Mapping[str, int]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Dense count tables over the union of types.

    Returns:
        g: int64 (I, K) true counts; p: int64 (I, K) predicted counts; the K type names (first-seen order).
    """
    if len(true_counts) != len(pred_counts):
        raise InputError(f"type_count_metrics: expected as many predicted count tables as true ones "
                         f"({len(true_counts)}), got {len(pred_counts)}")
    types: dict[str, None] = {}
    for table in list(true_counts) + list(pred_counts):
        types.update(dict.fromkeys(table))
    names = list(types)
    col = {t: k for k, t in enumerate(names)}
    g = np.zeros((len(true_counts), len(names)), np.int64)
    p = np.zeros_like(g)
    for which, tables, out in (("true", true_counts, g), ("predicted", pred_counts, p)):
        for i, table in enumerate(tables):
            for t, c in table.items():
                if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
                    raise InputError(f"type_count_metrics {which} counts of image {i}, type {t!r}: "
                                     f"expected an integer >= 0, got {c!r}")
                out[i, col[t]] = int(c)
    return g, p, names


def type_count_metrics(true_counts: Sequence[Mapping[str, int]],
                       pred_counts: Sequence[Mapping[str, int]]) -> dict:
    """cAcc, ACD, mCCD and mCIoU of per-type counts (Wei et al., RPC checkout benchmark, 2019).

    With G[i, k] true and P[i, k] predicted counts of type k in image i (types missing from a table count 0),
    over the union of the types of both sides:

    - ``cacc``: fraction of images where every type count is exact.
    - ``acd``: mean over images of sum_k |P - G|.
    - ``mccd``: mean over types of sum_i |P - G| / sum_i G. Types with no true item anywhere (predicted only)
      have no defined ratio and are left out of this mean (they still lower cAcc, ACD and mCIoU).
    - ``mciou``: mean over types of sum_i min(P, G) / sum_i max(P, G); a predicted-only type scores 0.

    Args:
        true_counts: one ``{type name: count}`` table per image.
        pred_counts: the predicted tables, same images in the same order.

    Returns:
        ``{"cacc", "acd", "mccd", "mciou", "images", "types"}``; metrics are ``nan`` when there are no images
        (and ``mccd``/``mciou`` when there is no type with a defined value).
    """
    g, p, names = _count_matrix(true_counts, pred_counts)
    n_images = g.shape[0]
    if n_images == 0:
        return {"cacc": math.nan, "acd": math.nan, "mccd": math.nan, "mciou": math.nan, "images": 0, "types": 0}
    err = np.abs(p - g)  # (I, K)
    g_sum, err_sum = g.sum(0), err.sum(0)
    inter, union = np.minimum(p, g).sum(0), np.maximum(p, g).sum(0)
    has_gt, has_any = g_sum > 0, union > 0
    return {
        "cacc": float((err.sum(1) == 0).mean()),
        "acd": float(err.sum(1).mean()),
        "mccd": float((err_sum[has_gt] / g_sum[has_gt]).mean()) if has_gt.any() else math.nan,
        "mciou": float((inter[has_any] / union[has_any]).mean()) if has_any.any() else math.nan,
        "images": n_images,
        "types": int(has_any.sum()),
    }


def match_clusters(true_labels: Any, cluster_labels: Any) -> dict[Hashable, Hashable | None]:
    """One-to-one matching of discovered clusters to known labels that maximises the items they share.

    Hungarian assignment (``scipy.optimize.linear_sum_assignment``) on the contingency table of clusters ×
    true labels. When there are more clusters than true labels, the clusters left over map to ``None``, and so
    does a cluster assigned a label it shares no item with; the noise cluster ``-1`` is never matched.

    Args:
        true_labels: (N,) known identity of each item.
        cluster_labels: (N,) cluster id of each item, ``-1`` for unassigned.

    Returns:
        cluster id -> matched true label or ``None``, for every cluster id present (python scalars).
    """
    y_true, y_clu = np.asarray(true_labels), np.asarray(cluster_labels)
    if y_true.ndim != 1 or y_clu.ndim != 1 or len(y_true) != len(y_clu):
        raise InputError(f"match_clusters: expected two 1-D label sequences of equal length, "
                         f"got shapes {y_true.shape} and {y_clu.shape}")
    clusters = np.unique(y_clu)
    mapping: dict[Hashable, Hashable | None] = {c.item(): None for c in clusters}
    assigned = y_clu != NOISE
    if not assigned.any():
        return mapping
    # rows: clusters (sorted), columns: true labels (sorted), entries: shared items
    table = contingency_matrix(y_clu[assigned], y_true[assigned])
    row_names, col_names = np.unique(y_clu[assigned]), np.unique(y_true[assigned])
    rows, cols = linear_sum_assignment(table, maximize=True)
    for r, c in zip(rows.tolist(), cols.tolist()):
        if table[r, c] > 0:
            mapping[row_names[r].item()] = col_names[c].item()
    return mapping


def shelf_type_scores(true_types: Any, pred_types: Any) -> dict:
    """How well the types found on one shelf agree with the types a person sees, over the same boxes.

    Args:
        true_types: (N,) true type of each judged box (any hashable labels).
        pred_types: (N,) predicted type of the same boxes (``-1``, unassigned, counts as one more type).

    Returns:
        ``{"ari", "mciou", "types_true", "types_pred", "boxes"}``:

        - ``ari``: adjusted Rand index; ``nan`` with fewer than 2 true types (undefined there).
        - ``mciou``: per-shelf count mCIoU. True and predicted types are paired one-to-one by Hungarian matching
          on the boxes they share (pairs sharing no box are not pairs); a pair scores min/max of the two
          types' counts, every unpaired type on either side scores 0, and the mean runs over all types of both
          sides counted once (pairs + unpaired true + unpaired predicted); ``nan`` with no box.
    """
    from sklearn.metrics import adjusted_rand_score

    y_true, y_pred = np.asarray(true_types), np.asarray(pred_types)
    if y_true.ndim != 1 or y_pred.ndim != 1 or len(y_true) != len(y_pred):
        raise InputError(f"shelf_type_scores: expected two 1-D label sequences of equal length, "
                         f"got shapes {y_true.shape} and {y_pred.shape}")
    n_true, n_pred = len(np.unique(y_true)), len(np.unique(y_pred))
    out = {"ari": math.nan, "mciou": math.nan, "types_true": n_true, "types_pred": n_pred, "boxes": len(y_true)}
    if len(y_true) == 0:
        return out
    if n_true >= 2:
        out["ari"] = float(adjusted_rand_score(y_true, y_pred))
    table = contingency_matrix(y_pred, y_true)  # (predicted types, true types) shared boxes
    rows, cols = linear_sum_assignment(table, maximize=True)
    shared = table[rows, cols] > 0
    rows, cols = rows[shared], cols[shared]
    pred_n, true_n = table.sum(1)[rows], table.sum(0)[cols]
    pair_scores = np.minimum(pred_n, true_n) / np.maximum(pred_n, true_n)
    out["mciou"] = float(pair_scores.sum() / (n_true + n_pred - len(rows)))
    return out
