"""clustering_scores on small labelings with known scores."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.errors import InputError
from shelfscan.metrics import clustering_scores


def test_identical_up_to_renaming_is_perfect():
    out = clustering_scores(["a", "a", "b", "b", "c"], [7, 7, 3, 3, 0])
    assert out["ari"] == pytest.approx(1.0) and out["nmi"] == pytest.approx(1.0)
    assert out["v_measure"] == pytest.approx(1.0)
    assert out["silhouette"] is None  # no features


def test_noise_is_one_more_cluster():
    y_true = [0, 0, 1, 1, 2, 2]
    # the two items of type 2 unassigned (-1): still a perfect partition, -1 acting as their own cluster
    assert clustering_scores(y_true, [0, 0, 1, 1, -1, -1])["ari"] == pytest.approx(1.0)
    # unassigned items of different types are lumped together, which costs
    lumped = clustering_scores(y_true, [0, -1, 1, -1, 2, -1])
    # ARI by hand: pairs together in both: 0; true pairs 3; predicted pairs C(3,2) = 3 (all in -1); 15 pairs:
    # expected 3 * 3 / 15 = 0.6, max (3 + 3) / 2 = 3 -> (0 - 0.6) / (3 - 0.6) = -0.25.
    # (Were -1 items singletons, predicted pairs would be 0 and ARI 0.)
    assert lumped["ari"] == pytest.approx(-0.25)


def test_silhouette_cosine_and_noise_left_out():
    x = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [1.0, 1.0]])
    out = clustering_scores([0, 0, 1, 1, 0], [0, 0, 1, 1, -1], x)
    # cosine distances within clusters are 0 and across are 1: silhouette exactly 1 on the assigned items
    assert out["silhouette"] == pytest.approx(1.0)
    assert clustering_scores([0, 0, 1, 1, 0], [0, 0, 0, 0, -1], x)["silhouette"] is None  # one cluster


def test_silhouette_is_sampled():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal([5, 0], 1, (300, 2)), rng.normal([0, 5], 1, (300, 2))])
    y = np.repeat([0, 1], 300)
    full = clustering_scores(y, y, x, sample_size=None)["silhouette"]
    a = clustering_scores(y, y, x, sample_size=100, random_state=1)["silhouette"]
    b = clustering_scores(y, y, x, sample_size=100, random_state=2)["silhouette"]
    assert a != b and abs(a - full) < 0.1 and abs(b - full) < 0.1
    assert clustering_scores(y, y, x, sample_size=5000)["silhouette"] == pytest.approx(full)


def test_bad_input():
    with pytest.raises(InputError, match="equal length"):
        clustering_scores([0, 1], [0])
    with pytest.raises(InputError, match="features"):
        clustering_scores([0, 1], [0, 1], np.zeros((3, 2)))


def test_pair_separation_on_a_known_matrix():
    from shelfscan.metrics import pair_separation

    # four items, types a a b b; the distances: the a pair 0.2, the b pair 0.9, every a-b pair 0.5 except one 1.0
    d = np.array([[0.0, 0.2, 0.5, 0.5],
                  [0.2, 0.0, 0.5, 1.0],
                  [0.5, 0.5, 0.0, 0.9],
                  [0.5, 1.0, 0.9, 0.0]])
    out = pair_separation(d, ["a", "a", "b", "b"], cut=0.6)
    # pairs: same (0.2, 0.9), different (0.5, 0.5, 0.5, 1.0). AUC of "different" by distance: of the 2 x 4
    # (same, different) comparisons the different pair is farther in 0.2's four and in 0.9's one (1.0): 5 / 8
    assert out["auc"] == pytest.approx(5 / 8)
    # nearest other item: 0 -> 1 (a, right), 1 -> 0 (right), 2 -> 0 or 1 at 0.5 (wrong), 3 -> 0 at 0.5 (wrong)
    assert out["nn_purity"] == pytest.approx(0.5)
    assert out["same_above_cut"] == pytest.approx(0.5)       # 0.9 of (0.2, 0.9)
    assert out["different_below_cut"] == pytest.approx(0.75)  # three 0.5s of four
    assert (out["same_pairs"], out["different_pairs"]) == (2, 4)


def test_pair_separation_singletons_and_errors():
    from shelfscan.metrics import pair_separation

    out = pair_separation(np.array([[0.0, 1.0], [1.0, 0.0]]), [0, 1], cut=0.5)
    assert out["auc"] is None and out["nn_purity"] is None and out["same_above_cut"] is None
    assert out["different_below_cut"] == 0.0
    with pytest.raises(InputError, match=r"expected shape \(3, 3\) for 3 labels, got \(2, 2\)"):
        pair_separation(np.zeros((2, 2)), [0, 0, 1], cut=1.0)
    with pytest.raises(InputError, match="expected a finite number"):
        pair_separation(np.zeros((2, 2)), [0, 0], cut=float("nan"))
    with pytest.raises(InputError, match="expected a finite number, got '1'"):
        pair_separation(np.zeros((2, 2)), [0, 0], cut="1")
    with pytest.raises(InputError, match="expected finite values, got 2 NaN or infinite"):
        pair_separation(np.array([[0.0, np.nan], [np.nan, 0.0]]), [0, 1], cut=1.0)
