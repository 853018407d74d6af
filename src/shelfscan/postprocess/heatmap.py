"""Candidate boxes as 2-D Gaussians, their summed heat map at reduced resolution, and its blobs.

Each candidate box ``(x1, y1, x2, y2)`` becomes a Gaussian with mean at the box centre and diagonal covariance
``((w / 4)^2, (h / 4)^2)``: truncated at one sigma it covers the box shrunk by 2 around its centre, so products
that touch leave a gap between their Gaussians.
"""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import box_centres, xyxy_to_xywh
from shelfscan.imageops import connected_components


def box_gaussians(boxes: np.ndarray, min_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Means (N, 2) ``(x, y)`` and variances (N, 2) of the Gaussians of ``boxes`` (N, 4) xyxy.

    ``min_sigma`` (pixels) floors the standard deviations so zero-size boxes stay well defined.
    """
    means = box_centres(boxes)
    sigmas = np.maximum(xyxy_to_xywh(boxes)[:, 2:] / 4, min_sigma)
    return means, sigmas**2


def map_scale(boxes: np.ndarray, target_px: float, max_scale: float = 2.0) -> float:
    """Scale from image pixels to heat-map pixels so the median shrunk box is about ``target_px`` wide.

    Args:
        boxes: (N, 4) xyxy with N >= 1.
        target_px: wanted geometric-mean side of the median shrunk (half-size) box on the map.
        max_scale: upper bound, so tiny boxes do not blow the map up.
    """
    w, h = np.maximum(xyxy_to_xywh(boxes)[:, 2:], 1.0).T
    median_side = float(np.median(np.sqrt(w * h))) / 2
    return min(target_px / median_side, max_scale)


def _profiles(centre: np.ndarray, sigma: np.ndarray, weight: np.ndarray, scale: float,
              length: int):
    """Sparse (N, length) SciPy CSR matrix of 1-D Gaussian profiles sampled at map-pixel centres, truncated at
    1 sigma.

    Row i is ``weight[i] * exp(-(x - centre[i])^2 / (2 sigma[i]^2))`` at ``x = (u + 0.5) / scale`` for the map
    pixels ``u`` with ``|x - centre[i]| <= sigma[i]``; a Gaussian narrower than one map pixel keeps the pixel
    under its centre.
    """
    lo = np.ceil(scale * (centre - sigma) - 0.5)
    hi = np.floor(scale * (centre + sigma) - 0.5)
    narrow = hi < lo
    lo[narrow] = hi[narrow] = np.floor(scale * centre[narrow])
    lo = np.maximum(lo, 0).astype(np.int64)  # a Gaussian outside the map gets no pixel
    hi = np.minimum(hi, length - 1).astype(np.int64)
    counts = np.maximum(hi - lo + 1, 0)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    row = np.repeat(np.arange(len(centre)), counts)
    cols = lo[row] + np.arange(indptr[-1]) - indptr[row]
    x = (cols + 0.5) / scale
    data = weight[row] * np.exp(-0.5 * (x - centre[row]) ** 2 / sigma[row] ** 2)
    import scipy.sparse as sp  # on first use: SciPy is not imported by every detect

    return sp.csr_matrix((data, cols, indptr), shape=(len(centre), length))


def heat_map(means: np.ndarray, variances: np.ndarray, peaks: np.ndarray, scale: float,
             image_size: tuple[int, int]) -> np.ndarray:
    """Sum of the candidates' Gaussians, each truncated at 1 sigma and scaled to its peak.

    Separable: with ``Gx`` (N, W') and ``Gy`` (N, H') the sparse 1-D profiles, the map is ``Gy^T diag(peaks) Gx``.

    Args:
        means: (N, 2) ``(x, y)`` image pixels.
        variances: (N, 2).
        peaks: (N,) value of each Gaussian at its mean (the candidate's confidence).
        scale: map pixels per image pixel.
        image_size: ``(height, width)`` of the image.

    Returns:
        float64 array (H', W') with ``H' = ceil(height * scale)``, ``W' = ceil(width * scale)``.
    """
    height, width = map_shape(image_size, scale)
    sigmas = np.sqrt(variances)
    gx = _profiles(means[:, 0], sigmas[:, 0], np.ones(len(means)), scale, width)
    gy = _profiles(means[:, 1], sigmas[:, 1], peaks, scale, height)
    return (gy.T.tocsr() @ gx).toarray()


def map_shape(image_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``(H', W')`` of the heat map of an image of ``image_size = (height, width)``."""
    return max(1, int(np.ceil(image_size[0] * scale))), max(1, int(np.ceil(image_size[1] * scale)))


def blobs(heat: np.ndarray, rel_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Connected regions (4-connectivity) of ``heat > rel_threshold * heat.max()``.

    Returns:
        labels: int32 (H', W'), 0 for background, 1..B for blobs.
        areas: int64 (B + 1,), pixel count of each label (``areas[0]`` is the background).
    """
    peak = float(heat.max()) if heat.size else 0.0
    mask = (heat > rel_threshold * peak).astype(np.uint8) if peak > 0 else np.zeros(heat.shape, np.uint8)
    return connected_components(mask, connectivity=4)


def pixel_of(points: np.ndarray, scale: float, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (each (N,) int64) of the map pixel under each image point (N, 2) ``(x, y)``, clipped."""
    col = np.clip(np.floor(points[:, 0] * scale), 0, shape[1] - 1).astype(np.int64)
    row = np.clip(np.floor(points[:, 1] * scale), 0, shape[0] - 1).astype(np.int64)
    return row, col
