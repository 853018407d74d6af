"""Matching across two scans: product types by the cosine similarity of their mean crop embeddings (Hungarian),
gap boxes by IoU (greedy). numpy and scipy only."""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import match_greedy

# Measured on a synthetic shelf and its copy with products painted out (tests/batch/test_history_diff.py): one
# product's types in the two photos 0.995-1.000; two different products of one photo up to 0.86. Real photos taken
# at other times (light, angle) will be lower for the same product: not yet measured.
SIM_THRESHOLD = 0.9
GAP_IOU = 0.3


def match_types(a: np.ndarray, b: np.ndarray, threshold: float = SIM_THRESHOLD) -> list[tuple[int, int, float]]:
    """(row of a, row of b, cosine similarity) pairs of unit rows: the Hungarian assignment of maximum total
    similarity (``scipy.optimize.linear_sum_assignment``), pairs under ``threshold`` left unmatched."""
    from scipy.optimize import linear_sum_assignment

    if len(a) == 0 or len(b) == 0:
        return []
    sim = a.astype(np.float64) @ b.astype(np.float64).T
    rows, cols = linear_sum_assignment(-sim)
    return [(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols) if sim[r, c] >= threshold]


def match_gaps(a: np.ndarray, b: np.ndarray, iou_min: float = GAP_IOU) -> tuple[list[int], list[int], int]:
    """(indices of a's gaps with no match: closed, indices of b's with none: opened, number matched)."""
    match = match_greedy(np.asarray(b, np.float64).reshape(-1, 4), np.asarray(a, np.float64).reshape(-1, 4),
                         iou_min)
    kept = set(match[match >= 0].tolist())
    closed = [i for i in range(len(a)) if i not in kept]
    opened = [int(i) for i in np.flatnonzero(match < 0)]
    return closed, opened, len(kept)
