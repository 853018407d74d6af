"""Write synthetic shelves as a dataset in the SKU-110K layout, readable by any SKU-110K reader."""
from __future__ import annotations

import csv
import zlib
from pathlib import Path

import cv2
import numpy as np

from shelfscan.errors import InputError, expect
from shelfscan.synth.catalog import Catalog, default_catalog
from shelfscan.synth.defaults import PHOTO_WIDTH
from shelfscan.synth.shelf import render_shelf

SPLITS = ("train", "val", "test")


def image_seed(seed: int, split: str, index: int) -> int:
    """Seed of photo ``index`` of a split: differs between splits, so equal ``seed`` values do not leak."""
    state = np.random.SeedSequence([int(seed), zlib.crc32(split.encode()), int(index)]).generate_state(2)
    return int(state[0]) << 32 | int(state[1])


def box_rows(name: str, boxes, width: int, height: int) -> list[list]:
    """CSV rows ``image_name,x1,y1,x2,y2,class,image_width,image_height`` for one photo, integer pixels that
    contain the float box (floor the start, ceil the end, clip to the photo), x2 > x1 and y2 > y1."""
    xyxy = boxes.xyxy.astype(np.float64)
    x1 = np.clip(np.floor(xyxy[:, 0]), 0, width - 1).astype(int)
    y1 = np.clip(np.floor(xyxy[:, 1]), 0, height - 1).astype(int)
    x2 = np.maximum(np.clip(np.ceil(xyxy[:, 2]), 0, width).astype(int), x1 + 1)
    y2 = np.maximum(np.clip(np.ceil(xyxy[:, 3]), 0, height).astype(int), y1 + 1)
    return [[name, a, b, c, d, label, width, height]
            for a, b, c, d, label in zip(x1.tolist(), y1.tolist(), x2.tolist(), y2.tolist(), boxes.labels)]


def write_synthetic_dataset(out_dir: str | Path, n_images: int, seed: int, split: str = "train", width: int = PHOTO_WIDTH,
                            *, height: int | None = None, catalog: Catalog | None = None,
                            n_products: tuple[int, int] = (50, 300), jpeg_quality: int = 95,
                            progress: bool = False) -> Path:
    """Render ``n_images`` shelves into ``out_dir`` in the SKU-110K layout.

    Writes ``out_dir/images/synth_<split>_<i>.jpg`` (i = 0 .. n_images - 1) and
    ``out_dir/annotations/annotations_<split>.csv`` (no header; rows ``image_name,x1,y1,x2,y2,class,image_width,
    image_height``, integer pixels, class ``sku_<id>`` of the catalog). An existing CSV of the same split is
    replaced; other splits are left alone.

    Args:
        seed: photo i is ``render_shelf(image_seed(seed, split, i), ...)``.
        width, height, catalog, n_products: passed to :func:`render_shelf` (default catalog: the same SKUs in every
            split, so ``sku_17`` is the same product in train and val).
        jpeg_quality: quality of the saved JPEGs (the photos already carry JPEG artefacts of their own).
        progress: show a tqdm progress bar.

    Returns:
        the path of the annotations CSV written.
    """
    expect(isinstance(n_images, (int, np.integer)) and n_images >= 1, "write_synthetic_dataset n_images",
           "an int >= 1", n_images)
    expect(split in SPLITS, "write_synthetic_dataset split", f"one of {SPLITS}", split)
    expect(isinstance(jpeg_quality, (int, np.integer)) and 1 <= jpeg_quality <= 100,
           "write_synthetic_dataset jpeg_quality", "an int in [1, 100]", jpeg_quality)
    from tqdm import tqdm

    catalog = default_catalog() if catalog is None else catalog
    out = Path(out_dir)
    images_dir, ann_dir = out / "images", out / "annotations"
    try:
        images_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"write_synthetic_dataset out_dir: expected a folder that can be created, got {out} "
                         f"({exc})") from exc
    csv_path = ann_dir / f"annotations_{split}.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        for i in tqdm(range(int(n_images)), disable=not progress, desc=f"synth {split}", unit="img"):
            image, boxes = render_shelf(image_seed(seed, split, i), width, height, catalog=catalog,
                                        n_products=n_products)
            name = f"synth_{split}_{i}.jpg"
            ok = cv2.imwrite(str(images_dir / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                             [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
            if not ok:
                raise InputError(f"write_synthetic_dataset: expected to write {images_dir / name}, got a failure "
                                 f"from cv2.imwrite")
            writer.writerows(box_rows(name, boxes, image.shape[1], image.shape[0]))
    return csv_path
