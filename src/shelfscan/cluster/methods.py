"""Group embeddings into product types with the number of types found automatically.

Methods:

- ``"agglomerative"`` (and ``"auto"``, the default): agglomerative clustering (average linkage unless told) on
  the set-adapted :func:`~shelfscan.cluster.distances.combined_distance`, cut at ``distance_threshold`` (default
  1.0); or into exactly ``k`` clusters when ``k`` is given.
- ``"hdbscan"``: scikit-learn's HDBSCAN on the same distance; crops in no dense group are unassigned (-1).
- ``"kmeans"``: the seed recipe, k-means on the plain L2-normalised embeddings with k chosen by the best
  (cosine) silhouette over 2..``k_max`` (or ``k`` when given).

Labels are renumbered so that cluster 0 is the largest (ties: the cluster whose first member comes first).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shelfscan.cluster.distances import combined_distance, check_features
from shelfscan.cluster.linkage import flat_clusters
from shelfscan.errors import expect

METHODS = ("auto", "agglomerative", "hdbscan", "kmeans")
LINKAGES = ("average", "single", "complete")
DEFAULT_THRESHOLD = 1.0
K_MAX = 60
SILHOUETTE_SAMPLE = 2000
UNASSIGNED = -1


@dataclass
class ClusterResult:
    """Product types found in a set of embeddings.

    Attributes:
        labels: int64 (N,), cluster of each item, ``-1`` = unassigned; cluster 0 is the largest.
        silhouette: mean silhouette of the assigned items on the distance the method clustered by (cosine for
            k-means), None when undefined (fewer than 2 clusters, or every item alone).
        method: the method that ran (``"auto"`` resolves to ``"agglomerative"``).
        k: number of clusters (unassigned items not counted).
        info: method details, e.g. ``{"distance_threshold": 1.0}`` or ``{"k_silhouettes": {2: 0.1, ...}}``.
        distances: (N, N) the combined distances agglomerative and HDBSCAN clustered on (None for k-means and
            for sets with nothing to split), for callers that refine the clusters on the same distances.
    """

    labels: np.ndarray
    silhouette: float | None
    method: str
    k: int
    info: dict = field(default_factory=dict)
    distances: np.ndarray | None = field(default=None, repr=False)

    @property
    def sizes(self) -> np.ndarray:
        """int64 (k,): items per cluster, largest first."""
        return np.bincount(self.labels[self.labels >= 0], minlength=self.k).astype(np.int64)

    @property
    def unassigned(self) -> int:
        return int((self.labels == UNASSIGNED).sum())


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber cluster ids 0..k-1 by decreasing size (ties by first appearance); -1 stays -1."""
    labels = np.asarray(labels, np.int64)
    out = np.full(len(labels), UNASSIGNED, np.int64)
    ids = [c for c in dict.fromkeys(labels.tolist()) if c != UNASSIGNED]  # first-appearance order
    sizes = {c: int((labels == c).sum()) for c in ids}
    order = sorted(range(len(ids)), key=lambda i: (-sizes[ids[i]], i))
    for new, i in enumerate(order):
        out[labels == ids[i]] = new
    return out


def silhouette(data: np.ndarray, labels: np.ndarray, metric: str, sample_size: int = SILHOUETTE_SAMPLE,
               random_state: int = 0) -> float | None:
    """Mean silhouette of the assigned items (``labels >= 0``), sampled above ``sample_size`` items.

    Args:
        data: (N, D) features, or (N, N) distances with ``metric="precomputed"``.
        labels: (N,) cluster ids, -1 left out.
    """
    keep = np.flatnonzero(labels >= 0)
    if len(keep) > sample_size:
        keep = np.sort(np.random.default_rng(random_state).choice(keep, sample_size, replace=False))
    lab = labels[keep]
    n_clusters = len(np.unique(lab))
    if not 2 <= n_clusters <= len(lab) - 1:
        return None
    if metric == "precomputed":
        return silhouette_precomputed(data[np.ix_(keep, keep)], lab)
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(data[keep], lab, metric=metric))


