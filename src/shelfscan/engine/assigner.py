"""Task-aligned label assignment (TOOD): copes with hundreds of touching products.

Each ground-truth box takes the ``topk`` anchor points inside it that best align classification score and box
IoU (``score^alpha · iou^beta``); a point claimed by several boxes goes to the one it overlaps most. Touching
products therefore never share a point, and each product gets points even when it is small.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from shelfscan.engine.box_ops_torch import box_centres, box_iou


@dataclass
class Assignment:
    """Targets for every anchor point of a batch.

    Attributes:
        fg: bool (B, A), the point is assigned to a product.
        boxes: (B, A, 4) xyxy of the assigned product (zeros where not fg).
        labels: long (B, A), class of the assigned product (0 where not fg).
        scores: (B, A) soft classification target (normalised alignment, 0 where not fg).
    """

    fg: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    scores: torch.Tensor


class TaskAlignedAssigner:
    """Args: topk candidates per box, alpha/beta exponents of the alignment metric."""

    def __init__(self, topk: int = 10, alpha: float = 1.0, beta: float = 6.0, eps: float = 1e-9) -> None:
        self.topk, self.alpha, self.beta, self.eps = topk, alpha, beta, eps

    @torch.no_grad()
    def __call__(self, scores: torch.Tensor, pred_boxes: torch.Tensor, points: torch.Tensor,
                 gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor]) -> Assignment:
        """scores (B, A, C) probabilities, pred_boxes (B, A, 4), points (A, 2), per image gt_boxes (G_i, 4)
        and gt_labels (G_i,) -> :class:`Assignment`."""
        b, a, _ = scores.shape
        dev = scores.device
        fg = torch.zeros(b, a, dtype=torch.bool, device=dev)
        boxes = torch.zeros(b, a, 4, device=dev)
        labels = torch.zeros(b, a, dtype=torch.long, device=dev)
        targets = torch.zeros(b, a, device=dev)
        for i in range(b):
            gt, lab = gt_boxes[i].to(dev, torch.float32), gt_labels[i].to(dev)
            if len(gt) == 0:
                continue
            fg[i], boxes[i], labels[i], targets[i] = self._one(scores[i], pred_boxes[i].float(), points, gt, lab)
        return Assignment(fg, boxes, labels, targets)

    def _one(self, scores, pred_boxes, points, gt, lab):
        g, a = len(gt), len(points)
        x, y = points[:, 0], points[:, 1]
        inside = (x[None] > gt[:, None, 0]) & (x[None] < gt[:, None, 2]) & (y[None] > gt[:, None, 1]) & \
                 (y[None] < gt[:, None, 3])                                                    # (G, A)
        ious = box_iou(gt, pred_boxes).clamp_(0) * inside                                      # (G, A)
        cls = scores[:, lab].T.float()                                                         # (G, A)
        align = cls.pow(self.alpha) * ious.pow(self.beta) * inside
        # small boxes may contain no point: let them take their nearest points by centre distance
        k = min(self.topk, a)
        metric = align + inside * self.eps  # inside points always beat outside ones
        no_point = ~inside.any(1)
        if no_point.any():
            cxy = box_centres(gt[no_point])
            d = torch.cdist(cxy, points)
            near = d.topk(min(3, a), largest=False).indices
            metric[no_point] = 0
            metric[no_point.nonzero()[:, 0:1], near] = self.eps
        top = metric.topk(k, dim=1).indices                                                     # (G, k)
        cand = torch.zeros(g, a, dtype=torch.bool, device=scores.device)
        cand.scatter_(1, top, True)
        cand &= metric > 0
        # a point claimed by several boxes goes to the box it overlaps most
        multi = cand.sum(0) > 1
        if multi.any():
            best = torch.where(cand, ious, torch.full_like(ious, -1)).argmax(0)
            cand[:, multi] = False
            cand[best[multi], multi.nonzero()[:, 0]] = True
        fg = cand.any(0)
        gt_idx = cand.float().argmax(0)
        align = align * cand
        ious = ious * cand
        norm = align / (align.amax(1, keepdim=True) + self.eps) * ious.amax(1, keepdim=True)
        target = norm.amax(0) * fg
        return fg, gt[gt_idx] * fg[:, None], lab[gt_idx] * fg, target
