"""Synthetic dense shelves for the metric tests: seeded, with jitter, misses, duplicates and false positives."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.detections import Detections


def dense_shelf(rng: np.random.Generator, n_true: int, width: float = 2000.0) -> np.ndarray:
    """(n_true, 4) xyxy boxes packed side by side in shelf rows, sizes varied like products."""
    boxes, x, y, row_h = [], 0.0, 0.0, 0.0
    while len(boxes) < n_true:
        w, h = rng.uniform(15, 70), rng.uniform(30, 130)
        if x + w > width:
            x, y, row_h = 0.0, y + row_h + rng.uniform(5, 20), 0.0
        boxes.append([x, y, x + w, y + h])
        x += w + rng.uniform(0, 4)
        row_h = max(row_h, h)
    return np.asarray(boxes, np.float32)


def noisy_predictions(rng: np.random.Generator, truth: np.ndarray, truth_class: np.ndarray, n_extra: int,
                      miss_rate: float = 0.1, classes: int = 1) -> Detections:
    """Jittered copies of ``truth`` (some missed, 20% with a wrong class), near-duplicates and random false
    positives, with scores that fall with the jitter."""
    keep = rng.random(len(truth)) > miss_rate
    kept = truth[keep]
    size = np.concatenate([kept[:, 2:] - kept[:, :2]] * 2, axis=1)
    sigma = rng.uniform(0.0, 0.15, size=(len(kept), 1))
    hits = kept + rng.normal(0, 1, kept.shape) * sigma * size
    n_dup = n_extra // 2
    dup_idx = rng.integers(0, len(truth), n_dup)
    dup_src = truth[dup_idx]
    dup_size = np.concatenate([dup_src[:, 2:] - dup_src[:, :2]] * 2, axis=1)
    dups = dup_src + rng.normal(0, 0.25, dup_src.shape) * dup_size
    n_fp = n_extra - n_dup
    xy = rng.uniform(0, 1800, (n_fp, 2))
    wh = rng.uniform(15, 90, (n_fp, 2))
    fps = np.concatenate([xy, xy + wh], axis=1)
    xyxy = np.concatenate([hits, dups, fps]).astype(np.float32)
    x1, x2 = np.minimum(xyxy[:, 0], xyxy[:, 2]), np.maximum(xyxy[:, 0], xyxy[:, 2]) + 0.5
    y1, y2 = np.minimum(xyxy[:, 1], xyxy[:, 3]), np.maximum(xyxy[:, 1], xyxy[:, 3]) + 0.5
    xyxy = np.stack([x1, y1, x2, y2], 1)
    scores = np.concatenate([1.0 - sigma[:, 0] * 3 + rng.normal(0, 0.1, len(hits)),
                             rng.uniform(0.1, 0.7, n_dup), rng.uniform(0.0, 0.6, n_fp)])
    scores = np.clip(scores, 0.001, 0.999).astype(np.float32)
    wrong = rng.random(len(hits)) < 0.2
    hit_class = np.where(wrong, rng.integers(0, classes, len(hits)), truth_class[keep])
    class_id = np.concatenate([hit_class, truth_class[dup_idx], rng.integers(0, classes, n_fp)])
    return Detections(xyxy, scores, class_id, [f"sku_{i}" for i in range(classes)])


@pytest.fixture
def dense_case():
    """Ground truth and predictions for 5 images with 150-220 true boxes; one image has over 300 predictions.

    Returns:
        (ground_truth, predictions): image name -> Detections, class names ``sku_0..sku_2``.
    """
    rng = np.random.default_rng(20240611)
    gt, pred = {}, {}
    for i, (n_true, n_extra) in enumerate([(150, 40), (180, 60), (220, 160), (160, 10), (200, 80)]):
        truth = dense_shelf(rng, n_true)
        cls = rng.integers(0, 3, n_true)
        gt[f"shelf_{i}.jpg"] = Detections(truth, None, cls, ["sku_0", "sku_1", "sku_2"])
        p = noisy_predictions(rng, truth, cls, n_extra, classes=3)
        pred[f"shelf_{i}.jpg"] = p
    return gt, pred
