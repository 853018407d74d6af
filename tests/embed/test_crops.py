"""Cutting boxes out of photos and describing their colours."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.embed import box_windows, colour_histograms, crop_boxes, resize_crops
from shelfscan.errors import InputError


def test_box_windows_clip_and_never_empty():
    boxes = np.array([[10, 20, 30, 60],        # inside
                      [-5, -5, 5, 5],          # partly outside
                      [200, 200, 300, 300],    # fully outside (photo is 100 x 80)
                      [40, 40, 40, 40]],       # empty
                     np.float32)
    w = box_windows(boxes, width=100, height=80)
    assert w.dtype == np.int64 and w.shape == (4, 4)
    assert w[0].tolist() == [10, 20, 30, 60]
    assert w[1].tolist() == [0, 0, 5, 5]
    assert (w[:, 0] < w[:, 2]).all() and (w[:, 1] < w[:, 3]).all()
    assert (w[:, [0, 2]] <= 100).all() and (w[:, [1, 3]] <= 80).all() and (w >= 0).all()


def test_box_windows_context_grows_each_side():
    w = box_windows(np.array([[40, 40, 60, 80]], np.float32), 200, 200, context=0.25)
    assert w[0].tolist() == [35, 30, 65, 90]


def test_crop_boxes_cuts_the_right_pixels():
    image = np.zeros((100, 120, 3), np.uint8)
    image[10:50, 20:40] = (255, 0, 0)
    image[60:90, 70:110] = (0, 0, 255)
    crops = crop_boxes(image, np.array([[20, 10, 40, 50], [70, 60, 110, 90]]), size=32)
    assert crops.shape == (2, 32, 32, 3) and crops.dtype == np.uint8
    assert (crops[0] == (255, 0, 0)).all()
    assert (crops[1] == (0, 0, 255)).all()
    assert crop_boxes(image, np.zeros((0, 4)), size=32).shape == (0, 32, 32, 3)


def test_resize_crops_any_sizes():
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in [(5, 300), (200, 7), (64, 64)]]
    out = resize_crops(crops, 48)
    assert out.shape == (3, 48, 48, 3)
    assert np.array_equal(resize_crops([crops[2]], 64)[0], crops[2])


def test_colour_histograms_unit_rows_and_discriminate_colours():
    red = np.zeros((2, 40, 40, 3), np.uint8)
    red[..., 0] = 220
    blue = np.zeros((1, 40, 40, 3), np.uint8)
    blue[..., 2] = 220
    h = colour_histograms(np.concatenate([red, blue]))
    assert h.shape == (3, 16 * 4 * 2) and h.dtype == np.float32
    assert np.allclose(np.linalg.norm(h, axis=1), 1.0)
    assert h[0] @ h[1] == pytest.approx(1.0)
    assert h[0] @ h[2] == pytest.approx(0.0)
    assert colour_histograms(np.zeros((0, 40, 40, 3), np.uint8)).shape == (0, 128)


def test_colour_histograms_look_at_the_centre():
    crop = np.zeros((1, 40, 40, 3), np.uint8)
    crop[:, :, :, 1] = 200  # green frame ...
    crop[:, 5:35, 5:35] = (200, 0, 0)  # ... around a red label
    ref = np.zeros((1, 40, 40, 3), np.uint8)
    ref[..., 0] = 200
    assert (colour_histograms(crop) @ colour_histograms(ref).T).item() == pytest.approx(1.0)


def test_bad_inputs_raise_input_error():
    with pytest.raises(InputError, match=r"RGB uint8 array"):
        crop_boxes(np.zeros((10, 10), np.uint8), np.zeros((1, 4)), 16)
    with pytest.raises(InputError, match=r"RGB uint8 array"):
        crop_boxes(np.zeros((10, 10, 3), np.float32), np.zeros((1, 4)), 16)
    with pytest.raises(InputError, match=r"shape \(N, 4\)"):
        crop_boxes(np.zeros((10, 10, 3), np.uint8), np.zeros((2, 3)), 16)
    with pytest.raises(InputError, match="finite"):
        box_windows(np.array([[0, 0, np.nan, 1]]), 10, 10)
