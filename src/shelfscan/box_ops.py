"""Box arithmetic in numpy on pixel boxes: sizes, areas, centres, IoU, intersection over area, clipping, format
conversions and greedy matching. No torch (the training twins are in :mod:`shelfscan.engine.box_ops_torch`).

Formats, each (N, 4): ``xyxy`` corners ``x1, y1, x2, y2`` (what every function takes unless its name says
otherwise), ``xywh`` top-left corner and size ``x1, y1, w, h`` (COCO ``bbox``), ``cxcywh`` centre and size
``cx, cy, w, h`` (YOLO labels, before normalising). The conversions keep the input's float dtype and compute in
it; the pairwise measures (intersection, IoU, IoA) compute in float64.
"""
from __future__ import annotations

import numpy as np


def _rows(boxes: np.ndarray, dtype=None) -> np.ndarray:
    """``boxes`` as an (N, 4) array (of ``dtype`` when given)."""
    return np.asarray(boxes, dtype).reshape(-1, 4)


def box_sizes(boxes: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(N, 4) xyxy -> (N, 2) widths and heights, 0 for inverted sides, computed in ``dtype``
    (None: the input's)."""
    b = _rows(boxes, dtype)
    return np.stack([(b[:, 2] - b[:, 0]).clip(0), (b[:, 3] - b[:, 1]).clip(0)], 1)


def box_area(boxes: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(N, 4) xyxy -> (N,) areas, 0 for inverted boxes, computed in ``dtype`` (None: the input's)."""
    b = _rows(boxes, dtype)
    return (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)


def box_centres(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy -> (N, 2) centres ``(cx, cy)``."""
    b = _rows(boxes)
    return (b[:, :2] + b[:, 2:]) / 2


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy -> (N, 4) ``x1, y1, w, h`` (sizes not clipped: an inverted box gets a negative one)."""
    b = _rows(boxes)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``x1, y1, w, h`` -> (N, 4) xyxy."""
    b = _rows(boxes)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], 1)


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy -> (N, 4) ``cx, cy, w, h`` (sizes not clipped)."""
    b = _rows(boxes)
    return np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], 1)


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``cx, cy, w, h`` -> (N, 4) xyxy."""
    b = _rows(boxes)
    return np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], 1)


def box_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) xyxy -> (A, B) float64 intersection areas."""
    a = _rows(a, np.float64)[:, None]
    b = _rows(b, np.float64)[None]
    iw = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(0)
    ih = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(0)
    return iw * ih


def paired_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4), (N, 4) xyxy -> (N,) float64 intersection area of ``a[i]`` with ``b[i]``."""
    a, b = _rows(a, np.float64), _rows(b, np.float64)
    return np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None).prod(1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) xyxy -> (A, B) float64 intersection over union (0 where both boxes are empty)."""
    inter = box_intersection(a, b)
    union = box_area(a)[:, None] + box_area(b)[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_ioa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4), (B, 4) xyxy -> (A, B) float64 intersection over the area of each box of ``a`` (not symmetric:
    ``box_ioa(a, b)[i, j]`` is the share of ``a[i]`` that ``b[j]`` covers; 0 where ``a[i]`` is empty)."""
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
