"""Per-shelf type scores of benchmarks/count_real_shelves.py on hand-made examples with known answers."""
import math

import numpy as np

from shelfscan.box_ops import match_greedy
from shelfscan.metrics import shelf_type_scores


def test_perfect_grouping_scores_one_whatever_the_ids():
    r = shelf_type_scores([0, 0, 1, 1, 1], [7, 7, 3, 3, 3])
    assert r["ari"] == 1.0 and r["mciou"] == 1.0 and (r["types_true"], r["types_pred"]) == (2, 2)


def test_a_split_type_pairs_once_and_the_rest_scores_zero():
    # true: A x4, B x2; predicted: A split 3 + 1, B exact -> pairs (A, A3) 3/4, (B, B) 1; A1 unpaired: 0
    r = shelf_type_scores([0, 0, 0, 0, 1, 1], [0, 0, 0, 9, 1, 1])
    assert math.isclose(r["mciou"], (0.75 + 1.0) / 3)
    # ARI by hand: pairs within predicted 3+0+1=4, within true 6+1=7, shared 3+1=4, total 15
    expected = (4 - 4 * 7 / 15) / (0.5 * (4 + 7) - 4 * 7 / 15)
    assert math.isclose(r["ari"], expected)


def test_one_true_type_has_no_ari_but_a_count_score():
    r = shelf_type_scores([5, 5, 5, 5], [0, 0, 1, 1])
    assert math.isnan(r["ari"]) and math.isclose(r["mciou"], 0.5 / 2)


def test_greedy_matching_is_one_to_one_and_by_iou():
    true = np.array([[0., 0, 10, 10], [10, 0, 20, 10]])
    pred = np.array([[0., 0, 10, 10], [1, 0, 11, 10], [10, 0, 20, 10], [50, 50, 60, 60]])
    assert match_greedy(pred, true).tolist() == [0, -1, 1, -1]
