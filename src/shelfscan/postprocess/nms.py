"""Greedy non-maximum suppression (OpenCV) on raw candidates, plain or scored by the Soft-IoU blend."""
from __future__ import annotations

from typing import Any

import numpy as np

from shelfscan.postprocess.inputs import (Candidates, check_candidates, check_fraction, check_max_det,
                                          like_input)


def nms_index(boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float, class_ids: np.ndarray | None = None,
              max_det: int | None = None) -> np.ndarray:
    """Indices (M,) int64 kept by greedy NMS, sorted by score descending (ties: lower index first).

    A box is suppressed by a higher-scored box of its class whose IoU with it is above ``iou_threshold``
    (``cv2.dnn.NMSBoxesBatched``, the same rule as ``torchvision.ops.batched_nms``).

    Args:
        boxes: (N, 4) xyxy. scores: (N,). class_ids: (N,) or None (all one class).
        iou_threshold: IoU above which the lower-scored box goes.
        max_det: keep at most this many (None: all).
    """
    import cv2

    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)
    s = np.asarray(scores, np.float32).ravel()
    ids = np.zeros(len(b), np.int32) if class_ids is None else np.asarray(class_ids).astype(np.int32)
    keep = np.asarray(cv2.dnn.NMSBoxesBatched(xywh, s, ids, -np.inf, float(iou_threshold)), np.int64).ravel()
    keep = keep[np.lexsort((keep, -s[keep]))]
    return keep[:max_det]


def _outputs(template: Any, cands: Candidates, keep: np.ndarray, scores: np.ndarray,
             return_index: bool) -> tuple[Any, ...]:
    out = like_input(template, cands.boxes[keep].reshape(-1, 4), scores[keep])
    return (*out, *like_input(template, keep)) if return_index else out


def nms(boxes: Any, scores: Any, *, iou_threshold: float = 0.6, class_ids: Any = None, max_det: int | None = None,
        return_index: bool = False) -> tuple[Any, ...]:
    """Plain greedy NMS, per class when ``class_ids`` is given.

    Args:
        boxes: (N, 4) xyxy absolute pixels; numpy array or torch tensor (outputs follow the input's kind and
            device; the work itself runs on the CPU).
        scores: (N,) >= 0.
        iou_threshold: in (0, 1].
        class_ids: (N,) ints or None.
        max_det: keep at most this many boxes, or None.
        return_index: also return the kept input indices.

    Returns:
        ``(boxes (M, 4), scores (M,))`` sorted by score descending, plus ``index (M,)`` with ``return_index``.
    """
    cands = check_candidates(boxes, scores, None, class_ids)
    keep = nms_index(cands.boxes, cands.hard, iou_threshold=check_fraction(iou_threshold, "iou_threshold",
                                                                           low_open=True),
                     class_ids=cands.class_ids, max_det=check_max_det(max_det))
    return _outputs(boxes, cands, keep, cands.hard, return_index)


def soft_iou_nms(boxes: Any, hard_scores: Any, iou_scores: Any, *, hard_score_rate: float = 0.5,
                 iou_threshold: float = 0.6, class_ids: Any = None, max_det: int | None = None,
                 return_index: bool = False) -> tuple[Any, ...]:
    """Greedy NMS ranked by the blended confidence ``hard^r · iou^(1 − r)`` (Soft-IoU, Goldman et al.).

    Arguments as :func:`nms`, plus ``hard_scores`` (N,) objectness, ``iou_scores`` (N,) predicted IoU (None:
    the hard score alone) and ``hard_score_rate`` r in [0, 1]. The returned scores are the blended confidences.
    """
    cands = check_candidates(boxes, hard_scores, iou_scores, class_ids)
    conf = cands.confidence(check_fraction(hard_score_rate, "hard_score_rate"))
    keep = nms_index(cands.boxes, conf, iou_threshold=check_fraction(iou_threshold, "iou_threshold", low_open=True),
                     class_ids=cands.class_ids, max_det=check_max_det(max_det))
    return _outputs(boxes, cands, keep, conf, return_index)
