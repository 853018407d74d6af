"""The predict path: raw detector outputs → scored boxes. Pure tensor code, so it can be exported.

score = hard^r · soft^(1−r) where hard = sigmoid(class logit) (the classification score), soft =
sigmoid(IoU logit) (the predicted IoU with the true box, SKU-110K's Soft-IoU) and r = ``hard_score_rate``.
Then: score threshold → top-k → class-aware NMS (torchvision) → ``max_det``. Nothing is capped silently:
``max_det`` defaults to 1000 and ``pre_nms_topk`` to max(4·max_det, 5000).
"""
from __future__ import annotations

import torch
from torchvision.ops import batched_nms


def blend_scores(cls_logits: torch.Tensor, iou_logits: torch.Tensor, hard_score_rate: float) -> torch.Tensor:
    """cls_logits (B, A, C), iou_logits (B, A) -> scores (B, A, C) = hard^r · soft^(1−r)."""
    hard = cls_logits.sigmoid()
    soft = iou_logits.sigmoid().unsqueeze(-1)
    r = float(hard_score_rate)
    if r >= 1.0:
        return hard
    if r <= 0.0:
        return soft.expand_as(hard)
    return hard.pow(r) * soft.pow(1.0 - r)


def select_candidates(boxes: torch.Tensor, cls_logits: torch.Tensor, iou_logits: torch.Tensor, *,
                      conf: float, hard_score_rate: float, pre_nms_topk: int) -> list[dict[str, torch.Tensor]]:
    """Candidates before any merging, per image.

    Args: boxes (B, A, 4), cls_logits (B, A, C), iou_logits (B, A).
    Returns: per image a dict with ``boxes`` (K, 4), ``scores`` (K,) blended, ``labels`` (K,),
        ``hard_scores`` (K,) classification, ``iou_scores`` (K,) predicted IoU; K ≤ pre_nms_topk, score ≥ conf,
        sorted by score descending; one label (the best class) per anchor point.
    """
    scores_all = blend_scores(cls_logits, iou_logits, hard_score_rate)
    scores, labels = scores_all.max(-1)
    hard = cls_logits.sigmoid().gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    soft = iou_logits.sigmoid()
    out = []
    for i in range(boxes.shape[0]):
        keep = scores[i] >= conf
        s = scores[i][keep]
        k = min(pre_nms_topk, s.numel())
        s, order = s.topk(k)
        idx = keep.nonzero().squeeze(1)[order]
        out.append({"boxes": boxes[i, idx], "scores": s, "labels": labels[i, idx], "hard_scores": hard[i, idx],
                    "iou_scores": soft[i, idx]})
    return out


def postprocess(outputs: dict[str, torch.Tensor], *, conf: float = 0.25, iou: float = 0.6, max_det: int = 1000,
                hard_score_rate: float = 0.5, pre_nms_topk: int | None = None) -> list[dict[str, torch.Tensor]]:
    """Detector outputs -> per image dict ``boxes`` (N, 4) xyxy, ``scores``, ``labels``, ``iou_scores`` after NMS,
    N ≤ max_det, sorted by score."""
    topk = pre_nms_topk if pre_nms_topk is not None else max(4 * max_det, 5000)
    cands = select_candidates(outputs["boxes"], outputs["cls_logits"], outputs["iou_logits"], conf=conf,
                              hard_score_rate=hard_score_rate, pre_nms_topk=topk)
    results = []
    for c in cands:
        keep = batched_nms(c["boxes"].float(), c["scores"].float(), c["labels"], iou)[:max_det]
        results.append({k: v[keep] for k, v in c.items()})
    return results
