"""Drawing without OpenCV (drawing.py): outlines centred on the edge, hatching inside the box, text by its
baseline, files and JPEG bytes through Pillow."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from shelfscan.drawing import hatch, jpeg_bytes, put_text, rectangle, text_size, write_image
from shelfscan.errors import InputError


def test_rectangle_outline_is_centred_and_clipped():
    img = np.zeros((20, 20, 3), np.uint8)
    rectangle(img, (5, 5, 14, 14), (255, 0, 0), 3)
    assert (img[4:7, 4:16, 0] == 255).all() and (img[4:16, 13:16, 0] == 255).all()  # edge - 1 .. edge + 1
    assert not img[7:13, 7:13].any() and not img[3].any()
    rectangle(img, (-5, -5, 2, 2), (0, 255, 0), -1)  # filled, partly outside
    assert (img[:3, :3, 1] == 255).all() and img[3, 3, 1] == 0
    rectangle(img, (18, 18, 10, 10), (0, 0, 255), 1)  # corners in any order
    assert img[10, 10, 2] == 255 and img[18, 18, 2] == 255
    with pytest.raises(InputError, match="uint8"):
        rectangle(img.astype(np.float32), (0, 0, 1, 1), (1, 1, 1))


def test_hatch_stays_inside_the_box():
    img = np.zeros((40, 40, 3), np.uint8)
    hatch(img, (10, 10, 29, 29), (230, 30, 30), 6, 1)
    inside = img[10:30, 10:30, 0] > 0
    assert 0.2 < inside.mean() < 0.5 and img[:10].max() == 0 and img[30:].max() == 0 and img[:, 30:].max() == 0


def test_text_sits_on_its_baseline():
    img = np.full((40, 120, 3), 255, np.uint8)
    w, h = text_size("type 3: 7", 20)
    assert w > 40 and 10 <= h <= 20 and text_size("type 3: 7", 40)[0] > 1.8 * w
    put_text(img, (5, 30), "type 3: 7", 20, (0, 0, 0))
    ink = np.argwhere(img[..., 0] < 128)
    assert 30 - h - 2 <= ink[:, 0].min() < 30 - h + 3 and ink[:, 0].max() <= 30 + 6 and ink[:, 1].min() >= 4
    assert (ink[:, 0] <= 30).mean() > 0.8  # descenders (y, p) aside, the letters stand on the baseline
    put_text(img, (100, 5), "clipped at the border", 20, (0, 0, 0))  # no error


def test_files_and_jpeg_bytes(tmp_path):
    img = np.zeros((8, 10, 3), np.uint8)
    img[:, 5:] = (10, 200, 30)
    write_image(tmp_path / "a.png", img)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")), img)
    back = np.asarray(Image.open(io.BytesIO(jpeg_bytes(img, 95))))
    assert back.shape == img.shape and np.abs(back.astype(int) - img).mean() < 10
