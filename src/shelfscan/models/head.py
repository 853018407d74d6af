"""Anchor-free dense head (FCOS/TOOD style) with an IoU-quality branch (the Soft-IoU idea of SKU-110K)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from shelfscan.models.layers import SepConv


class LevelHead(nn.Module):
    """Prediction branches of one pyramid level.

    Shapes: (B, width, H, W) -> cls_logits (B, H*W, C), distances (B, H*W, 4) in units of the level's stride
    (left, top, right, bottom from the anchor point), iou_logits (B, H*W).
    """

    def __init__(self, width: int, num_classes: int, depth: int = 2, prior_prob: float = 0.01) -> None:
        super().__init__()
        self.cls_tower = nn.Sequential(*[SepConv(width, width) for _ in range(depth)])
        self.reg_tower = nn.Sequential(*[SepConv(width, width) for _ in range(depth)])
        self.cls_out = nn.Conv2d(width, num_classes, 1)
        self.reg_out = nn.Conv2d(width, 4, 1)
        self.iou_out = nn.Conv2d(width, 1, 1)
        nn.init.constant_(self.cls_out.bias, -math.log((1 - prior_prob) / prior_prob))
        nn.init.normal_(self.cls_out.weight, std=0.01)
        nn.init.normal_(self.reg_out.weight, std=0.01)
        nn.init.constant_(self.reg_out.bias, 1.0)
        nn.init.normal_(self.iou_out.weight, std=0.01)
        nn.init.zeros_(self.iou_out.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.cls_tower(x)
        r = self.reg_tower(x)
        cls_logits = self.cls_out(c).flatten(2).transpose(1, 2)
        distances = F.softplus(self.reg_out(r)).flatten(2).transpose(1, 2)
        iou_logits = self.iou_out(r).flatten(1)
        return cls_logits, distances, iou_logits


def anchor_points(shapes: list[tuple[int, int]], strides: tuple[int, ...], device: torch.device,
                  dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres of every feature-map cell, in input pixels.

    Returns:
        points (A, 2) as (x, y) and strides (A,), levels concatenated finest first, row-major inside a level.
    """
    pts, strs = [], []
    for (h, w), s in zip(shapes, strides):
        ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) * s
        xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) * s
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        pts.append(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
        strs.append(torch.full((h * w,), float(s), device=device, dtype=dtype))
    return torch.cat(pts), torch.cat(strs)


def distances_to_boxes(points: torch.Tensor, distances: torch.Tensor) -> torch.Tensor:
    """points (A, 2) and pixel distances (B, A, 4) as (l, t, r, b) -> boxes (B, A, 4) xyxy."""
    x1y1 = points - distances[..., :2]
    x2y2 = points + distances[..., 2:]
    return torch.cat([x1y1, x2y2], -1)
