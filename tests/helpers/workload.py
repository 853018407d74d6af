"""Synthetic raw-candidate workloads for post-processing, and recall/precision of merged boxes against truth
(shared by tests/postprocess and benchmarks/em_merge_speed.py).

The workload mimics a dense detector before NMS: products on a grid, each with ``m`` jittered candidates whose
objectness is uninformative (uniform) and whose predicted IoU is the true IoU plus noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from shelfscan.box_ops import box_iou, clip_boxes
from shelfscan.errors import expect


@dataclass
class CandidateWorkload:
    """Raw candidates of one synthetic image.

    Attributes:
        boxes: (N, 4) float32 xyxy. hard: (N,) objectness. soft: (N,) predicted IoU.
        truth: (P, 4) float32 true product boxes. image_size: ``(height, width)``.
    """

    boxes: np.ndarray
    hard: np.ndarray
    soft: np.ndarray
    truth: np.ndarray
    image_size: tuple[int, int]


def _grid_rows(n: int, aspect: float) -> int:
    """The divisor of n closest (in ratio) to the row count that makes cells as tall as the image's aspect."""
    divisors = np.array([d for d in range(1, n + 1) if n % d == 0])
    target = np.sqrt(n * aspect)
    return int(divisors[np.argmin(np.abs(np.log(divisors / target)))])


def grid_candidates(n_products: int, per_product: int, *, touching: bool = False,
                    image_size: tuple[int, int] = (2448, 3264), jitter: float = 0.05, soft_noise: float = 0.05,
                    seed: int = 0) -> CandidateWorkload:
    """Products on a rows x cols grid (rows x cols = n_products) and ``per_product`` candidates each.

    Args:
        n_products: products on the canvas (the grid uses the divisor pair of n closest to the canvas aspect).
        per_product: candidates per product (m).
        touching: products fill their grid cells (no gaps); otherwise each takes 75-90% x 80-95% of its cell at
            a random place in it.
        image_size: ``(height, width)`` of the canvas.
        jitter: standard deviation of each candidate corner, as a fraction of the product's width / height.
        soft_noise: standard deviation of the noise added to the true IoU for the soft score (clipped to [0, 1]).
        seed: random seed; the same arguments give the same workload.
    """
    expect(n_products >= 1 and per_product >= 1, "grid_candidates", "n_products >= 1 and per_product >= 1",
           (n_products, per_product))
    rng = np.random.default_rng(seed)
    height, width = image_size
    rows = _grid_rows(n_products, height / width)
    cols = n_products // rows
    cell = np.array([width / cols, height / rows])
    r, c = np.divmod(np.arange(n_products), cols)
    origin = np.stack([c, r], 1) * cell
    if touching:
        size = np.broadcast_to(cell, (n_products, 2)).copy()
    else:
        size = cell * rng.uniform([0.75, 0.8], [0.9, 0.95], (n_products, 2))
    top_left = origin + rng.uniform(0, 1, (n_products, 2)) * (cell - size)
    truth = np.concatenate([top_left, top_left + size], 1)

    owner = np.repeat(np.arange(n_products), per_product)
    scale = np.tile(size[owner], 2)
    boxes = truth[owner] + rng.normal(0, jitter, (len(owner), 4)) * scale
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1.0)
    boxes = clip_boxes(boxes, width, height)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
    true_iou = box_iou(boxes, truth)[np.arange(len(owner)), owner]
    hard = rng.uniform(0.3, 1.0, len(owner))
    soft = np.clip(true_iou + rng.normal(0, soft_noise, len(owner)), 0, 1)
    order = rng.permutation(len(owner))
    return CandidateWorkload(boxes[order].astype(np.float32), hard[order].astype(np.float32),
                             soft[order].astype(np.float32), truth.astype(np.float32), (int(height), int(width)))


def recall_precision(pred: np.ndarray, truth: np.ndarray, iou_threshold: float = 0.5) -> tuple[float, float]:
    """Recall and precision of ``pred`` (M, 4) against ``truth`` (P, 4) under the largest one-to-one matching
    of pairs with IoU >= ``iou_threshold``. Empty sides count as recall 1 / precision 1 when nothing is owed."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    truth = np.asarray(truth, np.float64).reshape(-1, 4)
    if len(pred) == 0 or len(truth) == 0:
        return float(len(truth) == 0), float(len(pred) == 0)
    graph = csr_matrix(box_iou(truth, pred) >= iou_threshold)
    matched = int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())
    return matched / len(truth), matched / len(pred)
