"""The shared-neighbour view of the shelf distance: a hand-made example, its place in combined_distance, errors."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.cluster import cluster_embeddings, combined_distance, shared_neighbour_distance
from shelfscan.errors import InputError


def _line(points: list[float]) -> np.ndarray:
    p = np.asarray(points, np.float64)
    return np.abs(p[:, None] - p[None])


def test_shared_neighbour_distance_by_hand():
    # points 0 1 2 | 10 11 12, k = 2: kNN(0) = {1, 2}, kNN(1) = {0, 2}, kNN(2) = {1, 0}, kNN(3) = {4, 5} ...
    d = shared_neighbour_distance(_line([0, 1, 2, 10, 11, 12]), 2)
    assert d[0, 1] == pytest.approx(0.5)  # they share point 2 of their two neighbours
    assert d[0, 2] == pytest.approx(0.5)  # they share point 1
    assert d[0, 3] == 1.0 and d[2, 3] == 1.0  # no neighbour in common
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0) and d.min() >= 0 and d.max() <= 1
    # k larger than the set: every other item is a neighbour (k clamped to N - 1)
    full = shared_neighbour_distance(_line([0, 1, 5]), 10)
    assert full[0, 1] == pytest.approx(0.5) and full[0, 2] == pytest.approx(0.5)
    assert shared_neighbour_distance(np.zeros((1, 1)), 3).tolist() == [[0.0]]


def test_combined_distance_adds_the_weighted_neighbour_view():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 16))
    plain = combined_distance(x)
    assert np.array_equal(combined_distance(x, neighbours=0), plain)
    with_view = combined_distance(x, neighbours=4, neighbour_weight=0.5)
    assert np.allclose(with_view, plain + 0.5 * shared_neighbour_distance(plain, 4))
    assert np.array_equal(combined_distance(x, neighbours=4, neighbour_weight=0.0), plain)


def test_shared_neighbours_part_two_look_alike_types_a_plain_cut_joins():
    # two products, 6 facings each: every facing's 5 nearest are its own product's other facings, so pairs within a
    # product share 4 of 5 neighbours (+0.5 x 0.2) and pairs across share none (+0.5 x 1.0)
    rng = np.random.default_rng(1)
    a = rng.normal(size=64)
    b = a + 0.6 * rng.normal(size=64)
    x = np.concatenate([a + 0.1 * rng.normal(size=(6, 64)), b + 0.1 * rng.normal(size=(6, 64))])
    truth = np.repeat([0, 1], 6)
    plain = combined_distance(x)
    cut = float(plain[:6, 6:].mean()) + 0.1  # above the two products' mean distance: the plain cut joins them
    assert plain[:6, :6].max() + 0.1 < cut and plain[6:, 6:].max() + 0.1 < cut
    assert cluster_embeddings(x, distance_threshold=cut).k == 1
    parted = cluster_embeddings(x, distance_threshold=cut, neighbours=5)
    assert parted.k == 2 and np.array_equal(parted.labels, truth)


def test_neighbours_must_be_a_non_negative_integer():
    x = np.eye(4)
    for bad in (-1, 2.5, True):
        with pytest.raises(InputError, match="neighbours"):
            combined_distance(x, neighbours=bad)
    with pytest.raises(InputError, match="neighbour_weight"):
        combined_distance(x, neighbours=2, neighbour_weight=-1)
    with pytest.raises(InputError, match="square"):
        shared_neighbour_distance(np.zeros((2, 3)), 1)
