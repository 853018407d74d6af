"""Fixtures of the batch tests: a synthetic shelf, its copy with products painted out, a broken file, and one
batch run over them shared by the tests that only read its results (counting costs ~2 s a photo)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SEED, WIDTH, N_PRODUCTS = 100, 640, (30, 60)
GONE_SKU, FEWER_SKU, FEWER_BY = 3, 395, 3  # every facing of GONE_SKU painted out, FEWER_BY of FEWER_SKU
PAINT = (40, 40, 40)


@dataclass
class ShelfPair:
    folder: Path        # a_shelf.png, b_shelf.png (edited), broken.jpg
    true_a: dict        # {sku: facings} of photo A
    true_b: dict        # {sku: facings} of photo B


def _counts(ids: np.ndarray) -> dict[int, int]:
    keys, n = np.unique(ids, return_counts=True)
    return {int(k): int(v) for k, v in zip(keys, n)}


@pytest.fixture(scope="session")
def shelf_pair(tmp_path_factory) -> ShelfPair:
    pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra)")
    from shelfscan.annotate import save_rgb
    from shelfscan.synth import render_shelf

    img, det = render_shelf(SEED, width=WIDTH, n_products=N_PRODUCTS)
    sku = np.asarray(det.class_id)
    painted = np.concatenate([np.flatnonzero(sku == GONE_SKU), np.flatnonzero(sku == FEWER_SKU)[:FEWER_BY]])
    edited = img.copy()
    for i in painted:
        x1, y1, x2, y2 = np.round(det.xyxy[i]).astype(int)
        edited[y1:y2, x1:x2] = PAINT
    folder = tmp_path_factory.mktemp("photos")
    save_rgb(folder / "a_shelf.png", img)
    save_rgb(folder / "b_shelf.png", edited)
    (folder / "broken.jpg").write_bytes(b"this is not a JPEG")
    keep = np.ones(len(sku), bool)
    keep[painted] = False
    return ShelfPair(folder, _counts(sku), _counts(sku[keep]))


def settings_and_config():
    from shelfscan.batch.engines import EngineConfig
    from shelfscan.batch.settings import CountSettings

    return CountSettings(), EngineConfig("local", workers=1, threads=1)


@pytest.fixture(scope="session")
def counted(shelf_pair, tmp_path_factory) -> Path:
    """The output folder of one local batch over the shelf pair (treat as read-only; copy it to change it)."""
    pytest.importorskip("sqlalchemy", reason="the results database needs SQLAlchemy (pip install 'shelfscan[db]')")
    from shelfscan.batch.db import ShelfIds
    from shelfscan.batch.runner import run_batch

    out = tmp_path_factory.mktemp("batch") / "out"
    settings, cfg = settings_and_config()
    run_batch([shelf_pair.folder], out, settings, cfg, shelf_ids=ShelfIds.from_args(r"(?P<shelf>shelf)", None),
              progress=False)
    return out


@pytest.fixture
def counted_copy(counted, tmp_path) -> Path:
    dst = tmp_path / "out"
    shutil.copytree(counted, dst)
    (dst / "results.lock").unlink(missing_ok=True)
    return dst
