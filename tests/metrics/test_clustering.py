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
