"""render_shelf: determinism, counts, box validity, runs of identical facings, visible SKU identity."""
from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")

from shelfscan.detections import Detections  # noqa: E402
from shelfscan.errors import InputError  # noqa: E402
from shelfscan.synth import Catalog, render_shelf  # noqa: E402

WIDTH = 320


def _row_runs(boxes: Detections) -> int:
    """Longest chain of same-class boxes where each is the next box to the right of the previous on its row.

    Two boxes share a row when their vertical extents overlap by half the shorter height; the next box to the
    right is the row neighbour with the smallest left edge past the current box's centre.
    """
    xyxy, cls = boxes.xyxy, boxes.class_id
    n = len(boxes)
    h = xyxy[:, 3] - xyxy[:, 1]
    overlap = np.minimum(xyxy[:, None, 3], xyxy[None, :, 3]) - np.maximum(xyxy[:, None, 1], xyxy[None, :, 1])
    same_row = overlap >= 0.5 * np.minimum(h[:, None], h[None, :])
    right_of = xyxy[None, :, 0] > (xyxy[:, None, 0] + xyxy[:, None, 2]) / 2
    width = xyxy[:, 2] - xyxy[:, 0]
    close = xyxy[None, :, 0] - xyxy[:, None, 2] < 0.5 * width[:, None]  # no gap wider than half a facing
    cand = same_row & right_of
    nxt = np.full(n, -1)
    for i in range(n):
        js = np.flatnonzero(cand[i])
        if len(js):
            j = js[np.argmin(xyxy[js, 0])]
            nxt[i] = j if close[i, j] else -1
    best = 0
    for i in range(n):
        length, j = 1, i
        while nxt[j] >= 0 and cls[nxt[j]] == cls[i]:
            j, length = nxt[j], length + 1
        best = max(best, length)
    return best


def test_same_seed_same_pixels_and_boxes(small_catalog: Catalog) -> None:
    img_a, det_a = render_shelf(11, WIDTH, catalog=small_catalog)
    img_b, det_b = render_shelf(11, WIDTH, catalog=small_catalog)
    assert img_a.tobytes() == img_b.tobytes()
    np.testing.assert_array_equal(det_a.xyxy, det_b.xyxy)
    np.testing.assert_array_equal(det_a.class_id, det_b.class_id)
    img_c, det_c = render_shelf(12, WIDTH, catalog=small_catalog)
    assert img_c.shape != img_a.shape or not np.array_equal(img_c, img_a)
    assert len(det_c) != len(det_a) or not np.array_equal(det_c.xyxy, det_a.xyxy)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_boxes_valid_and_count_in_range(small_catalog: Catalog, seed: int) -> None:
    img, det = render_shelf(seed, WIDTH, catalog=small_catalog)
    h, w = img.shape[:2]
    assert img.dtype == np.uint8 and img.shape[2] == 3 and w == WIDTH
    assert h in (round(WIDTH * 4 / 3), round(WIDTH * 3 / 4))
    assert 50 <= len(det) <= 300
    x1, y1, x2, y2 = det.xyxy.T
    assert (x1 >= 0).all() and (y1 >= 0).all() and (x2 <= w).all() and (y2 <= h).all()
    assert (x2 > x1).all() and (y2 > y1).all()
    assert det.class_names == small_catalog.names
    assert ((det.class_id >= 0) & (det.class_id < len(small_catalog))).all()
    assert (det.scores == 1).all()
    assert _row_runs(det) >= 3, "expected a run of at least 3 identical facings side by side on a shelf"


def test_count_range_and_height_are_honoured(small_catalog: Catalog) -> None:
    for seed in range(3):
        img, det = render_shelf(seed, 256, 200, catalog=small_catalog, n_products=(60, 90))
        assert img.shape == (200, 256, 3)
        assert 60 <= len(det) <= 90
    _, det = render_shelf(7, 256, catalog=small_catalog, n_products=(75, 75))
    assert len(det) == 75


def test_boxes_are_tight(small_catalog: Catalog) -> None:
    """Tight boxes around side-by-side products barely overlap, and they sit on the textured product pixels
    rather than on the plain back panel and shelf edges."""
    img, det = render_shelf(21, 512, catalog=small_catalog)
    x1, y1, x2, y2 = det.xyxy.T
    iw = np.clip(np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]), 0, None)
    ih = np.clip(np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]), 0, None)
    inter = iw * ih
    iou = inter / (det.area[:, None] + det.area[None] - inter)
    np.fill_diagonal(iou, 0)
    assert iou.max() < 0.3
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    edges = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    inside = np.mean([edges[b:d, a:c].mean() for a, b, c, d in det.xyxy.astype(int)])
    assert inside > edges.mean()


def test_same_sku_crops_look_more_alike_than_different_skus(small_catalog: Catalog) -> None:
    crops, labels = [], []
    for seed in (30, 31):
        img, det = render_shelf(seed, 512, catalog=small_catalog)
        h, w = img.shape[:2]
        for (x1, y1, x2, y2), c in zip(det.xyxy.astype(int), det.class_id.tolist()):
            if x1 > 0 and y1 > 0 and x2 < w and y2 < h and x2 - x1 >= 6 and y2 - y1 >= 6:
                crops.append(cv2.resize(img[y1:y2, x1:x2], (12, 24), interpolation=cv2.INTER_AREA).astype(np.float32))
                labels.append(c)
    crops_arr, labels_arr = np.stack(crops), np.array(labels)
    diff = np.abs(crops_arr[:, None] - crops_arr[None]).mean(axis=(2, 3, 4))
    same = labels_arr[:, None] == labels_arr[None]
    off_diag = ~np.eye(len(labels_arr), dtype=bool)
    assert (same & off_diag).sum() > 20 and (~same).sum() > 20
    assert diff[same & off_diag].mean() < diff[~same].mean()


def test_default_catalog_names(small_catalog: Catalog) -> None:
    _, det = render_shelf(3, 192, n_products=(20, 60))
    assert det.class_names[0] == "sku_0" and len(det.class_names) > len(small_catalog)
    assert all(name == f"sku_{i}" for i, name in enumerate(det.class_names))


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed=-1), "seed"),
    (dict(seed=0, width=10), "width"),
    (dict(seed=0, n_products=(300, 50)), "n_products"),
    (dict(seed=0, width=128, n_products=(5000, 6000)), "5000 to 6000 products"),
])
def test_bad_arguments_raise_input_error(small_catalog: Catalog, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        render_shelf(catalog=small_catalog, **kwargs)
