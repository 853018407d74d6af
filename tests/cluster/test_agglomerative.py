"""SciPy-hierarchy clustering and the numpy silhouette agree with scikit-learn's (which count no longer imports)."""
import numpy as np
import pytest

from shelfscan.cluster.distances import cosine_distance
from shelfscan.cluster.methods import agglomerative_labels, silhouette_precomputed

sklearn = pytest.importorskip("sklearn")
from sklearn.cluster import AgglomerativeClustering  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402


def _points(seed: int, n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 16))
    x = centres[rng.integers(0, 6, n)] + 0.3 * rng.normal(size=(n, 16))
    return cosine_distance(x / np.linalg.norm(x, axis=1, keepdims=True))


@pytest.mark.parametrize("linkage", ["average", "single", "complete"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_partitions_as_scikit_learn(linkage, seed):
    d = _points(seed)
    for threshold in (0.2, 0.5, 0.9):
        ref = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="precomputed",
                                      linkage=linkage).fit_predict(d)
        ours = agglomerative_labels(d, linkage=linkage, threshold=threshold)
        assert len(np.unique(ours)) == len(np.unique(ref)) and adjusted_rand_score(ref, ours) == pytest.approx(1.0)
    ref = AgglomerativeClustering(n_clusters=5, metric="precomputed", linkage=linkage).fit_predict(d)
    ours = agglomerative_labels(d, linkage=linkage, k=5)
    assert len(np.unique(ours)) == 5 and adjusted_rand_score(ref, ours) == pytest.approx(1.0)


def test_one_item_is_one_cluster():
    assert agglomerative_labels(np.zeros((1, 1)), linkage="average", threshold=1.0).tolist() == [0]


@pytest.mark.parametrize("seed", [0, 3])
def test_silhouette_equals_scikit_learn(seed):
    d = _points(seed)
    labels = agglomerative_labels(d, linkage="average", threshold=0.5)
    labels[0] = labels.max() + 1  # a cluster of one scores 0
    assert silhouette_precomputed(d, labels) == pytest.approx(silhouette_score(d, labels, metric="precomputed"),
                                                              abs=1e-12)
