"""Product crops: cut boxes out of a photo, resize them for the embedding network, describe their colours."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from shelfscan.box_ops import box_sizes
from shelfscan.errors import InputError, expect
from shelfscan.imageops import counts_per_image, hist_bins, resize, rgb_to_hsv

# HSV histogram of the central part of a crop (the label): hue x saturation x value bins
COLOUR_BINS: tuple[int, int, int] = (16, 4, 2)
COLOUR_MARGIN = 0.125  # fraction of the crop left out on each side (shelf edges, neighbours, hands)
HSV_RANGES = ((0, 180), (0, 256), (0, 256))  # OpenCV's 8-bit HSV: hue 0..179
HSV_CHUNK = 256  # crops converted to HSV at a time (bounded memory for thousands of boxes)


def check_rgb_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Return ``image`` as a uint8 RGB array (H, W, 3), or raise :class:`InputError` saying what came."""
    arr = np.asarray(image)
    expect(arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8 and arr.shape[0] > 0 and arr.shape[1] > 0,
           what, "an RGB uint8 array of shape (H, W, 3)", f"{arr.dtype} array of shape {arr.shape}")
    return arr


def check_boxes(xyxy: np.ndarray, what: str = "xyxy") -> np.ndarray:
    """Return boxes as float32 (N, 4); raise :class:`InputError` for another shape or non-finite values."""
    try:
        boxes = np.asarray(xyxy, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what}: expected an array of shape (N, 4), got {type(xyxy).__name__}") from exc
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    expect(boxes.ndim == 2 and boxes.shape[1] == 4, what, "shape (N, 4)", boxes.shape)
    expect(bool(np.isfinite(boxes).all()), what, "finite coordinates", "NaN or inf")
    return boxes


def grow_boxes(xyxy: np.ndarray, context: float) -> np.ndarray:
    """Boxes (N, 4) grown by ``context`` of their width/height on each side, float64, not clipped."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    size = box_sizes(boxes)
    return boxes + np.concatenate([-size, size], 1) * context


def box_windows(xyxy: np.ndarray, width: int, height: int, context: float = 0.0) -> np.ndarray:
    """Integer pixel windows of the boxes, grown by ``context`` of their size on each side and clipped.

    Args:
        xyxy: (N, 4) absolute pixel corners.
        width, height: size of the photo.
        context: fraction of the box width/height added on each side (0 = the box itself).

    Returns:
        int64 (N, 4) ``x1, y1, x2, y2`` with ``0 <= x1 < x2 <= width`` and ``0 <= y1 < y2 <= height``: every
        window holds at least one pixel, also for boxes that are empty or lie outside the photo.
    """
    grown = grow_boxes(check_boxes(xyxy), context)
    x1 = np.clip(np.floor(grown[:, 0]), 0, width - 1)
    y1 = np.clip(np.floor(grown[:, 1]), 0, height - 1)
    x2 = np.clip(np.ceil(grown[:, 2]), x1 + 1, width)
    y2 = np.clip(np.ceil(grown[:, 3]), y1 + 1, height)
    return np.stack([x1, y1, x2, y2], 1).astype(np.int64)


def resize_crop(crop: np.ndarray, size: int) -> np.ndarray:
    """One crop (h, w, 3) uint8 -> (size, size, 3) uint8 (aspect not kept: products fill the square): area
    averaging when both sides shrink, else bilinear (as ``cv2.INTER_AREA`` / ``cv2.INTER_LINEAR``)."""
    h, w = crop.shape[:2]
    if (h, w) == (size, size):
        return np.ascontiguousarray(crop)
    return resize(crop, (size, size), "area" if h > size and w > size else "linear")


def crop_boxes(image: np.ndarray, xyxy: np.ndarray, size: int, context: float = 0.0) -> np.ndarray:
    """Cut every box out of ``image`` and resize it to a square.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        xyxy: (N, 4) absolute pixel corners (clipped to the photo; empty boxes give a 1-pixel window).
        size: side of the output crops in pixels.
        context: fraction of the box size added on each side before cropping.

    Returns:
        uint8 (N, size, size, 3).
    """
    image = check_rgb_image(image)
    expect(isinstance(size, (int, np.integer)) and size > 0, "crop size", "a positive integer", size)
    windows = box_windows(xyxy, image.shape[1], image.shape[0], context)
    out = np.empty((len(windows), size, size, 3), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(windows.tolist()):
        out[i] = resize_crop(image[y1:y2, x1:x2], size)
    return out


def resize_crops(crops: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Crops of any sizes (each (h, w, 3) uint8 RGB) -> uint8 (N, size, size, 3)."""
    out = np.empty((len(crops), size, size, 3), np.uint8)
    for i, crop in enumerate(crops):
        out[i] = resize_crop(check_rgb_image(crop, f"crops[{i}]"), size)
    return out


def central_hsv(crop: np.ndarray, margin: float = COLOUR_MARGIN) -> np.ndarray:
    """The central region of square uint8 RGB crops, (S, S, 3) or (N, S, S, 3) (``margin`` of the side left out
    on each border, at least one pixel kept), in OpenCV's HSV (hue 0..179): (..., S', S', 3) uint8."""
    s = crop.shape[-2]
    m = min(int(round(s * margin)), (s - 1) // 2)
    return rgb_to_hsv(crop[..., m:s - m, m:s - m, :])


def colour_histograms(crops: np.ndarray, bins: tuple[int, int, int] = COLOUR_BINS,
                      margin: float = COLOUR_MARGIN) -> np.ndarray:
    """Colour statistics of each crop's central region (where the label is).

    Args:
        crops: uint8 (N, S, S, 3) RGB.
        bins: hue, saturation and value bins of the joint HSV histogram.
        margin: fraction of the side left out on each border.

    Returns:
        float32 (N, prod(bins)): square roots of the normalised histogram counts (Hellinger mapping), so that
        each row has unit L2 norm and dot products are Bhattacharyya coefficients.
    """
    n, size = len(crops), int(np.prod(bins))
    out = np.zeros((n, size), np.float32)
    for start in range(0, n, HSV_CHUNK):
        hsv = central_hsv(crops[start:start + HSV_CHUNK], margin)  # (B, S', S', 3)
        idx = np.zeros(hsv.shape[:-1], np.int64)
        inside = np.ones(hsv.shape[:-1], bool)
        for c, (nb, (lo, hi)) in enumerate(zip(bins, HSV_RANGES)):  # the joint bin, as cv2.calcHist counts it
            b = hist_bins(hsv[..., c], nb, lo, hi)
            idx, inside = idx * nb + b, inside & (b >= 0)
        hist = counts_per_image(np.where(inside, idx, -1), size).astype(np.float64)
        out[start:start + len(hsv)] = np.sqrt(hist / np.maximum(hist.sum(1, keepdims=True), 1.0))
    return out
