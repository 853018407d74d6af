"""``TrainConfig``: every setting of a training run (``shelfscan train``'s options), written to ``config.json``.

The one place the training defaults live: ``shelfscan train`` derives every flag's default from these fields, and
the augmentation (``engine/data.py`` ``AugmentConfig``) takes its defaults from them too. No torch here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shelfscan.metrics.config import EvalConfig
from shelfscan.models.config import DetectorConfig


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; written to ``<run>/config.json``.

    Attributes:
        data: training dataset folder(s) or annotation file(s), any supported format; several are pooled, their
            classes matched by name (None: synthetic shelves only).
        val: validation dataset (AP after every epoch; ``best.pt`` is chosen by AP@[.5:.95]).
        train_split, val_split: the split of ``data`` / ``val`` used.
        synthetic: synthetic shelves added per epoch (rendered on the fly).
        epochs: training epochs.
        imgsz: working resolution (longest side) the model is trained for.
        crop: side of the training crops cut at that resolution (DenseDet-style).
        batch: crops per optimiser step. lr: peak AdamW learning rate. weight_decay: AdamW weight decay.
        warmup_iters: linear warm-up steps. backbone_lr_scale: the backbone's learning rate as a share of ``lr``.
        device: torch device. workers: data-loading processes (0: in the main process).
        name, project: the run is written to ``<project>/<name>/``.
        resume: a run's ``last.pt`` to continue from. init: a checkpoint whose weights start the run.
        seed: seed of the sampling, augmentation and synthetic shelves.
        imgsz, width, backbone: as :class:`~shelfscan.models.config.DetectorConfig` (its defaults), recorded
            in the checkpoint. frozen_stages: backbone stages kept frozen (recorded in the checkpoint's config;
            the recipe freezes 3, a model built directly from ``DetectorConfig()`` 2).
        pretrained: start the backbone from its ImageNet weights.
        val_max_images: validate on the first N images only (None: all).
        max_det_val: detections per image in validation (the evaluation protocol's, ``EvalConfig.max_det``).
        val_conf: score threshold of the detector run for validation after each epoch.
        time_limit_min: stop after the epoch that passes this many minutes (None: no limit).
        holdout: fraction of ``data`` held out (by image name, seeded by ``holdout_seed``) and validated on when
            ``val`` is not given.
        balance: class-balanced sampling (LVIS repeat factors): photos with rare classes are drawn more often.
        scale_range: scale jitter range (log-uniform) around ``imgsz``.
        mosaic: probability that a real photo's sample is a mosaic of it and three other real photos.
        mosaic_scale: scale jitter of the mosaic pieces (None: ``scale_range``).
        class_names: the model's classes (empty: the training data's).
        class_weights: loss weight of some classes by name (the rest weigh 1; see
            :class:`~shelfscan.engine.criterion.DetectionCriterion`), e.g. ``{"gap": 4.0}``.
    """

    data: str | list[str] | None = None
    val: str | None = None
    train_split: str | None = "train"
    val_split: str | None = "val"
    synthetic: int = 0
    epochs: int = 10
    imgsz: int = DetectorConfig.imgsz
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
    width: int = DetectorConfig.width
    frozen_stages: int = DetectorConfig.frozen_stages
    backbone: str = DetectorConfig.backbone
    pretrained: bool = True
    val_max_images: int | None = None
    max_det_val: int = EvalConfig.max_det
    val_conf: float = 0.05
    time_limit_min: float | None = None
    holdout: float = 0.0
    holdout_seed: int = 0
    balance: bool = False
    scale_range: tuple[float, float] = (0.7, 1.4)
    mosaic: float = 0.0
    mosaic_scale: tuple[float, float] | None = None
    class_names: list[str] = field(default_factory=list)
    class_weights: dict[str, float] = field(default_factory=dict)
