"""Training losses: soft-target classification, GIoU box loss, and BCE on the predicted IoU (Soft-IoU)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from shelfscan.engine.assigner import TaskAlignedAssigner
from shelfscan.engine.box_ops_torch import generalized_box_iou_loss, paired_iou
from shelfscan.errors import expect


class DetectionCriterion:
    """Loss of :class:`shelfscan.models.detector.ShelfDetector` outputs against per-image boxes.

    Args:
        num_classes: C.
        assigner: label assignment (default task-aligned, top-10).
        cls_weight, box_weight, iou_weight: loss weights.
        class_weights: (C,) weight of each class (None: all 1): its channel's classification loss on every point
            and the box and IoU losses of the points assigned to it are multiplied by it. A class with few boxes
            per photo (the shelf's ``gap`` next to hundreds of products) otherwise gets a small share of the
            gradient; the normaliser is unchanged, so weights of 1 give the unweighted loss exactly.
    """

    def __init__(self, num_classes: int, assigner: TaskAlignedAssigner | None = None, cls_weight: float = 1.0,
                 box_weight: float = 2.0, iou_weight: float = 1.0,
                 class_weights: list[float] | tuple[float, ...] | None = None) -> None:
        self.num_classes = num_classes
        self.assigner = assigner or TaskAlignedAssigner()
        self.cls_weight, self.box_weight, self.iou_weight = cls_weight, box_weight, iou_weight
        w = [1.0] * num_classes if class_weights is None else [float(v) for v in class_weights]
        expect(len(w) == num_classes and all(math.isfinite(v) and v > 0 for v in w),
               "DetectionCriterion class_weights", f"{num_classes} positive numbers (one per class)",
               w)
        self.class_weights = torch.tensor(w)

    def __call__(self, outputs: dict[str, torch.Tensor], gt_boxes: list[torch.Tensor],
                 gt_labels: list[torch.Tensor], class_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """outputs of the detector; gt_boxes[i] (G_i, 4) xyxy pixels, gt_labels[i] (G_i,) ->
        dict of scalar losses ``loss`` (total), ``cls``, ``box``, ``iou`` and ``num_fg``.

        ``class_mask`` (B, C) bool: the classes labelled on each image (None: all). The classification loss of
        an unlabelled class is ignored on that image (its logits get no gradient): a photo from a dataset that
        does not box gaps must not teach that its empty shelf space is background. Boxes of a class not
        labelled on their image are not expected (they would still get box and IoU losses).
        """
        cls_logits = outputs["cls_logits"].float()
        boxes = outputs["boxes"].float()
        iou_logits = outputs["iou_logits"].float()
        assign = self.assigner(cls_logits.sigmoid().detach(), boxes.detach(), outputs["points"], gt_boxes, gt_labels)
        target = torch.zeros_like(cls_logits)
        fg = assign.fg
        target[fg, assign.labels[fg]] = assign.scores[fg]
        norm = assign.scores.sum().clamp(min=1.0)
        cw = self.class_weights.to(cls_logits.device)
        bce = F.binary_cross_entropy_with_logits(cls_logits, target, reduction="none") * cw  # (B, A, C)
        if class_mask is None:
            loss_cls = bce.sum() / norm
        else:
            keep = class_mask.to(cls_logits.device, torch.bool)[:, None, :].expand_as(cls_logits)
            loss_cls = bce[keep].sum() / norm
        if fg.any():
            point_w = cw[assign.labels[fg]]
            pb, tb, w = boxes[fg], assign.boxes[fg], assign.scores[fg] * point_w
            loss_box = (generalized_box_iou_loss(pb, tb, reduction="none") * w).sum() / norm
            with torch.no_grad():
                true_iou = paired_iou(pb, tb)
            iou_bce = F.binary_cross_entropy_with_logits(iou_logits[fg], true_iou, reduction="none")
            loss_iou = (iou_bce * point_w).mean()
        else:
            loss_box = boxes.sum() * 0
            loss_iou = iou_logits.sum() * 0
        total = self.cls_weight * loss_cls + self.box_weight * loss_box + self.iou_weight * loss_iou
        return {"loss": total, "cls": loss_cls.detach(), "box": loss_box.detach(), "iou": loss_iou.detach(),
                "num_fg": fg.sum().detach()}
