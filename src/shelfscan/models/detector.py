"""The dense product detector: EfficientNet-Lite (Lite0 by default) → PAN → anchor-free head with IoU quality."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from shelfscan.models.backbone import DEFAULT_BACKBONE, LiteFeatures, normalize_images
from shelfscan.models.head import LevelHead, anchor_points, distances_to_boxes
from shelfscan.models.neck import PAN


@dataclass
class DetectorConfig:
    """Everything needed to rebuild a detector from a checkpoint (stored inside it).

    Attributes:
        class_names: the classes the model predicts (SKU-110K: ["object"]).
        width: channels of the neck and head.
        head_depth: separable convs per head tower.
        imgsz: working resolution (longest side, pixels) the model was trained for; inference default.
        hard_score_rate: r in score = hard^r · iou^(1-r) (classification × predicted IoU).
        frozen_stages: backbone stages kept frozen during training.
        backbone: ``"lite0"`` (default; every checkpoint saved before this field existed) or ``"lite2"``.
    """

    class_names: list[str] = field(default_factory=lambda: ["object"])
    width: int = 64
    head_depth: int = 2
    imgsz: int = 1024
    hard_score_rate: float = 0.5
    frozen_stages: int = 2
    backbone: str = DEFAULT_BACKBONE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DetectorConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class ShelfDetector(nn.Module):
    """Dense detector. Takes RGB pixels 0..255, normalises inside (so exported models take raw pixels).

    Shapes: ``forward(images)`` with images (B, 3, H, W), H and W multiples of 32 ->
        dict with ``boxes`` (B, A, 4) xyxy input pixels, ``cls_logits`` (B, A, C), ``iou_logits`` (B, A),
        ``points`` (A, 2), ``strides`` (A,), where A = Σ_levels H_l·W_l.
    """

    def __init__(self, config: DetectorConfig, pretrained_backbone: bool = True) -> None:
        super().__init__()
        self.config = config
        self.backbone = LiteFeatures(config.backbone, pretrained=pretrained_backbone,
                                     frozen_stages=config.frozen_stages)
        self.neck = PAN(self.backbone.out_channels, config.width)
        self.heads = nn.ModuleList(LevelHead(config.width, len(config.class_names), config.head_depth)
                                   for _ in self.backbone.strides)
        self.strides = self.backbone.strides

    @property
    def num_classes(self) -> int:
        return len(self.config.class_names)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.neck(self.backbone(normalize_images(images)))
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
