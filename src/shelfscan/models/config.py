"""``DetectorConfig``: what rebuilds a detector and how it is run by default. Plain data, no torch."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

DEFAULT_BACKBONE = "lite0"
GAP_CLASS = "gap"  # the class of empty shelf space (where a product belongs) in a two-class shelf model
BACKBONE_NAMES = ("lite0", "lite2", "mobilenet_v2_coco")  # models/backbone.py build_backbone


@dataclass
class DetectorConfig:
    """Everything needed to rebuild a detector from a checkpoint (stored inside it and in ONNX metadata).

    Attributes:
        class_names: the classes the model predicts (SKU-110K: ["object"]).
        width: channels of the neck and head.
        head_depth: separable convs per head tower.
        imgsz: working resolution (longest side, pixels) the model was trained for.
        hard_score_rate: r in score = hard^r · iou^(1-r) (classification × predicted IoU).
        frozen_stages: backbone stages kept frozen during training.
        backbone: ``"lite0"`` (default; every checkpoint saved before this field existed), ``"lite2"`` or
            ``"mobilenet_v2_coco"`` (:data:`BACKBONE_NAMES`).
    """

    class_names: list[str] = field(default_factory=lambda: ["object"])
    width: int = 64
    head_depth: int = 2
    imgsz: int = 1024
    hard_score_rate: float = 0.5
    frozen_stages: int = 3  # the stem and 3 stages: every shipped model (shelfscan train --frozen-stages)
    backbone: str = DEFAULT_BACKBONE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DetectorConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)
