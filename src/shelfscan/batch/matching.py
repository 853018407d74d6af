"""Matching across two scans: product types by the cosine similarity of their mean crop embeddings (Hungarian),
gap boxes by IoU (greedy). numpy and scipy only."""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import match_greedy

# Measured on a synthetic shelf and its copy with products painted out (tests/batch/test_history_diff.py): one
# product's types in the two photos 0.995-1.000; two different products of one photo up to 0.86. Real photos taken
# at other times (light, angle) will be lower for the same product: not yet measured.
SIM_THRESHOLD = 0.9
# A type split off one product (a few crops) compared with that product's type in the other scan (many crops) is
# less similar than two whole types: 0.888 measured (one crop vs six, the same synthetic pair); the painted-out
# product's best match 0.818; two variants of one brand 0.849. Folding also needs the counts to agree better.
FOLD_THRESHOLD = 0.85
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


def fold_split_types(a: np.ndarray, b: np.ndarray, pairs: list[tuple[int, int, float]], counts_a: list[int],
                     counts_b: list[int], threshold: float = FOLD_THRESHOLD) -> tuple[dict[int, int], dict[int, int]]:
    """Types one scan split in two where the other scan has one. A row of ``a`` left out of ``pairs`` is folded
    into the pair of its most similar row of ``b`` when that row is paired, at least ``threshold`` similar, and
    adding its count brings the pair's two counts closer (a split explains the difference; a product that
    vanished beside a similar one does not); the same for ``b``. Returns ({unpaired row of a: index into pairs},
    {unpaired row of b: index into pairs})."""
    if not pairs:
        return {}, {}
    sim = a.astype(np.float64) @ b.astype(np.float64).T
    count = [[counts_a[i], counts_b[j]] for i, j, _ in pairs]  # the pairs' counts, folds included
    folds: list[dict[int, int]] = [{}, {}]
    for side, (s, counts) in enumerate(((sim, counts_a), (sim.T, counts_b))):
        own = {p[side] for p in pairs}
        pair_of_other = {p[1 - side]: k for k, p in enumerate(pairs)}
        for r in range(len(s)):
            best = int(s[r].argmax())
            if r in own or best not in pair_of_other or s[r, best] < threshold:
                continue
            k = pair_of_other[best]
            folded = list(count[k])
            folded[side] += counts[r]
            if abs(folded[0] - folded[1]) < abs(count[k][0] - count[k][1]):
                count[k], folds[side][r] = folded, k
    return folds[0], folds[1]


def match_gaps(a: np.ndarray, b: np.ndarray, iou_min: float = GAP_IOU) -> tuple[list[int], list[int], int]:
    """(indices of a's gaps with no match: closed, indices of b's with none: opened, number matched)."""
    match = match_greedy(np.asarray(b, np.float64).reshape(-1, 4), np.asarray(a, np.float64).reshape(-1, 4),
                         iou_min)
    kept = set(match[match >= 0].tolist())
    closed = [i for i in range(len(a)) if i not in kept]
    opened = [int(i) for i in np.flatnonzero(match < 0)]
    return closed, opened, len(kept)
