"""The dense product detector: a trunk (EfficientNet-Lite0 by default, Lite2, or COCO MobileNetV2) → PAN →
anchor-free head with IoU quality."""
from __future__ import annotations

import torch
from torch import nn

from shelfscan.models.backbone import build_backbone, normalize_images
from shelfscan.models.config import DetectorConfig  # noqa: F401  (re-exported: the config lives beside the model)
from shelfscan.models.head import LevelHead, anchor_points, distances_to_boxes
from shelfscan.models.neck import PAN


class ShelfDetector(nn.Module):
    """Dense detector. Takes RGB pixels 0..255, normalises inside (so exported models take raw pixels).

    Shapes: ``forward(images)`` with images (B, 3, H, W), H and W multiples of 32 ->
        dict with ``boxes`` (B, A, 4) xyxy input pixels, ``cls_logits`` (B, A, C), ``iou_logits`` (B, A),
        ``points`` (A, 2), ``strides`` (A,), where A = Σ_levels H_l·W_l.
    """

    def __init__(self, config: DetectorConfig, pretrained_backbone: bool = True) -> None:
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config.backbone, pretrained=pretrained_backbone,
                                       frozen_stages=config.frozen_stages)
        self.neck = PAN(self.backbone.out_channels, config.width)
        self.heads = nn.ModuleList(LevelHead(config.width, len(config.class_names), config.head_depth)
                                   for _ in self.backbone.strides)
        self.strides = self.backbone.strides

    @property
    def num_classes(self) -> int:
        return len(self.config.class_names)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = normalize_images(images, self.backbone.pixel_mean, self.backbone.pixel_std)
        feats = self.neck(self.backbone(x))
        cls, dist, iou = zip(*(head(f) for head, f in zip(self.heads, feats)))
        points, strides = anchor_points([tuple(f.shape[-2:]) for f in feats], self.strides, images.device)
        distances = torch.cat(dist, 1) * strides[None, :, None]
        return {
            "boxes": distances_to_boxes(points, distances),
            "cls_logits": torch.cat(cls, 1),
            "iou_logits": torch.cat(iou, 1),
            "points": points,
            "strides": strides,
        }
