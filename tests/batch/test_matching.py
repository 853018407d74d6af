"""Matching types across two scans: Hungarian pairs, and a product one scan split in two folded into its pair."""
import numpy as np

from shelfscan.batch.matching import fold_split_types, match_types


def unit(*rows):
    m = np.asarray(rows, np.float64)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_a_split_type_is_folded_and_a_different_one_is_not():
    # scan A: product x split in two types (x, x'), product y, product z (gone from B); scan B: x and y
    a = unit([1, 0, 0, 0], [0.95, 0.31, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])
    b = unit([1, 0.05, 0, 0], [0, 0, 1, 0.02])
    pairs = match_types(a, b, 0.9)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0), (2, 1)]
    # x: 5 + 1 facings in A, 6 in B; z (4 facings) is gone from B
    fold_a, fold_b = fold_split_types(a, b, pairs, [5, 1, 3, 4], [6, 3], 0.9)
    assert fold_a == {1: 0} and fold_b == {}  # x' joins the pair (x, x); z stays unmatched: it vanished


def test_a_similar_type_that_does_not_explain_the_counts_is_not_folded():
    a = unit([1, 0, 0], [0.95, 0.31, 0])
    b = unit([1, 0, 0])
    pairs = match_types(a, b, 0.9)
    # A: 6 + 3 facings, B: 6: folding the 3 would make the pair's counts 9 vs 6 -- a product that vanished beside
    # a look-alike, not a split
    assert fold_split_types(a, b, pairs, [6, 3], [6], 0.9) == ({}, {})


def test_folding_works_from_either_side_and_needs_the_threshold():
    a = unit([1, 0, 0])
    b = unit([1, 0, 0], [0.93, 0.37, 0])  # B split x; cos = 0.93
    pairs = match_types(a, b, 0.9)
    assert fold_split_types(a, b, pairs, [7], [5, 2], 0.9) == ({}, {1: 0})
    assert fold_split_types(a, b, pairs, [7], [5, 2], 0.95) == ({}, {})
    assert fold_split_types(a, b, [], [7], [5, 2], 0.9) == ({}, {})
