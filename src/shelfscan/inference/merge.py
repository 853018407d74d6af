"""Detector outputs → boxes with the SKU-110K EM-Merger instead of NMS (``--merger em``)."""
from __future__ import annotations

import torch

from shelfscan.models.predict import select_candidates
from shelfscan.postprocess import merge_candidates


def em_postprocess(outputs: dict[str, torch.Tensor], *, conf: float, max_det: int, hard_score_rate: float,
                   image_size: tuple[int, int], pre_nms_topk: int | None = None) -> dict[str, torch.Tensor]:
    """Like :func:`shelfscan.models.predict.postprocess` for one image, merging candidates with the EM-Merger.

    Args: image_size ``(width, height)`` of the (scaled) image the boxes live in.
    Returns: dict ``boxes, scores, labels, hard_scores, iou_scores`` of the kept candidates, sorted by score;
        ``scores`` are the merger's (0.5·c + 0.5·hard, c = r·hard + (1−r)·iou).
    """
    topk = pre_nms_topk if pre_nms_topk is not None else max(4 * max_det, 5000)
    c = select_candidates(outputs["boxes"][:1], outputs["cls_logits"][:1], outputs["iou_logits"][:1], conf=conf,
                          hard_score_rate=hard_score_rate, pre_nms_topk=topk)[0]
    w, h = image_size
    boxes = c["boxes"].float()
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
    keep, scores = merge_candidates("em", boxes, c["hard_scores"].float(), c["iou_scores"].float(),
                                    image_size=(h, w), hard_score_rate=hard_score_rate, class_ids=c["labels"],
                                    max_det=max_det)
    out = {k: v[keep] for k, v in c.items()}
    out["boxes"] = boxes[keep]
    out["scores"] = scores.to(out["hard_scores"].dtype)
    return out
