"""Box arithmetic in torch for training (the assigner and the losses): the torch twins of :mod:`shelfscan.box_ops`,
which inference and everything else use in numpy. Boxes are ``x1, y1, x2, y2`` tensors."""
from __future__ import annotations

import torch
from torchvision.ops import box_iou, generalized_box_iou_loss

__all__ = ["box_centres", "box_iou", "generalized_box_iou_loss", "paired_iou"]


def box_centres(boxes: torch.Tensor) -> torch.Tensor:
    """(N, 4) xyxy -> (N, 2) centres ``(cx, cy)``."""
    return (boxes[:, :2] + boxes[:, 2:]) / 2


def paired_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of a[i] with b[i]: a, b (N, 4) xyxy -> (N,) in [0, 1] (the diagonal of ``box_iou(a, b)``, in O(N))."""
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(1)
    return (inter / (area_a + area_b - inter).clamp(min=1e-9)).clamp(0, 1)
