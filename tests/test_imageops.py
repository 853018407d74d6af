"""Pixel operations without OpenCV (imageops.py, issue #16): the same results as the OpenCV calls they replace
(compared where OpenCV is installed), and their own invariants everywhere. Every test here runs the numpy code
(the ``numpy_only`` fixture turns the OpenCV accelerator off); the last one checks the accelerated path agrees."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from shelfscan.errors import InputError
import shelfscan.imageops as imageops
from shelfscan.imageops import connected_components, hist_bins, hsv_to_rgb, resize, rgb_to_hsv

HAS_CV2 = importlib.util.find_spec("cv2") is not None
needs_cv2 = pytest.mark.skipif(not HAS_CV2, reason="OpenCV (the [synth] extra) not installed: nothing to compare")


@pytest.fixture(autouse=True)
def numpy_only(monkeypatch):
    """The numpy implementations, also where OpenCV is installed (it would otherwise do the work)."""
    monkeypatch.setattr(imageops, "opencv_accelerator", lambda: None)


def every_colour() -> np.ndarray:
    v = np.arange(256, dtype=np.uint8)
    return np.stack(np.meshgrid(v, v, v, indexing="ij"), -1).reshape(4096, 4096, 3)


def test_hsv_conventions_and_round_trip():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [0, 0, 0]]], np.uint8)
    assert rgb_to_hsv(rgb)[0].tolist() == [[0, 255, 255], [60, 255, 255], [120, 255, 255], [0, 0, 128], [0, 0, 0]]
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert np.abs(hsv_to_rgb(rgb_to_hsv(pixels)).astype(int) - pixels).max() <= 6  # hue has 180 steps
    with pytest.raises(InputError, match="uint8"):
        rgb_to_hsv(pixels.astype(np.float32))


@needs_cv2
def test_hsv_equals_opencv_for_every_colour():
    import cv2

    rgb = every_colour()
    assert np.array_equal(rgb_to_hsv(rgb), cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV))
    hsv = rgb[:180 * 16]  # hue < 180: the 8-bit range
    assert np.abs(hsv_to_rgb(hsv).astype(int) - cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)).max() <= 1


def test_hist_bins_are_uniform_and_drop_values_outside():
    assert hist_bins(np.array([0, 11, 12, 179, 180, 255], np.uint8), 16, 0, 180).tolist() == [0, 0, 1, 15, -1, -1]
    assert hist_bins(np.arange(256, dtype=np.uint8), 4, 0, 256).tolist() == [0] * 64 + [1] * 64 + [2] * 64 + [3] * 64


def test_resize_area_averages_and_linear_interpolates():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, 2:] = 200
    assert resize(img, (2, 2))[..., 0].tolist() == [[0, 200], [0, 200]]
    assert resize(img, (3, 4), "area")[0, :, 0].tolist() == [0, 100, 200]  # a third of each side pixel
    up = resize(img[:1, 1:3], (4, 1), "linear")[0, :, 0].tolist()
    assert up == [0, 50, 150, 200]  # centres at -0.25, 0.25, 0.75, 1.25: edges clamped
    gray = resize(img[..., 0], (8, 8))
    assert gray.shape == (8, 8) and resize(img, (4, 4)) is img
    with pytest.raises(InputError, match="no larger"):
        resize(img, (8, 2), "area")


@needs_cv2
@pytest.mark.parametrize("src,dst", [((300, 250), (112, 112)), ((200, 60), (112, 112)), ((50, 40), (112, 112)),
                                     ((481, 640), (240, 320)), ((97, 131), (200, 151)), ((64, 64), (32, 32)),
                                     ((90, 60), (30, 20)), ((64, 48), (64, 16))])
def test_resize_equals_opencv_within_one_level(src, dst):
    import cv2

    img = np.random.default_rng(sum(src)).integers(0, 256, (*src, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)  # photo-like, and every rounding case anyway
    shrink = dst[0] <= src[0] and dst[1] <= src[1]
    ref = cv2.resize(img, dst[::-1], interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    ours = resize(img, dst[::-1], "area" if shrink else "linear")
    diff = np.abs(ours.astype(int) - ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_connected_components_label_in_raster_order():
    mask = np.array([[1, 1, 0, 1],
                     [0, 0, 0, 1],
                     [1, 0, 1, 0]], np.uint8)
    labels, areas = connected_components(mask)
    assert labels.tolist() == [[1, 1, 0, 2], [0, 0, 0, 2], [3, 0, 4, 0]] and areas.tolist() == [6, 2, 2, 1, 1]
    assert connected_components(mask, 8)[1].tolist() == [6, 2, 3, 1]  # (1, 3) touches (2, 2) diagonally
    assert connected_components(np.zeros((3, 3)))[1].tolist() == [9]


@needs_cv2
def test_opencv_accelerator_gives_the_numpy_results(monkeypatch):
    import cv2

    img = cv2.GaussianBlur(np.random.default_rng(7).integers(0, 256, (120, 160, 3), dtype=np.uint8), (0, 0), 1.5)
    crops = np.random.default_rng(8).integers(0, 256, (5, 20, 20, 3), dtype=np.uint8)
    numpy_results = [resize(img, (64, 48)), resize(img, (300, 200)), resize(img[..., 0], (64, 48)), rgb_to_hsv(crops)]
    monkeypatch.setattr(imageops, "opencv_accelerator", lambda: cv2)
    fast = [resize(img, (64, 48)), resize(img, (300, 200)), resize(img[..., 0], (64, 48)), rgb_to_hsv(crops)]
    for ours, theirs in zip(numpy_results, fast):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
        assert np.abs(ours.astype(int) - theirs).max() <= 1
    assert np.array_equal(numpy_results[3], fast[3])


def test_counts_per_image_counts_each_row_and_skips_minus_one():
    from shelfscan.imageops import counts_per_image

    bins = np.array([[[0, 1], [1, -1]], [[2, 2], [-1, -1]]])
    assert counts_per_image(bins, 3).tolist() == [[1, 2, 0], [0, 0, 2]]
    assert counts_per_image(np.zeros((0, 4), np.int64), 3).shape == (0, 3)
