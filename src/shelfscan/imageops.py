"""Pixel operations of the inference path in numpy and Pillow, with OpenCV's conventions (issue #16: the core
install has no OpenCV; ``synth`` and training augmentation, in the ``[synth]`` extra, still use it).

- :func:`rgb_to_hsv` is ``cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)`` bit for bit (8-bit: hue 0..179, saturation and
  value 0..255; the same fixed-point tables), :func:`hsv_to_rgb` is ``cv2.COLOR_HSV2RGB`` (float32 sectors).
- :func:`hist_bins` is the bin of ``cv2.calcHist`` with uniform ranges for 8-bit values.
- :func:`resize` averages areas when shrinking (``cv2.INTER_AREA``, float32 weights) and samples bilinearly
  otherwise (``cv2.INTER_LINEAR``: the same pixel centres, edge clamping and fixed-point weights): separable
  weighted sums of source rows and columns, within one level of OpenCV's results.
- When OpenCV is installed (the ``[synth]`` extra, or any ``opencv-python(-headless)``), :func:`resize` and
  :func:`rgb_to_hsv` hand the work to it: the same results (bit for bit for HSV, within one level for resizing)
  several times faster (1600 -> 1024 px: ~10 ms against ~55 ms in numpy on 2 cores). ``SHELFSCAN_NO_OPENCV=1``
  keeps the numpy code even then (tests compare the two).
- :func:`connected_components` labels 4- or 8-connected regions (``cv2.connectedComponentsWithStats``' regions and
  their pixel counts; labels in raster order of each region's first pixel, as OpenCV numbers 4-connected ones).
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from shelfscan.errors import InputError, expect

SYNTH_EXTRA = "pip install 'shelfscan[synth]'"

_SHIFT = 12  # OpenCV's hsv_shift: fixed-point bits of its RGB -> HSV tables
_V = np.arange(256, dtype=np.int64)
_SDIV = np.concatenate([[0], np.round((255 << _SHIFT) / _V[1:].astype(np.float64))]).astype(np.int32)
_HDIV = np.concatenate([[0], np.round((180 << _SHIFT) / (6.0 * _V[1:]))]).astype(np.int32)
_HALF = 1 << (_SHIFT - 1)


def import_cv2(what: str):
    """``cv2``, or an :class:`~shelfscan.errors.InputError` naming the extra that brings it (synthetic shelves
    and training augmentation need OpenCV; inference does not)."""
    try:
        import cv2
    except ImportError as exc:
        raise InputError(f"{what}: expected OpenCV, got it missing (install it with {SYNTH_EXTRA})") from exc
    return cv2


@lru_cache(maxsize=1)
def opencv_accelerator():
    """``cv2`` when it is installed and ``SHELFSCAN_NO_OPENCV`` is unset, else None (the numpy code runs)."""
    if os.environ.get("SHELFSCAN_NO_OPENCV"):
        return None
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def _check_uint8_rgb(image: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(image)
    expect(arr.dtype == np.uint8 and arr.ndim >= 1 and arr.shape[-1] == 3, what, "a uint8 array of shape (..., 3)",
           f"{arr.dtype} array of shape {arr.shape}")
    return arr


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """uint8 (..., 3) RGB -> uint8 (..., 3) HSV, exactly ``cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)`` (hue 0..179)."""
    rgb = _check_uint8_rgb(rgb, "rgb_to_hsv image")
    cv2 = opencv_accelerator()
    if cv2 is not None and rgb.size:
        width = rgb.shape[-2] if rgb.ndim >= 2 else 1  # rows of whole image rows: OpenCV works a row at a time
        flat = np.ascontiguousarray(rgb).reshape(-1, width, 3)
        return cv2.cvtColor(flat, cv2.COLOR_RGB2HSV).reshape(rgb.shape)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    vmax = np.maximum(np.maximum(r, g), b)
    diff = vmax - np.minimum(np.minimum(r, g), b)
    r32, g32, b32, d32 = (c.astype(np.int32) for c in (r, g, b, diff))
    num = np.where(vmax == r, g32 - b32, np.where(vmax == g, b32 - r32 + 2 * d32, r32 - g32 + 4 * d32))
    hue = (num * _HDIV[diff] + _HALF) >> _SHIFT
    hue += 180 * (hue < 0)
    sat = (d32 * _SDIV[vmax] + _HALF) >> _SHIFT
    return np.stack([hue.astype(np.uint8), sat.astype(np.uint8), vmax], -1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """uint8 (..., 3) HSV (hue 0..179, OpenCV's 8-bit convention) -> uint8 (..., 3) RGB, as
    ``cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)`` (float32 sector arithmetic; OpenCV's own rounding differs by one
    level on 0.02 % of the colours)."""
    hsv = _check_uint8_rgb(hsv, "hsv_to_rgb image")
    h = hsv[..., 0].astype(np.float32) * np.float32(6.0 / 180.0)
    s = hsv[..., 1].astype(np.float32) * np.float32(1.0 / 255.0)
    v = hsv[..., 2].astype(np.float32) * np.float32(1.0 / 255.0)
    h = np.where(h >= 6, h - np.float32(6) * np.floor(h / np.float32(6)), h)
    sector = np.floor(h).astype(np.int64)
    f = h - sector
    bad = (sector < 0) | (sector >= 6)
    sector, f = np.where(bad, 0, sector), np.where(bad, np.float32(0), f)
    one = np.float32(1)
    tab = np.stack([v, v * (one - s), v * (one - s * f), v * (one - s * (one - f))], -1)
    # OpenCV's sector_data, as (b, g, r) indices into tab; RGB order is its reverse
    order = np.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])[sector][..., ::-1]
    rgb = np.take_along_axis(tab, order, -1)
    rgb = np.where((hsv[..., 1] == 0)[..., None], v[..., None], rgb)
    return np.clip(np.rint(rgb * np.float32(255)), 0, 255).astype(np.uint8)


def hist_bins(values: np.ndarray, bins: int, low: float, high: float) -> np.ndarray:
    """Bin of each uint8 value in ``bins`` uniform bins over [low, high), as ``cv2.calcHist`` counts it
    (``floor(v * bins / (high - low) - low * bins / (high - low))``); -1 for values outside the range.

    Returns:
        int64 array of ``values``' shape.
    """
    a = bins / (high - low)
    idx = np.floor(_V * a - low * a).astype(np.int64).clip(0, bins - 1)
    lut = np.where((_V >= low) & (_V < high), idx, -1)
    return lut[np.asarray(values, np.uint8)]


def counts_per_image(bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Histograms of a batch: int64 (B, n_bins), row i counting the values of ``bins[i]`` (any shape after the
    first axis) in each bin 0..n_bins-1; -1 is not counted (``cv2.calcHist`` per image with a mask)."""
    b = np.asarray(bins, np.int64)
    b = b.reshape(len(b), int(np.prod(b.shape[1:])))  # (B, pixels); also for an empty batch
    keep = b >= 0
    flat = (b + n_bins * np.arange(len(b)).reshape(-1, 1))[keep]
    return np.bincount(flat, minlength=len(b) * n_bins).reshape(len(b), n_bins)


