"""The data side of a training run: the datasets (``--data``, ``--holdout``, ``--val``), and the loader over them.

:func:`build_datasets` reads and checks what ``TrainConfig`` names and decides the classes, the class masks (pooled
datasets that label different classes) and how validation is scored; :func:`build_loader` wraps the training
photos and synthetic shelves in the augmenting :class:`shelfscan.engine.data.ShelfTrainSet` and a sampler.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader

from shelfscan.engine.data import AugmentConfig, ShelfTrainSet, collate
from shelfscan.engine.train_config import TrainConfig
from shelfscan.errors import InputError

# split names that hold photos kept out of training: never trained on in place of a missing training split
HELD_OUT_SPLITS = frozenset({"val", "valid", "validation", "test", "testing", "eval", "dev", "holdout"})


def _load_split(path: str, split: str | None, role: str = "train"):
    """The ``split`` of the dataset at ``path``. A dataset without splits is read whole; when ``split`` is missing
    and the dataset has one other split, that one is used with a notice - except, for training, a validation or
    test split (``--split train`` on a dataset that only has ``val`` must not train on its validation photos)."""
    from shelfscan.data.formats import list_splits, load_dataset

    splits = list_splits(path)
    if not splits:  # a flat dataset (e.g. YOLO images/ + labels/): no named splits
        split = None
    elif split is not None and split not in splits:
        lone = splits[0] if len(splits) == 1 else None
        if lone is None or (role == "train" and lone.lower() in HELD_OUT_SPLITS):
            hint = f" (pass --split {lone} to {role} on it anyway)" if lone is not None else ""
            raise InputError(f"{path}: expected a split named {split!r} to {role} on among {splits}, got none{hint}")
        print(f"{path}: no split {split!r}; using its only split {lone!r}")
        split = lone
    ds = load_dataset(path, split)
    if not ds.report.clean:
        print(ds.report.summary(5))
    return ds


def _labelled_counts(records) -> dict[tuple[str, ...], int]:
    counts: dict[tuple[str, ...], int] = {}
    for r in records:
        key = tuple(r.labelled) if r.labelled is not None else ("all",)
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass
class TrainData:
    """What :func:`build_datasets` decided.

    Attributes:
        train_ds: the pooled training dataset (None with only ``--synthetic``); ``records`` its images.
        val_ds: the validation dataset (``--val``, else the ``--holdout`` part, else None).
        class_names: the model's classes. masked: whether per-photo class masks apply (pooled datasets labelling
            different classes). agnostic_val: whether validation ignores classes (one class, or validation classes
            that are not the model's, as the SKU-110K protocol).
    """

    train_ds: Any
    records: list
    val_ds: Any
    class_names: list[str]
    masked: bool
    agnostic_val: bool


def _training_set(cfg: TrainConfig):
    """(pooled ``--data`` training dataset or None, the ``--holdout`` part or None)."""
    train_ds = None
    if cfg.data:
        from shelfscan.data.combine import concat_datasets

        # several --data folders are pooled; classes are matched by name
        paths = [cfg.data] if isinstance(cfg.data, str) else list(cfg.data)
        train_ds = concat_datasets([_load_split(path, cfg.train_split) for path in paths])
    held_ds = None
    if cfg.holdout:
        if train_ds is None:
            raise InputError(f"--holdout {cfg.holdout}: expected --data to split, got only --synthetic")
        # with several --data folders the pooled images are split (by name, as for one folder)
        from shelfscan.data.split import holdout_split

        train_ds, held_ds = holdout_split(train_ds, cfg.holdout, cfg.holdout_seed)
    if train_ds is not None and not train_ds.images and cfg.synthetic <= 0:
        report = train_ds.report
        raise InputError(f"--data {' '.join(paths)}: expected at least one usable training image, got none "
                         f"({len(report.corrupt_images)} corrupt, {len(report.missing_images)} missing, "
                         f"{len(report.problems)} problems; see the report above), and no --synthetic shelves")
    return train_ds, held_ds


def build_datasets(cfg: TrainConfig) -> TrainData:
    """Read ``--data`` (pooled), split off ``--holdout``, read ``--val``; decide classes and masks.

    Raises:
        InputError: no usable training image and no synthetic shelves, ``--holdout`` without ``--data``,
            ``--synthetic`` with a multi-class dataset that is not masked, a missing split.
    """
    train_ds, held_ds = _training_set(cfg)
    records = train_ds.images if train_ds else []
    class_names = cfg.class_names or (train_ds.class_names if train_ds else ["object"])
    # pooled datasets that label different classes (products-only photos, gap-labelled photos): the loss of a
    # class is ignored on photos whose dataset does not label it; synthetic shelves then label class 0 only
    masked = any(r.labelled is not None and set(r.labelled) != set(class_names) for r in records)
    if masked:
        print(f"class masks: classes {class_names}; " + ", ".join(
            f"{n} photos label {list(k)}" for k, n in _labelled_counts(records).items()) +
            (f"; {cfg.synthetic} synthetic shelves label [{class_names[0]!r}]" if cfg.synthetic else ""))
    if train_ds is not None and cfg.synthetic and len(class_names) > 1 and not masked:
        raise InputError(f"--synthetic: expected a one-class dataset (synthetic shelves teach 'a product'), got "
                         f"{len(class_names)} classes {class_names[:5]}")
    val_ds = _load_split(cfg.val, cfg.val_split, role="validate") if cfg.val else held_ds
    if val_ds is not None and cfg.val_max_images:
        val_ds.images = val_ds.images[: cfg.val_max_images]
    # multi-class models are validated per class (COCO mAP) when the validation classes are the model's;
    # otherwise (e.g. SKU names that differ between splits) class-agnostically, as the SKU-110K protocol
    agnostic_val = len(class_names) == 1 or val_ds is None or not set(val_ds.class_names) <= set(class_names)
    return TrainData(train_ds, records, val_ds, class_names, masked, agnostic_val)


def build_loader(cfg: TrainConfig, data: TrainData, rank: int, world: int):
    """(train set, sampler or None, DataLoader): augmented crops of the training photos plus ``cfg.synthetic``
    synthetic shelves; distributed under torchrun, class-balanced (LVIS repeat factors) with ``--balance``.
    Batches are ``(images (B, 3, crop, crop), boxes [(n_i, 4)], labels [(n_i,)][, class_mask (B, C)])``."""
    aug = AugmentConfig(imgsz=cfg.imgsz, crop=cfg.crop, scale_range=tuple(cfg.scale_range), mosaic=cfg.mosaic,
                        mosaic_scale=None if cfg.mosaic_scale is None else tuple(cfg.mosaic_scale))
    train_set = ShelfTrainSet(data.records, aug, synthetic=cfg.synthetic, seed=cfg.seed,
                              class_names=list(data.class_names) if data.masked else None)
    sampler = None
    if world > 1:
        if cfg.balance:
            raise InputError("--balance: expected a single-process run, got torchrun with "
                             f"WORLD_SIZE={world} (class-balanced sampling is not distributed)")
        sampler = torch.utils.data.DistributedSampler(train_set, world, rank, seed=cfg.seed)
    elif cfg.balance:
        from shelfscan.data.split import repeat_factors

        # LVIS repeat-factor sampling: images with rare classes are drawn more often (synthetic ones weight 1)
        weights = torch.ones(len(train_set), dtype=torch.float64)
        weights[: len(data.records)] = torch.from_numpy(repeat_factors(data.train_ds))
        sampler = torch.utils.data.WeightedRandomSampler(weights, len(train_set), replacement=True,
                                                         generator=torch.Generator().manual_seed(cfg.seed))
    loader = DataLoader(train_set, batch_size=cfg.batch, shuffle=sampler is None, sampler=sampler,
                        num_workers=cfg.workers, collate_fn=collate, drop_last=len(train_set) >= cfg.batch,
                        persistent_workers=cfg.workers > 0, generator=torch.Generator().manual_seed(cfg.seed))
    return train_set, sampler, loader
