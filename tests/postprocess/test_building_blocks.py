"""The EM-Merger's pieces against slow, obvious reference implementations."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.postprocess.gaussians import agglomerate, hard_em, moment_match, nearest_in_blob
from shelfscan.postprocess.heatmap import heat_map
from shelfscan.postprocess.suppress import ellipse_overlap_pairs, greedy_keep, intersection_over_min_pairs


def _sequential_greedy(priority: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    conflicts = {i: set() for i in range(len(priority))}
    for i, j in pairs.tolist():
        conflicts[i].add(j)
        conflicts[j].add(i)
    keep = np.zeros(len(priority), bool)
    for i in np.lexsort((np.arange(len(priority)), -priority)):
        keep[i] = not any(keep[j] for j in conflicts[i])
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_greedy_keep_matches_the_sequential_loop(seed):
    rng = np.random.default_rng(seed)
    m = 60
    pairs = rng.integers(0, m, (150, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    priority = rng.integers(0, 10, m).astype(float)  # many ties
    np.testing.assert_array_equal(greedy_keep(priority, pairs), _sequential_greedy(priority, pairs))


def test_greedy_keep_on_a_chain_keeps_every_other_item():
    pairs = np.array([[i, i + 1] for i in range(9)])
    keep = greedy_keep(-np.arange(10.0), pairs)
    np.testing.assert_array_equal(np.flatnonzero(keep), [0, 2, 4, 6, 8])


@pytest.mark.parametrize("dense_max", [128, 3])  # 3 sends the larger blobs through the k-d tree
def test_nearest_in_blob_matches_brute_force(dense_max):
    rng = np.random.default_rng(0)
    blob = np.repeat(np.arange(6), [2, 5, 9, 3, 20, 7])
    points = rng.uniform(0, 500, (len(blob), 2)) + blob[:, None] * 37.0
    nn, dist = nearest_in_blob(points, blob, dense_max=dense_max)
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    d[blob[:, None] != blob[None]] = np.inf
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(nn, d.argmin(1))
    np.testing.assert_allclose(dist, d.min(1), rtol=1e-5)


def test_moment_match_preserves_weight_mean_and_variance():
    rng = np.random.default_rng(1)
    w, mu, var = rng.uniform(0.1, 1, 5), rng.normal(0, 10, (5, 2)), rng.uniform(1, 4, (5, 2))
    total, mean, variance = moment_match(w, mu, var, np.zeros(5, np.int64), 1)
    assert total[0] == pytest.approx(w.sum())
    np.testing.assert_allclose(mean[0], (w[:, None] * mu).sum(0) / w.sum())
    second = (w[:, None] * (var + mu**2)).sum(0) / w.sum()
    np.testing.assert_allclose(variance[0], second - mean[0] ** 2)


def _two_clusters(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    mu = np.concatenate([rng.normal([0, 0], 2, (15, 2)), rng.normal([60, 0], 2, (15, 2))])
    return np.ones(30), mu, np.full((30, 2), 4.0), np.zeros(30, np.int64)


def test_agglomerate_reaches_k_components_per_blob():
    w, mu, var, _ = _two_clusters(0)
    blob = np.repeat([0, 1, 2], 10)
    comp = agglomerate(w, mu, var, blob, np.array([3, 1, 20]))
    assert [len(set(comp[blob == b])) for b in range(3)] == [3, 1, 10]  # blob 2 has only 10 Gaussians
    comp = agglomerate(*_two_clusters(1), np.array([2]))
    assert len(set(comp[:15])) == 1 and len(set(comp[15:])) == 1 and comp[0] != comp[15]


def test_hard_em_repairs_a_bad_partition():
    w, mu, var, blob = _two_clusters(2)
    bad = (np.arange(30) % 2).astype(np.int64)  # each component holds half of both clusters
    gid, weight, mean, _ = hard_em(w, mu, var, blob, bad, np.array([2]))
    assert len(set(gid[:15])) == 1 and len(set(gid[15:])) == 1 and gid[0] != gid[15]
    np.testing.assert_allclose(np.sort(mean[:, 0]), [mu[:15, 0].mean(), mu[15:, 0].mean()])
    np.testing.assert_allclose(weight, [15, 15])


def test_heat_map_of_one_gaussian_is_truncated_at_one_sigma_and_peaks_at_its_confidence():
    mean, var = np.array([[50.0, 30.0]]), np.array([[10.0, 5.0]]) ** 2
    heat = heat_map(mean, var, np.array([0.7]), 1.0, (60, 100))
    rows, cols = np.nonzero(heat)
    assert cols.min() + 0.5 >= 40 and cols.max() + 0.5 <= 60
    assert rows.min() + 0.5 >= 25 and rows.max() + 0.5 <= 35
    assert heat.max() == pytest.approx(0.7 * np.exp(-0.5 * (0.5 / 10) ** 2 - 0.5 * (0.5 / 5) ** 2))
    assert heat[29, 40] == pytest.approx(0.7 * np.exp(-0.5 * (9.5 / 10) ** 2 - 0.5 * (0.5 / 5) ** 2))


def test_heat_map_sums_gaussians():
    means, var = np.array([[20.0, 20.0], [26.0, 22.0]]), np.full((2, 2), 36.0)
    both = heat_map(means, var, np.array([0.5, 0.9]), 0.5, (50, 60))
    one = heat_map(means[:1], var[:1], np.array([0.5]), 0.5, (50, 60))
    two = heat_map(means[1:], var[1:], np.array([0.9]), 0.5, (50, 60))
    np.testing.assert_allclose(both, one + two)


def test_ellipse_overlap_pairs():
    mean = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 0.0], [100.0, 5.0]])
    variance = np.full((4, 2), 25.0)  # 50% ellipse semi-axes 5 * 1.177 = 5.9
    pairs = {tuple(p) for p in ellipse_overlap_pairs(mean, variance).tolist()}
    assert pairs == {(0, 1), (2, 3)}
    assert len(ellipse_overlap_pairs(mean * 3, variance)) == 0  # 15 apart > 5.9 + 5.9


def test_intersection_over_min_pairs():
    boxes = np.array([[0, 0, 10, 10], [8, 0, 18, 10], [2, 2, 6, 6], [30, 30, 40, 40]], float)
    pairs = {tuple(p) for p in intersection_over_min_pairs(boxes, 0.3).tolist()}
    assert pairs == {(0, 2)}  # (0, 1) overlap 20% of the smaller, (2 inside 0) 100%
    assert len(intersection_over_min_pairs(boxes, 0.1)) == 2


def test_agglomerate_copes_with_identical_points_in_a_large_blob():
    mu = np.zeros((300, 2))
    mu[150:] = 5.0  # two stacks of identical means, more than the dense path takes (k-d tree ties)
    comp = agglomerate(np.ones(300), mu, np.ones((300, 2)), np.zeros(300, np.int64), np.array([3]))
    assert sorted(set(comp.tolist())) == [0, 1, 2]


def test_hard_em_nearest_component_search_agrees_with_the_full_search():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [80, 0], [0, 80], [80, 80]], float)
    mu = np.concatenate([rng.normal(c, 3, (12, 2)) for c in centres])
    w, var, blob = rng.uniform(0.3, 1, 48), np.full((48, 2), 9.0), np.zeros(48, np.int64)
    k = np.array([4])
    comp = agglomerate(w, mu, var, blob, k)
    full = hard_em(w, mu, var, blob, comp, k)[0]
    nearest = hard_em(w, mu, var, blob, comp, k, n_neighbours=2)[0]  # k-d tree over component means
    np.testing.assert_array_equal(full, nearest)
    assert sorted(np.bincount(full).tolist()) == [12, 12, 12, 12]
