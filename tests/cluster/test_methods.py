"""cluster_embeddings: automatic k, stable order, edge cases (empty, one item, identical items, 400 items)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from shelfscan.cluster import (ClusterResult, cluster_embeddings, combined_distance, cosine_distance,
                               relabel_by_size, whiten)
from shelfscan.errors import InputError


def blobs(sizes: list[int], dim: int = 64, spread: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around random directions (one per cluster): (N, dim) features and (N,) true ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate([c + spread * rng.normal(size=(n, dim)) for c, n in zip(centres, sizes)])
    y = np.repeat(np.arange(len(sizes)), sizes)
    perm = rng.permutation(len(y))
    return (x / np.linalg.norm(x, axis=1, keepdims=True))[perm].astype(np.float32), y[perm]


@pytest.mark.parametrize("method", ["auto", "agglomerative", "hdbscan", "kmeans"])
def test_recovers_well_separated_types_without_k(method):
    x, y = blobs([30, 20, 12, 8, 5])
    res = cluster_embeddings(x, method=method)
    assert isinstance(res, ClusterResult)
    assert res.k == 5
    assert adjusted_rand_score(y, res.labels) == pytest.approx(1.0)
    assert res.silhouette is not None and res.silhouette > 0.5
    assert res.method == ("agglomerative" if method == "auto" else method)


def test_labels_sorted_by_size_largest_first():
    x, _ = blobs([4, 25, 9, 14], seed=3)
    res = cluster_embeddings(x)
    assert res.sizes.tolist() == [25, 14, 9, 4]
    assert [int((res.labels == c).sum()) for c in range(res.k)] == [25, 14, 9, 4]


def test_relabel_by_size_breaks_ties_by_first_appearance():
    assert relabel_by_size(np.array([7, 7, 3, 3, 5, 5, 5, -1])).tolist() == [1, 1, 2, 2, 0, 0, 0, -1]


@pytest.mark.parametrize("method", ["auto", "hdbscan", "kmeans"])
def test_empty_and_single_item(method):
    empty = cluster_embeddings(np.zeros((0, 16), np.float32), method=method)
    assert empty.labels.shape == (0,) and empty.k == 0 and empty.silhouette is None
    one = cluster_embeddings(np.ones((1, 16), np.float32), method=method)
    assert one.labels.tolist() == [0] and one.k == 1 and one.silhouette is None


@pytest.mark.parametrize("method", ["auto", "hdbscan", "kmeans"])
def test_identical_items_form_one_type(method):
    x = np.tile(np.linspace(-1, 1, 32, dtype=np.float32), (25, 1))
    res = cluster_embeddings(x, method=method)
    assert res.k == 1
    assert (res.labels == 0).all()
    assert res.silhouette is None


def test_near_duplicates_stay_together_when_whitening_has_only_noise():
    # one product photographed 40 times with tiny noise: whitening alone would blow the noise up; the plain
    # cosine term of the combined distance keeps them together
    x, _ = blobs([40], spread=0.01, seed=5)
    assert cluster_embeddings(x).k == 1


def test_k_given_is_obeyed():
    x, y = blobs([10, 10, 10, 10], seed=1)
    assert cluster_embeddings(x, k=2).k == 2
    assert cluster_embeddings(x, method="kmeans", k=4).k == 4
    assert adjusted_rand_score(y, cluster_embeddings(x, method="kmeans", k=4).labels) == pytest.approx(1.0)


def test_threshold_controls_merging():
    x, _ = blobs([10, 10, 10], spread=0.05, seed=2)
    assert cluster_embeddings(x, distance_threshold=1e-3).k == 30  # nothing merges
    assert cluster_embeddings(x, distance_threshold=100.0).k == 1  # everything merges


def test_hdbscan_leaves_outlier_unassigned():
    x, _ = blobs([20, 20], seed=4)
    outlier = -x[:1] + 0.01  # opposite direction: near nothing
    res = cluster_embeddings(np.concatenate([x, outlier]), method="hdbscan")
    assert res.labels[-1] == -1
    assert res.unassigned == 1 and res.k == 2


def test_four_hundred_items_fast():
    x, y = blobs([60, 50, 50, 40, 40, 35, 30, 30, 25, 20, 10, 5, 3, 2], dim=256, spread=0.025, seed=6)
    assert len(x) == 400
    t0 = time.perf_counter()
    res = cluster_embeddings(x)
    assert time.perf_counter() - t0 < 10.0  # the speed target itself lives in benchmarks/count_synthetic.py
    assert adjusted_rand_score(y, res.labels) == pytest.approx(1.0)
    assert res.sizes.tolist() == sorted(res.sizes.tolist(), reverse=True)


def test_deterministic():
    x, _ = blobs([15, 9, 6], seed=8)
    for method in ("auto", "kmeans", "hdbscan"):
        a = cluster_embeddings(x, method=method)
        b = cluster_embeddings(x.copy(), method=method)
        assert a.labels.tolist() == b.labels.tolist()


def test_bad_arguments_raise_input_error():
    x, _ = blobs([5, 5])
    with pytest.raises(InputError, match="method"):
        cluster_embeddings(x, method="spectral")
    with pytest.raises(InputError, match="at most the number of items"):
        cluster_embeddings(x, k=11)
    with pytest.raises(InputError, match="hdbscan"):
        cluster_embeddings(x, method="hdbscan", k=2)
    with pytest.raises(InputError, match="shape"):
        cluster_embeddings(np.ones(5))
    with pytest.raises(InputError, match="finite"):
        cluster_embeddings(np.full((3, 4), np.nan))


def test_whiten_and_combined_distance():
    x, _ = blobs([12, 8], seed=9)
    x64 = x.astype(np.float64)
    z = whiten(x64, dim=8)
    assert z.shape == (20, 8)
    assert np.allclose(np.linalg.norm(z, axis=1), 1.0)
    assert whiten(np.tile(x64[:1], (5, 1))) is None  # no spread
    assert whiten(x64[:2]) is None  # too few to fit
    d = combined_distance(x)
    assert d.shape == (20, 20)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0.0)
    # without whitening the combined distance is the plain cosine distance in units of raw_scale
    assert np.allclose(combined_distance(x[:2]), cosine_distance(x64[:2] / np.linalg.norm(x64[:2], axis=1,
                                                                                          keepdims=True)) / 0.2)


def test_single_linkage_follows_a_chain_of_look_alikes():
    """Facings of one product whose look drifts along the shelf (light): neighbours alike, the ends not."""
    rng = np.random.default_rng(0)
    angle = np.linspace(0, 1.2, 12)
    chain = np.zeros((12, 16))
    chain[:, 0], chain[:, 1] = np.cos(angle), np.sin(angle)
    other = np.zeros((5, 16))
    other[:, 5] = 1
    x = np.concatenate([chain, other + rng.normal(0, 0.01, other.shape)])
    single = cluster_embeddings(x, linkage="single", distance_threshold=0.85)
    average = cluster_embeddings(x, linkage="average", distance_threshold=0.85)
    assert single.labels.tolist() == [0] * 12 + [1] * 5 and single.info["linkage"] == "single"
    assert average.k == 3  # average linkage cuts the chain in two
    with pytest.raises(InputError, match="linkage"):
        cluster_embeddings(x, linkage="ward")
