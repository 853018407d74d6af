"""The score blend inside exported graphs: the torch twin of :func:`shelfscan.postprocess.scores.blend_scores`.

score = hard^r · soft^(1−r), hard = sigmoid(class logit), soft = sigmoid(IoU logit), r = ``hard_score_rate``.
Everything after the network runs in numpy (:mod:`shelfscan.inference.predict`); this copy exists only so the
ONNX graph can expose the blended ``scores`` output.
"""
from __future__ import annotations

import torch


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
