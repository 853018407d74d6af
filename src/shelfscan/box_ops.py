"""Box arithmetic in numpy on xyxy pixel boxes: area, IoU, intersection over area, clipping, greedy matching.

Every function takes (N, 4) arrays ``x1, y1, x2, y2`` and works without torch.
"""
from __future__ import annotations

import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) -> (N,) float64 areas (0 for inverted boxes)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)


def box_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) -> (A, B) float64 intersection areas."""
    a = np.asarray(a, np.float64).reshape(-1, 4)[:, None]
    b = np.asarray(b, np.float64).reshape(-1, 4)[None]
    iw = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(0)
    ih = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(0)
    return iw * ih


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) -> (A, B) float64 intersection over union (0 where both boxes are empty)."""
    inter = box_intersection(a, b)
    union = box_area(a)[:, None] + box_area(b)[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_ioa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) -> (A, B) float64 intersection over the area of each box of ``a``."""
    inter = box_intersection(a, b)
    area = box_area(a)[:, None]
    return np.divide(inter, area, out=np.zeros_like(inter), where=area > 0)


def clip_boxes(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """A copy of (N, 4) boxes clipped to ``[0, width] x [0, height]`` (same dtype)."""
    out = np.array(boxes, copy=True).reshape(-1, 4)
    out[:, 0::2] = out[:, 0::2].clip(0, width)
    out[:, 1::2] = out[:, 1::2].clip(0, height)
    return out


def match_greedy(pred: np.ndarray, true: np.ndarray, iou_min: float = 0.5) -> np.ndarray:
    """One-to-one matching of predicted to true boxes, greedy by IoU (highest pairs first).

    Args:
        pred: (P, 4) predicted boxes. true: (T, 4) true boxes.
        iou_min: pairs below this IoU are never matched.

    Returns:
        int64 (P,): index of the true box each predicted box is matched to, -1 for none.
    """
    out = np.full(len(pred), -1, np.int64)
    if len(pred) == 0 or len(true) == 0:
        return out
    iou = box_iou(pred, true)
    rows, cols = np.nonzero(iou >= iou_min)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_true = np.zeros(len(true), bool)
    for r, c in zip(rows[order].tolist(), cols[order].tolist()):
        if out[r] < 0 and not used_true[c]:
            out[r] = c
            used_true[c] = True
    return out
