"""One entry point for the detector: turn raw candidates into kept candidate indices with one of the mergers."""
from __future__ import annotations

from typing import Any, Literal

from shelfscan.errors import expect
from shelfscan.inference.config import InferenceConfig
from shelfscan.models.config import DetectorConfig
from shelfscan.postprocess.em_merge import em_merge_index
from shelfscan.postprocess.inputs import (check_candidates, check_fraction, check_image_size, check_max_det,
                                          like_input)
from shelfscan.postprocess.nms import nms_index

METHODS = ("nms", "soft_iou_nms", "em")


def merge_candidates(method: Literal["nms", "soft_iou_nms", "em"], boxes: Any, hard_scores: Any, iou_scores: Any,
                     *, image_size: tuple[int, int], iou_threshold: float = InferenceConfig.iou,
                     hard_score_rate: float = DetectorConfig.hard_score_rate,
                     class_ids: Any = None, max_det: int | None = None) -> tuple[Any, Any]:
    """Choose which raw candidates survive, and their scores.

    Contract: every output refers to an input candidate, so the caller carries any per-candidate data (class
    id, predicted IoU, embedding) with ``input[keep]``. ``keep`` holds distinct indices sorted by score
    descending (ties: lower index first for ``em``; torchvision's order for the NMS methods), at most
    ``max_det`` of them. With ``class_ids`` every class is merged on its own.

    Methods:
        ``"nms"``: greedy NMS on ``hard_scores`` at ``iou_threshold``; score = hard score.
        ``"soft_iou_nms"``: greedy NMS at ``iou_threshold`` ranked by ``c = hard^r · iou^(1 − r)``
            (r = ``hard_score_rate``); score = c.
        ``"em"``: the EM-Merger (:func:`shelfscan.postprocess.em_merge.em_merge`); one candidate per Gaussian
            component, score = ``0.5 * c + 0.5 * hard``. ``iou_threshold`` does not apply (its duplicate removal
            uses intersection over the smaller box at 0.3).

    Args:
        method: one of ``"nms"``, ``"soft_iou_nms"``, ``"em"``.
        boxes: (N, 4) xyxy absolute pixels; numpy array or torch tensor.
        hard_scores: (N,) objectness scores >= 0.
        iou_scores: (N,) predicted-IoU scores >= 0, or None (then c = hard score).
        image_size: ``(height, width)`` of the image; checked for every method, used by ``em``.
        iou_threshold: in (0, 1].
        hard_score_rate: r in [0, 1].
        class_ids: (N,) ints or None.
        max_det: positive int or None (keep all).

    Returns:
        ``keep (M,)`` int64 and ``scores (M,)``, numpy arrays, or torch tensors on ``boxes``' device when
        ``boxes`` is a tensor.

    Raises:
        InputError: an argument has the wrong shape, type or range (the message says expected vs got).
    """
    expect(method in METHODS, "merge_candidates method", f"one of {list(METHODS)}", method)
    cands = check_candidates(boxes, hard_scores, iou_scores, class_ids)
    size = check_image_size(image_size)
    threshold = check_fraction(iou_threshold, "iou_threshold", low_open=True)
    rate = check_fraction(hard_score_rate, "hard_score_rate")
    max_det = check_max_det(max_det)
    if method == "em":
        keep, scores = em_merge_index(cands, image_size=size, hard_score_rate=rate, max_det=max_det)
    else:
        scores = cands.hard if method == "nms" else cands.confidence(rate)
        keep = nms_index(cands.boxes, scores, iou_threshold=threshold, class_ids=cands.class_ids, max_det=max_det)
        scores = scores[keep]
    return like_input(boxes, keep, scores)
