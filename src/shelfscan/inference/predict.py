"""The predict path after the network, in numpy for every runtime: candidates → NMS or EM-Merger → boxes.

score = hard^r · soft^(1−r) (:mod:`shelfscan.postprocess.scores`): hard = classification score, soft = predicted
IoU, r = ``hard_score_rate``. Then: score threshold → top-k → class-aware NMS (or the EM-Merger) → ``max_det``.
Nothing is capped silently: ``max_det`` defaults to 1000 and ``pre_nms_topk`` to max(4·max_det, 5000) (the
defaults are :class:`~shelfscan.inference.config.InferenceConfig`'s).
"""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import clip_boxes
from shelfscan.inference.config import InferenceConfig
from shelfscan.models.config import DetectorConfig
from shelfscan.postprocess.nms import nms_index
from shelfscan.postprocess.scores import blend_scores


def default_topk(max_det: int) -> int:
    return max(4 * max_det, 5000)


def select_candidates(boxes: np.ndarray, cls_scores: np.ndarray, iou_scores: np.ndarray, *, conf: float,
                      hard_score_rate: float, pre_nms_topk: int) -> dict[str, np.ndarray]:
    """Candidates of one image before any merging.

    Args: boxes (A, 4), cls_scores (A, C), iou_scores (A,), probabilities.

    Returns: dict ``boxes`` (K, 4), ``scores`` (K,) blended, ``labels`` (K,) int64, ``hard_scores`` (K,),
        ``iou_scores`` (K,); K ≤ pre_nms_topk, score ≥ conf, sorted by score descending (ties: lower point, then
        lower class first). Multi-label: a point yields one candidate per class scoring ≥ conf (with several
        classes, an empty-shelf ``gap`` is not hidden where a product scores higher at the same point; class-aware
        NMS then runs per class); with one class, one candidate per point.
    """
    scores_all = blend_scores(cls_scores, iou_scores[:, None], hard_score_rate)
    flat = np.flatnonzero(scores_all.reshape(-1) >= conf)  # (point, class) pairs, point-major
    scores = scores_all.reshape(-1)[flat]
    if len(flat) > pre_nms_topk:
        part = np.argpartition(-scores, pre_nms_topk - 1)[:pre_nms_topk]
        flat, scores = flat[part], scores[part]
    order = np.lexsort((flat, -scores))
    flat, scores = flat[order], scores[order]
    idx, labels = np.divmod(flat, scores_all.shape[1])
    hard = cls_scores[idx, labels]
    return {"boxes": boxes[idx].astype(np.float32), "scores": scores.astype(np.float32),
            "labels": labels.astype(np.int64), "hard_scores": hard.astype(np.float32),
            "iou_scores": iou_scores[idx].astype(np.float32)}


def nms_postprocess(cands: dict[str, np.ndarray], *, iou: float, max_det: int) -> dict[str, np.ndarray]:
    """Class-aware NMS of one image's candidates -> the same dict, N ≤ max_det, sorted by score."""
    keep = nms_index(cands["boxes"], cands["scores"], iou_threshold=iou, class_ids=cands["labels"],
                     max_det=max_det)
    return {k: v[keep] for k, v in cands.items()}


def em_postprocess(cands: dict[str, np.ndarray], *, max_det: int, hard_score_rate: float,
                   image_size: tuple[int, int]) -> dict[str, np.ndarray]:
    """The SKU-110K EM-Merger on one image's candidates (``image_size`` = (width, height) they live in).

    Returns the kept candidates sorted by score; ``scores`` are the merger's (0.5·c + 0.5·hard,
    c = hard^r · iou^(1−r))."""
    from shelfscan.postprocess import merge_candidates

    w, h = image_size
    boxes = clip_boxes(cands["boxes"], w, h)
    keep, scores = merge_candidates("em", boxes, cands["hard_scores"], cands["iou_scores"], image_size=(h, w),
                                    hard_score_rate=hard_score_rate, class_ids=cands["labels"], max_det=max_det)
    out = {k: v[keep] for k, v in cands.items()}
    out["boxes"] = boxes[keep]
    out["scores"] = np.asarray(scores, np.float32)
    return out


def postprocess(outputs: dict[str, np.ndarray], *, conf: float = InferenceConfig.conf,
                iou: float = InferenceConfig.iou, max_det: int = InferenceConfig.max_det,
                hard_score_rate: float = DetectorConfig.hard_score_rate, merger: str = InferenceConfig.merger,
                image_size: tuple[int, int] | None = None,
                pre_nms_topk: int | None = InferenceConfig.pre_nms_topk) -> list[dict[str, np.ndarray]]:
    """Network outputs (``boxes`` (B, A, 4), ``cls_scores`` (B, A, C), ``iou_scores`` (B, A)) -> per image a
    dict ``boxes`` (N, 4) xyxy, ``scores``, ``labels``, ``hard_scores``, ``iou_scores``, N ≤ max_det, sorted by
    score. ``merger="em"`` needs ``image_size`` (width, height)."""
    topk = default_topk(max_det) if pre_nms_topk is None else pre_nms_topk
    results = []
    for b, c, s in zip(outputs["boxes"], outputs["cls_scores"], outputs["iou_scores"]):
        cands = select_candidates(b, c, s, conf=conf, hard_score_rate=hard_score_rate, pre_nms_topk=topk)
        if merger == "em":
            results.append(em_postprocess(cands, max_det=max_det, hard_score_rate=hard_score_rate,
                                          image_size=image_size))
        else:
            results.append(nms_postprocess(cands, iou=iou, max_det=max_det))
    return results
