"""flat_clusters (numpy agglomerative clustering) gives SciPy's hierarchy's partitions, without importing SciPy."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from shelfscan.cluster.linkage import flat_clusters
from shelfscan.errors import InputError

LINKAGES = ("single", "average", "complete")


def _blobs(seed: int, n: int) -> np.ndarray:
    """(n, n) Euclidean distances of n points in gaussian blobs (about one blob per 15 points), 6-D."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * rng.normal(size=(max(2, n // 15), 6))
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, 6))
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def _canon(labels: np.ndarray) -> list[int]:
    """A partition as labels numbered by first appearance, so partitions compare with ==."""
    seen: dict[int, int] = {}
    return [seen.setdefault(int(c), len(seen)) for c in labels]


def _scipy_tree(d: np.ndarray, linkage: str) -> np.ndarray:
    from scipy.cluster.hierarchy import linkage as build_tree
    from scipy.spatial.distance import squareform

    return build_tree(squareform(d, checks=False), method=linkage)


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("n", [2, 3, 17, 120, 300])
def test_same_partitions_as_scipy(linkage, seed, n):
    from scipy.cluster.hierarchy import cut_tree, fcluster

    d = _blobs(seed, n)
    tree = _scipy_tree(d, linkage)
    heights = np.unique(tree[:, 2])
    mids = (heights[:-1] + heights[1:]) / 2 if len(heights) > 1 else heights
    thresholds = list(np.quantile(mids, [0.0, 0.3, 0.6, 0.9, 1.0])) + [heights[0] / 2, heights[-1] * 2]
    if linkage != "average":  # heights here are input distances, exact in both: a cut at a height keeps it apart
        thresholds += list(heights[[0, len(heights) // 2, -1]])
    for t in thresholds:
        ref = fcluster(tree, np.nextafter(t, -np.inf), criterion="distance")
        assert _canon(flat_clusters(d, linkage=linkage, threshold=float(t))) == _canon(ref), t
    for k in sorted({1, 2, min(n, 4), min(n, 9), max(1, n // 3), n}):
        ref = cut_tree(tree, n_clusters=k).reshape(-1)
        ours = flat_clusters(d, linkage=linkage, k=k)
        assert len(set(ours.tolist())) == k and _canon(ours) == _canon(ref), k


@pytest.mark.parametrize("linkage", LINKAGES)
def test_labels_are_int64_numbered_by_first_appearance(linkage):
    d = _blobs(5, 90)
    for labels in (flat_clusters(d, linkage=linkage, k=7), flat_clusters(d, linkage=linkage, threshold=3.0)):
        assert labels.dtype == np.int64 and labels.shape == (90,)
        assert labels.tolist() == _canon(labels)


def test_zero_and_one_item():
    for linkage in LINKAGES:
        empty = flat_clusters(np.zeros((0, 0)), linkage=linkage, threshold=1.0)
        assert empty.dtype == np.int64 and empty.shape == (0,)
        assert flat_clusters(np.zeros((1, 1)), linkage=linkage, threshold=1.0).tolist() == [0]
        assert flat_clusters(np.zeros((1, 1)), linkage=linkage, k=1).tolist() == [0]
        assert flat_clusters(np.array([[0, 2.0], [2.0, 0]]), linkage=linkage, threshold=2.0).tolist() == [0, 1]
        assert flat_clusters(np.array([[0, 2.0], [2.0, 0]]), linkage=linkage, threshold=2.5).tolist() == [0, 0]


@pytest.mark.parametrize("linkage", LINKAGES)
def test_all_equal_distances_are_deterministic(linkage):
    d = np.full((40, 40), 0.5)
    np.fill_diagonal(d, 0.0)
    assert flat_clusters(d, linkage=linkage, threshold=0.5).tolist() == list(range(40))  # strictly less: no merge
    assert flat_clusters(d, linkage=linkage, threshold=0.6).tolist() == [0] * 40
    three = flat_clusters(d, linkage=linkage, k=3)
    assert three.tolist() == [0] * 38 + [1, 2]  # ties: the pair of smallest indices merges first
    assert np.array_equal(three, flat_clusters(d.copy(), linkage=linkage, k=3))


@pytest.mark.parametrize("linkage", LINKAGES)
def test_infinite_distances(linkage):
    d = np.full((5, 5), np.inf)
    d[:3, :3] = 1.0
    d[3:, 3:] = 2.0
    np.fill_diagonal(d, 0.0)
    assert flat_clusters(d, linkage=linkage, threshold=np.inf).tolist() == [0, 0, 0, 1, 1]
    assert flat_clusters(d, linkage=linkage, k=2).tolist() == [0, 0, 0, 1, 1]
    assert flat_clusters(d, linkage=linkage, k=1).tolist() == [0] * 5
    assert flat_clusters(np.full((4, 4), np.inf), linkage=linkage, k=2).tolist() == [0, 0, 0, 1]


def test_input_is_not_modified_and_lower_triangle_is_not_read():
    d = _blobs(7, 30)
    kept = d.copy()
    upper = np.triu(d)  # lower triangle zero: read as SciPy's squareform reads a matrix
    assert _canon(flat_clusters(upper, linkage="average", k=4)) == _canon(flat_clusters(d, linkage="average", k=4))
    assert np.array_equal(d, kept)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dist": np.zeros((3, 2)), "threshold": 1.0}, "expected a square (N, N) matrix, got (3, 2)"),
    ({"dist": np.zeros((2, 2, 2)), "threshold": 1.0}, "expected a square (N, N) matrix, got (2, 2, 2)"),
    ({"dist": np.zeros(4), "threshold": 1.0}, "expected a square (N, N) matrix, got (4,)"),
    ({"dist": [["a", "b"], ["c", "d"]], "threshold": 1.0}, "expected a numeric (N, N) distance matrix, got 'list'"),
    ({"dist": np.array([[0, np.nan], [np.nan, 0]]), "threshold": 1.0}, "expected finite values or +inf, got '2 NaN"),
    ({"dist": np.array([[0, -np.inf], [-np.inf, 0]]), "k": 1}, "expected finite values or +inf, got '2 NaN or -inf"),
    ({"linkage": "ward", "threshold": 1.0}, "linkage: expected one of ('single', 'average', 'complete'), got 'ward'"),
    ({}, "expected exactly one of k and threshold, got 'k=None, threshold=None'"),
    ({"k": 2, "threshold": 1.0}, "expected exactly one of k and threshold, got 'k=2, threshold=1.0'"),
    ({"k": 0}, "k: expected an integer in 1..3 (the number of items), got 0"),
    ({"k": 4}, "k: expected an integer in 1..3 (the number of items), got 4"),
    ({"k": 2.0}, "k: expected an integer in 1..3 (the number of items), got 2.0"),
    ({"k": True}, "k: expected an integer in 1..3 (the number of items), got True"),
    ({"dist": np.zeros((0, 0)), "k": 1}, "k: expected an integer in 1..0 (the number of items), got 1"),
    ({"threshold": float("nan")}, "threshold: expected a number (not NaN), got nan"),
    ({"threshold": "1"}, "threshold: expected a number (not NaN), got '1'"),
])
def test_bad_input_raises_input_error(kwargs, message):
    kwargs = {"dist": np.ones((3, 3)), "linkage": "average", **kwargs}
    with pytest.raises(InputError, match="^flat_clusters") as err:
        flat_clusters(kwargs.pop("dist"), **kwargs)
    assert message in str(err.value)


def test_agglomerative_labels_imports_no_scipy_cluster_or_spatial():
    code = ("import sys, numpy as np\n"
            "from shelfscan.cluster.methods import agglomerative_labels\n"
            "d = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))\n"
            "assert agglomerative_labels(d, linkage='average', threshold=0.5).tolist() == list(range(6))\n"
            "assert agglomerative_labels(d, linkage='single', k=2).tolist() == [0, 0, 0, 0, 0, 1]\n"
            "assert agglomerative_labels(d, linkage='single', threshold=1.5).tolist() == [0] * 6\n"
            "print(sorted(m for m in sys.modules if m.startswith(('scipy.cluster', 'scipy.spatial'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("linkage", LINKAGES)
def test_800_items_under_two_seconds(linkage):
    d = _blobs(11, 800)
    start = time.perf_counter()
    labels = flat_clusters(d, linkage=linkage, k=1)  # the whole tree
    flat_clusters(d, linkage=linkage, threshold=3.0)
    assert time.perf_counter() - start < 2.0
    assert labels.tolist() == [0] * 800
