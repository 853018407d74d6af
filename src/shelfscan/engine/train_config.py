"""``TrainConfig``: every setting of a training run (``shelfscan train``'s options), written to ``config.json``."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    """Everything a training run needs; written to ``<run>/config.json``."""

    data: str | list[str] | None = None
    val: str | None = None
    train_split: str | None = "train"
    val_split: str | None = "val"
    synthetic: int = 0
    epochs: int = 10
    imgsz: int = 1024
    crop: int = 384
    batch: int = 8
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_iters: int = 30
    backbone_lr_scale: float = 0.25
    device: str = "cpu"
    workers: int = 0
    name: str = "exp"
    project: str = "runs/train"
    resume: str | None = None
    init: str | None = None
    seed: int = 0
    width: int = 64
    frozen_stages: int = 3
    backbone: str = "lite0"
    pretrained: bool = True
    val_max_images: int | None = None
    max_det_val: int = 300
    time_limit_min: float | None = None
    holdout: float = 0.0
    holdout_seed: int = 0
    balance: bool = False
    scale_range: tuple[float, float] = (0.7, 1.4)
    mosaic: float = 0.0
    mosaic_scale: tuple[float, float] | None = None
    class_names: list[str] = field(default_factory=list)