def silhouette_precomputed(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient from an (N, N) distance matrix and (N,) labels of at least 2 clusters.

    The definition of ``sklearn.metrics.silhouette_score`` (``(b - a) / max(a, b)``, 0 for a cluster of one),
    written out because importing scikit-learn costs ~2.5 s of every cold ``shelfscan count``.
    """
    _, inv = np.unique(labels, return_inverse=True)
    onehot = np.eye(int(inv.max()) + 1)[inv]  # (N, K)
    sums = np.asarray(dist, np.float64) @ onehot  # (N, K) summed distance of each item to each cluster
    sizes = onehot.sum(0)
    own = sizes[inv]
    rows = np.arange(len(inv))
    a = sums[rows, inv] / np.maximum(own - 1, 1)
    other = sums / sizes
    other[rows, inv] = np.inf
    b = other.min(1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def agglomerative_labels(dist: np.ndarray, *, linkage: str, k: int | None = None,
                         threshold: float | None = None) -> np.ndarray:
    """Agglomerative clustering of an (N, N) distance matrix: int64 (N,) cluster ids (first-appearance order).

    ``k`` clusters exactly (``threshold`` then ignored), or (``k`` None) every merge closer than ``threshold``
    (strictly, as scikit-learn's ``AgglomerativeClustering(distance_threshold=...)``). The partitions are SciPy's
    hierarchy's (:func:`~shelfscan.cluster.linkage.flat_clusters`, numpy only: SciPy's costs ~0.5 s to import).
    """
    expect(k is not None or threshold is not None, "agglomerative_labels", "k or threshold", "neither")
    if k is not None:
        return flat_clusters(dist, linkage=linkage, k=k)
    return flat_clusters(dist, linkage=linkage, threshold=threshold)


def _hdbscan(dist: np.ndarray, min_cluster_size: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    size = max(2, min(min_cluster_size, len(dist)))
    labels = HDBSCAN(min_cluster_size=size, min_samples=1, metric="precomputed", copy=True).fit_predict(dist)
    if (labels < 0).all():  # no split is stable; the whole set may still be one tight type (identical items)
        labels = HDBSCAN(min_cluster_size=size, min_samples=1, metric="precomputed", copy=True,
                         allow_single_cluster=True).fit_predict(dist)
    return labels


def _kmeans(x: np.ndarray, k: int | None, k_max: int, random_state: int) -> tuple[np.ndarray, dict]:
    from sklearn.cluster import KMeans

    if k is not None:
        return KMeans(k, random_state=random_state).fit_predict(x), {}
    scores, best = {}, None
    for kk in range(2, min(k_max, len(x) - 1) + 1):
        labels = KMeans(kk, random_state=random_state).fit_predict(x)
        s = silhouette(x, labels, "cosine")
        if s is None:
            continue
        scores[kk] = s
        if best is None or s > best[0]:
            best = (s, labels)
    if best is None:  # fewer than 3 distinct items: no k >= 2 has a silhouette
        return np.zeros(len(x), np.int64), {"k_silhouettes": scores}
    return best[1], {"k_silhouettes": scores}


def cluster_embeddings(features: np.ndarray, *, method: str = "auto", k: int | None = None,
                       distance_threshold: float | None = None, linkage: str = "average", min_cluster_size: int = 2,
                       k_max: int = K_MAX, random_state: int = 0, **distance_kwargs) -> ClusterResult:
    """Find product types among embeddings, with their number found automatically unless ``k`` is given.

    Args:
        features: (N, D) embeddings (e.g. :meth:`CropEmbedder.embed_boxes`); rows are L2-normalised here.
        method: ``"auto"`` (= ``"agglomerative"``), ``"agglomerative"``, ``"hdbscan"`` or ``"kmeans"``.
        k: number of clusters (agglomerative and k-means only); None finds it.
        distance_threshold: agglomerative cut on the combined distance (default 1.0; larger merges more).
        linkage: agglomerative linkage, ``"average"`` (default: the mean distance between two clusters is cut) or
            ``"single"`` (the nearest pair is cut: a cluster may be a chain of look-alikes, such as the facings of
            one product along a shelf whose light changes from one end to the other), ``"complete"``.
        min_cluster_size: smallest HDBSCAN cluster (2 keeps products with two facings as a type).
        k_max: largest k the k-means silhouette search tries.
        random_state: k-means seed (the other methods are deterministic).
        **distance_kwargs: ``raw_scale``, ``white_scale``, ``whiten_dim``, ``whiten_reg``, ``neighbours``,
            ``neighbour_weight`` of
            :func:`~shelfscan.cluster.distances.combined_distance`.

    Returns:
        :class:`ClusterResult`. N = 0 gives no labels and k = 0; N = 1 gives one cluster; identical
        embeddings give one cluster.

    Raises:
        InputError: unknown method, bad shapes, ``k`` outside 1..N, or ``k`` with HDBSCAN.
    """
    expect(method in METHODS, "method", f"one of {METHODS}", method)
    expect(linkage in LINKAGES, "linkage", f"one of {LINKAGES}", linkage)
    x = check_features(features)
    n = len(x)
    method = "agglomerative" if method == "auto" else method
    expect(k is None or (isinstance(k, (int, np.integer)) and k >= 1), "k", "a positive integer or None", k)
    expect(k is None or method != "hdbscan", "k", "None with method 'hdbscan' (it finds k itself)", k)
    expect(k is None or n == 0 or k <= n, "k", f"at most the number of items ({n})", k)
    threshold = DEFAULT_THRESHOLD if distance_threshold is None else float(distance_threshold)
    expect(threshold > 0, "distance_threshold", "a number > 0", distance_threshold)
    expect(isinstance(min_cluster_size, (int, np.integer)) and min_cluster_size >= 2, "min_cluster_size",
           "an integer >= 2", min_cluster_size)
    expect(isinstance(k_max, (int, np.integer)) and k_max >= 2, "k_max", "an integer >= 2", k_max)
    info: dict = {}
    if n <= 1 or k == 1 or (k is None and float(np.abs(x - x[0]).max()) < 1e-7):  # nothing to split
        labels = np.zeros(n, np.int64)
        return ClusterResult(labels, None, method, int(n > 0), info)
    if method == "kmeans":
        raw, info = _kmeans(x, k, k_max, random_state)
        labels = relabel_by_size(raw)
        return ClusterResult(labels, silhouette(x, labels, "cosine"), method, int(labels.max()) + 1, info)
    dist = combined_distance(x, **distance_kwargs)
    if method == "agglomerative":
        raw = agglomerative_labels(dist, linkage=linkage, k=k, threshold=threshold)
        info = {"linkage": linkage, **({"distance_threshold": threshold} if k is None else {})}
    else:
        raw = _hdbscan(dist, int(min_cluster_size))
        info = {"min_cluster_size": int(min_cluster_size)}
    labels = relabel_by_size(raw)
    k_found = int(labels.max()) + 1 if (labels >= 0).any() else 0
    return ClusterResult(labels, silhouette(dist, labels, "precomputed"), method, k_found, info, dist)