RESIZE_METHODS = ("auto", "area", "linear")
_COEF_SCALE = 2048  # OpenCV's INTER_RESIZE_COEF_SCALE: fixed-point weights of 8-bit bilinear resizing


def _area_taps(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights, each (n_dst, K), of area averaging along one axis (``cv2.INTER_AREA`` when
    shrinking): the share of each source pixel in an output pixel's footprint; rows sum to 1."""
    s = n_src / n_dst
    lo = np.arange(n_dst, dtype=np.float64)[:, None] * s
    j = np.floor(lo).astype(np.int64) + np.arange(int(np.ceil(s)) + 1)
    w = np.clip(np.minimum(lo + s, j + 1) - np.maximum(lo, j), 0, None) / s
    return np.minimum(j, n_src - 1), w.astype(np.float32)


def _linear_taps(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights, each (n_dst, 2), of ``cv2.INTER_LINEAR`` along one axis: samples at
    ``(i + 0.5) * n_src / n_dst - 0.5`` (float32, as OpenCV), clamped to the edge pixels."""
    x = ((np.arange(n_dst) + 0.5) * (n_src / n_dst) - 0.5).astype(np.float32)
    x0 = np.floor(x).astype(np.int64)
    f = x - x0
    low, high = x0 < 0, x0 >= n_src - 1
    x0, f = np.where(low, 0, np.where(high, n_src - 1, x0)), np.where(low | high, np.float32(0), f)
    return np.stack([x0, np.minimum(x0 + 1, n_src - 1)], 1), np.stack([1 - f, f], 1).astype(np.float32)


def _resample(arr: np.ndarray, axis: int, taps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Weighted sum of source rows (axis 0) or columns (axis 1) of (H, W, C): float32 (n_dst, W, C) or
    (H, n_dst, C)."""
    idx, w = taps
    out = None
    for k in range(idx.shape[1]):
        wk = w[:, k, None, None] if axis == 0 else w[None, :, k, None]
        term = np.take(arr, idx[:, k], axis=axis).astype(np.float32) * wk
        out = term if out is None else np.add(out, term, out=out)
    return out


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _resize_area(arr: np.ndarray, w: int, h: int) -> np.ndarray:
    """Area averaging of uint8 (H, W, C) to (h, w, C), no axis growing: rows first, then columns. Integer
    factors round halves up (OpenCV's integer block average), others to even (its float path)."""
    rows = _resample(arr, 0, _area_taps(arr.shape[0], h)) if h != arr.shape[0] else arr.astype(np.float32)
    out = _resample(rows, 1, _area_taps(arr.shape[1], w)) if w != arr.shape[1] else rows
    if arr.shape[0] % h == 0 and arr.shape[1] % w == 0:
        out = np.floor(out + np.float32(0.5))
    return _to_uint8(out)


def _resize_linear(arr: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear sampling of uint8 (H, W, C) to (h, w, C) in OpenCV's fixed point (11-bit weights; columns first,
    then rows, rounded as its vector code does): within one level of ``cv2.INTER_LINEAR``, equal on >99 %."""
    xi, xw = _linear_taps(arr.shape[1], w)
    yi, yw = _linear_taps(arr.shape[0], h)
    cx = np.rint(xw * _COEF_SCALE).astype(np.int32)
    cy = np.rint(yw * _COEF_SCALE).astype(np.int32)
    c = arr.shape[2]
    rows, yi = np.unique(yi, return_inverse=True)  # only the source rows that are sampled
    src = arr[rows].reshape(len(rows), -1)  # (rows, W * C): gathers of whole flat columns are fast
    flat = (xi[:, :, None] * c + np.arange(c)).transpose(1, 0, 2).reshape(2, w * c)  # (2, w * C) taps
    kx = np.repeat(cx, c, axis=0).T  # (2, w * C)
    cols = np.take(src, flat[0], axis=1).astype(np.int32) * kx[0]
    cols += np.take(src, flat[1], axis=1) * kx[1]
    cols >>= 4
    yi = yi.reshape(h, 2)
    out = (cols[yi[:, 0]] * cy[:, 0, None]) >> 16
    out += (cols[yi[:, 1]] * cy[:, 1, None]) >> 16
    out += 2
    out >>= 2
    return np.clip(out, 0, 255).astype(np.uint8).reshape(h, w, c)


def resize(image: np.ndarray, size: tuple[int, int], method: str = "auto") -> np.ndarray:
    """Resize uint8 (H, W, C) or (H, W) to ``size = (width, height)`` as OpenCV does.

    Args:
        method: ``"area"``: area averaging (``cv2.INTER_AREA``; no axis may grow); ``"linear"``: bilinear
            sampling (``cv2.INTER_LINEAR``); ``"auto"``: area unless an axis grows.

    Returns:
        uint8 (height, width, C) or (height, width); ``image`` itself when the size is already right. Within one
        level of OpenCV's result (its fixed-point rounding).
    """
    arr = np.asarray(image)
    w, h = int(size[0]), int(size[1])
    expect(method in RESIZE_METHODS, "resize method", f"one of {RESIZE_METHODS}", method)
    expect(w > 0 and h > 0, "resize size", "a positive (width, height)", size)
    expect(arr.dtype == np.uint8 and arr.ndim in (2, 3) and arr.size > 0, "resize image",
           "a non-empty uint8 (H, W) or (H, W, C) array", f"{arr.dtype} array of shape {arr.shape}")
    if arr.shape[:2] == (h, w):
        return arr
    grows = h > arr.shape[0] or w > arr.shape[1]
    expect(method != "area" or not grows, "resize method 'area'", "a size no larger than the image's on each axis",
           f"{(w, h)} for an image of {(arr.shape[1], arr.shape[0])}")
    cv2 = opencv_accelerator()
    if cv2 is not None and (arr.ndim == 2 or arr.shape[2] in (1, 3, 4)):
        mode = cv2.INTER_LINEAR if method == "linear" or (method == "auto" and grows) else cv2.INTER_AREA
        out = cv2.resize(np.ascontiguousarray(arr), (w, h), interpolation=mode)
        return out.reshape(h, w, *arr.shape[2:])
    arr3 = arr if arr.ndim == 3 else arr[..., None]
    out = _resize_linear(arr3, w, h) if method == "linear" or (method == "auto" and grows) else \
        _resize_area(arr3, w, h)
    return out if arr.ndim == 3 else out[..., 0]


def connected_components(mask: np.ndarray, connectivity: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Connected regions of the non-zero pixels of a 2-D ``mask``.

    Returns:
        labels: int32 of ``mask``'s shape, 0 for background, 1..B for the regions in raster order of their first
        pixel (the labels of ``cv2.connectedComponentsWithStats`` for 4-connectivity).
        areas: int64 (B + 1,), pixels per label (``areas[0]``: the background).
    """
    from scipy import ndimage

    expect(connectivity in (4, 8), "connected_components connectivity", "4 or 8", connectivity)
    arr = np.asarray(mask)
    expect(arr.ndim == 2, "connected_components mask", "a 2-D array", f"shape {arr.shape}")
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    labels, n = ndimage.label(arr != 0, structure=structure, output=np.int32)
    return labels, np.bincount(labels.ravel(), minlength=n + 1).astype(np.int64)
