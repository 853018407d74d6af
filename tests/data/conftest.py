"""Tiny synthetic datasets written in tmp_path: real image files (PIL) and annotation files in each format."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_image(path: Path, width: int = 96, height: int = 64, seed: int = 0, fmt: str | None = None,
                orientation: int | None = None) -> Path:
    """A noisy RGB image (noise keeps the compressed data long, so cutting it truncates pixels)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pixels)
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    image.save(path, format=fmt, **kwargs)
    return path


def truncate(path: Path, keep: float = 0.6) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def sku_rows(rows: list[tuple]) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows)


@pytest.fixture
def make_image():
    return write_image


@pytest.fixture
def cut_file():
    return truncate


@pytest.fixture
def sku_folder(tmp_path):
    """An SKU-110K folder with 3 images (sizes 96x64, 80x60, 96x64) and classes brand_2, brand_10, brand_1.

    ``annotations_train.csv`` has 3 images / 6 boxes, all valid and inside the images; ``annotations_val.csv``
    has 1 image / 2 boxes.
    """
    root = tmp_path / "sku"
    for i, (w, h) in enumerate([(96, 64), (80, 60), (96, 64)]):
        write_image(root / "images" / f"img_{i}.jpg", w, h, seed=i)
    train = [
        ("img_0.jpg", 1, 2, 30, 40, "brand_10", 96, 64),
        ("img_0.jpg", 40.5, 2.25, 90, 60, "brand_2", 96, 64),
        ("img_1.jpg", 0, 0, 80, 60, "brand_1", 80, 60),
        ("img_1.jpg", 10, 10, 20, 20, "brand_2", 80, 60),
        ("img_0.jpg", 5, 5, 15, 15, "brand_1", 96, 64),
        ("img_2.jpg", 3, 4, 50, 33, "brand_10", 96, 64),
    ]
    (root / "annotations").mkdir()
    (root / "annotations" / "annotations_train.csv").write_text(sku_rows(train))
    val = [("img_2.jpg", 1, 1, 9, 9, "brand_2", 96, 64), ("img_2.jpg", 20, 20, 40, 30, "brand_2", 96, 64)]
    (root / "annotations" / "annotations_val.csv").write_text(sku_rows(val))
    return root
