"""Distances between product embeddings, adapted to the set being grouped (one shelf, one folder of crops).

Two views of the same crops are averaged:

- the plain cosine distance of the embeddings: facings of one product on one shelf are near-duplicates
  (cosine distance well under ``raw_scale`` = 0.2), whatever else is on the shelf;
- the cosine distance after PCA whitening fitted on the set itself (no labels): the directions in which the
  crops of this set differ most stop dominating, so photos of one product taken from other angles or in other
  light (large plain distances) still come out closer to each other than to other products.

``combined_distance = (cosine / raw_scale + whitened cosine / white_scale) / 2``: 1.0 is the default cut, where
a pair sits at the plain scale and the whitened scale at once (or much closer in one view than the other).

With ``neighbours=k`` (one shelf's grouping uses it: ``CountConfig.neighbours``) a third view is added,
``neighbour_weight × shared_neighbour_distance``: two facings of one product have the same nearest neighbours (the
product's other facings) even where light or angle moves them apart, while two look-alike products of one brand
each have their own. It makes the distance adapt to how crowded each part of the set is.
"""
from __future__ import annotations

import numpy as np

from shelfscan.errors import InputError, expect

RAW_SCALE = 0.2
WHITE_SCALE = 0.85
WHITEN_DIM = 64
WHITEN_REG = 0.1
NEIGHBOUR_WEIGHT = 0.5
_MIN_VARIANCE = 1e-10  # below this total variance the set is one point: nothing to whiten


def check_features(features: np.ndarray, what: str = "features") -> np.ndarray:
    """Return ``features`` as float64 (N, D) with unit-norm rows (zero rows stay zero), or raise InputError."""
    try:
        x = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what}: expected a numeric array of shape (N, D), got {type(features).__name__}") from exc
    if x.ndim == 2 and x.shape[0] == 0:
        return x
    expect(x.ndim == 2 and x.shape[1] > 0, what, "shape (N, D) with D >= 1", x.shape)
    expect(bool(np.isfinite(x).all()), what, "finite values", "NaN or inf")
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def cosine_distance(x: np.ndarray) -> np.ndarray:
    """Unit rows (N, D) -> (N, N) float64 cosine distances in [0, 2], exact zeros on the diagonal."""
    d = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return d


def whiten(x: np.ndarray, dim: int = WHITEN_DIM, reg: float = WHITEN_REG) -> np.ndarray | None:
    """PCA whitening fitted on the rows themselves.

    Args:
        x: (N, D) unit rows.
        dim: number of principal components kept (at most N - 1 and the rank of the centred data).
        reg: each component is divided by ``sqrt(eigenvalue + reg * mean kept eigenvalue)`` (regularised
            whitening: the weakest kept components are not blown up to the size of the strongest).

    Returns:
        (N, d) float64 unit rows, or None when the set has no spread to whiten (N < 3, or all rows equal).
    """
    expect(dim >= 1, "whiten dim", "an integer >= 1", dim)
    expect(reg >= 0, "whiten reg", "a number >= 0", reg)
    if len(x) < 3:
        return None
    centred = x - x.mean(0)
    if float((centred ** 2).sum()) / len(x) < _MIN_VARIANCE:
        return None
    gram = centred @ centred.T  # (N, N): cheaper than the (D, D) covariance when N < D, same spectrum
    if len(x) <= x.shape[1]:
        evals, evecs = np.linalg.eigh(gram)
        evals, evecs = evals[::-1], evecs[:, ::-1]
        keep = evals > evals[0] * 1e-9
        d = int(min(dim, len(x) - 1, keep.sum()))
        ev = evals[:d] / len(x)
        proj = evecs[:, :d] * np.sqrt(evals[:d])  # centred @ V = U S
    else:
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        keep = s ** 2 > (s[0] ** 2) * 1e-9
        d = int(min(dim, len(x) - 1, keep.sum()))
        ev = s[:d] ** 2 / len(x)
        proj = centred @ vt[:d].T
    z = proj / np.sqrt(ev + reg * ev.mean())
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def shared_neighbour_distance(dist: np.ndarray, k: int) -> np.ndarray:
    """How little two items' neighbourhoods overlap.

    Args:
        dist: (N, N) symmetric distances (zero diagonal).
        k: neighbourhood size (each item's ``min(k, N - 1)`` nearest other items; ties by index).

    Returns:
        (N, N) float64 in [0, 1], symmetric, zero diagonal: ``1 - |kNN(i) ∩ kNN(j)| / k``.
    """
    d = np.asarray(dist, np.float64)
    expect(d.ndim == 2 and d.shape[0] == d.shape[1], "shared_neighbour_distance dist", "a square (N, N) matrix",
           d.shape)
    expect(isinstance(k, (int, np.integer)) and k >= 1, "shared_neighbour_distance k", "an integer >= 1", k)
    n = len(d)
    k = int(min(k, n - 1))
    if k < 1:
        return np.zeros((n, n))
    others = d + np.diag(np.full(n, np.inf))  # an item is not its own neighbour
    nearest = np.argsort(others, axis=1, kind="stable")[:, :k]
    member = np.zeros((n, n))
    member[np.arange(n)[:, None], nearest] = 1.0
    out = 1.0 - (member @ member.T) / k
    np.fill_diagonal(out, 0.0)
    return out


def combined_distance(features: np.ndarray, *, raw_scale: float = RAW_SCALE, white_scale: float = WHITE_SCALE,
                      whiten_dim: int = WHITEN_DIM, whiten_reg: float = WHITEN_REG, neighbours: int = 0,
                      neighbour_weight: float = NEIGHBOUR_WEIGHT) -> np.ndarray:
    """The set-adapted distance used by the default grouping.

    Args:
        features: (N, D) embeddings (rows are L2-normalised here).
        raw_scale: plain cosine distance that counts as 1.
        white_scale: whitened cosine distance that counts as 1.
        whiten_dim, whiten_reg: see :func:`whiten`.
        neighbours: k of the shared-neighbour view (0: left out).
        neighbour_weight: weight of the shared-neighbour view (:func:`shared_neighbour_distance` on the other two).

    Returns:
        (N, N) float64, symmetric, zero diagonal: ``(cos / raw_scale + cos_whitened / white_scale) / 2``, or
        ``cos / raw_scale`` when the set cannot be whitened (fewer than 3 crops, or all identical); plus
        ``neighbour_weight × shared_neighbour_distance(that, neighbours)`` when ``neighbours`` > 0.
    """
    expect(raw_scale > 0, "raw_scale", "a number > 0", raw_scale)
    expect(white_scale > 0, "white_scale", "a number > 0", white_scale)
    expect(isinstance(neighbours, (int, np.integer)) and not isinstance(neighbours, bool) and neighbours >= 0,
           "neighbours", "an integer >= 0", neighbours)
    expect(neighbour_weight >= 0, "neighbour_weight", "a number >= 0", neighbour_weight)
    x = check_features(features)
    d = cosine_distance(x) / raw_scale
    z = whiten(x, whiten_dim, whiten_reg)
    if z is not None:
        d = (d + cosine_distance(z) / white_scale) / 2
    if neighbours > 0 and neighbour_weight > 0:
        d = d + neighbour_weight * shared_neighbour_distance(d, neighbours)
    return d
