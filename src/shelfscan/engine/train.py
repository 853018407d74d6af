"""The training loop (outside the model): data, optimiser, EMA, validation, checkpoints, DDP/AMP on GPU."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.engine.data import AugmentConfig, ShelfTrainSet, collate
from shelfscan.engine.ema import ModelEMA
from shelfscan.errors import InputError, expect
from shelfscan.models.checkpoint import load_checkpoint, save_checkpoint
from shelfscan.models.detector import DetectorConfig, ShelfDetector


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


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return rank, world


# split names that hold photos kept out of training: never trained on in place of a missing training split
HELD_OUT_SPLITS = frozenset({"val", "valid", "validation", "test", "testing", "eval", "dev", "holdout"})


def _load_split(path: str, split: str | None, role: str = "train"):
    """The ``split`` of the dataset at ``path``. A dataset without splits is read whole; when ``split`` is missing
    and the dataset has one other split, that one is used with a notice - except, for training, a validation or
    test split (``--split train`` on a dataset that only has ``val`` must not train on its validation photos)."""
    from shelfscan.data.load import list_splits, load_dataset

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


def train(cfg: TrainConfig) -> Path:
    """Run training; returns the run folder (``config.json``, ``metrics.json``, ``best.pt``, ``last.pt``)."""
    rank, world = _distributed()
    device = torch.device(cfg.device if world == 1 or not cfg.device.startswith("cuda") else f"cuda:{rank}")
    torch.manual_seed(cfg.seed)
    expect(cfg.data is not None or cfg.synthetic > 0, "train --data/--synthetic", "a dataset or --synthetic N > 0",
           "neither")
    expect(0.0 <= cfg.mosaic <= 1.0, "train --mosaic", "a probability in [0, 1]", cfg.mosaic)
    if cfg.mosaic_scale is not None:
        lo, hi = cfg.mosaic_scale
        expect(0 < lo <= hi, "train --mosaic-scale", "0 < LO <= HI", tuple(cfg.mosaic_scale))
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
    records = train_ds.images if train_ds else []
    if train_ds is not None and not records and cfg.synthetic <= 0:
        report = train_ds.report
        raise InputError(f"--data {' '.join(paths)}: expected at least one usable training image, got none "
                         f"({len(report.corrupt_images)} corrupt, {len(report.missing_images)} missing, "
                         f"{len(report.problems)} problems; see the report above), and no --synthetic shelves")
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
    val_ds = None
    if cfg.val:
        val_ds = _load_split(cfg.val, cfg.val_split, role="validate")
    elif held_ds is not None:
        val_ds = held_ds
    if val_ds is not None:
        if cfg.val_max_images:
            val_ds.images = val_ds.images[: cfg.val_max_images]

    # multi-class models are validated per class (COCO mAP) when the validation classes are the model's;
    # otherwise (e.g. SKU names that differ between splits) class-agnostically, as the SKU-110K protocol
    agnostic_val = len(class_names) == 1 or val_ds is None or not set(val_ds.class_names) <= set(class_names)
    run_dir = Path(cfg.project) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    model_cfg = DetectorConfig(class_names=list(class_names), width=cfg.width, imgsz=cfg.imgsz,
                               frozen_stages=cfg.frozen_stages, backbone=cfg.backbone)
    # channels-last makes the depthwise convolutions' backward 2-3x faster on CPU
    model = ShelfDetector(model_cfg, pretrained_backbone=cfg.pretrained).to(device, memory_format=torch.channels_last)
    start_epoch, history, best = 0, [], -math.inf  # without validation best.pt follows the lowest training loss
    resume = load_checkpoint(cfg.resume) if cfg.resume else None
    if cfg.init and not resume:
        init = load_checkpoint(cfg.init)
        init_backbone = init["config"].get("backbone", "lite0")
        expect(init_backbone == cfg.backbone, "train --init", f"a checkpoint with the {cfg.backbone} backbone",
               f"{cfg.init} with {init_backbone}")
        _load_init(model, init, cfg.init)
    params = [p for p in model.parameters() if p.requires_grad]
    backbone = {id(p) for p in model.backbone.parameters()}
    groups = []  # pretrained backbone layers learn at a quarter of the rate of the new neck and head
    for is_backbone in (True, False):
        for has_decay in (True, False):
            ps = [p for p in params if (id(p) in backbone) == is_backbone and (p.ndim > 1) == has_decay]
            groups.append({"params": ps, "weight_decay": cfg.weight_decay if has_decay else 0.0,
                           "lr_scale": cfg.backbone_lr_scale if is_backbone else 1.0})
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    ema = ModelEMA(model)
    if resume:
        model.load_state_dict(resume["model"])
        ema.load_state_dict(resume["ema"])
        opt.load_state_dict(resume["optimizer"])
        start_epoch, history, best = resume["epoch"] + 1, resume.get("history", []), resume.get("best", -math.inf)
    (run_dir / "config.json").write_text(json.dumps({**asdict(cfg), "class_names": class_names,
                                                     "model": model_cfg.to_dict()}, indent=2))
    train_set = ShelfTrainSet(records, AugmentConfig(imgsz=cfg.imgsz, crop=cfg.crop,
                                                     scale_range=tuple(cfg.scale_range), mosaic=cfg.mosaic,
                                                     mosaic_scale=None if cfg.mosaic_scale is None
                                                     else tuple(cfg.mosaic_scale)),
                              synthetic=cfg.synthetic, seed=cfg.seed,
                              class_names=list(class_names) if masked else None)
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
        weights[: len(records)] = torch.from_numpy(repeat_factors(train_ds))
        sampler = torch.utils.data.WeightedRandomSampler(weights, len(train_set), replacement=True,
                                                         generator=torch.Generator().manual_seed(cfg.seed))
    loader = DataLoader(train_set, batch_size=cfg.batch, shuffle=sampler is None, sampler=sampler,
                        num_workers=cfg.workers, collate_fn=collate, drop_last=len(train_set) >= cfg.batch,
                        persistent_workers=cfg.workers > 0, generator=torch.Generator().manual_seed(cfg.seed))
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index]) if world > 1 and \
        device.type == "cuda" else model
    criterion = DetectionCriterion(len(class_names))
    total_iters = max(1, cfg.epochs * len(loader))
    use_amp = device.type == "cuda"
    t_start = time.time()
    from tqdm import tqdm

    for epoch in range(start_epoch, cfg.epochs):
        train_set.set_epoch(epoch)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        model.train()
        sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=rank != 0, mininterval=5)
        for it, batch in enumerate(bar):
            images, boxes, labels = batch[:3]
            class_mask = batch[3].to(device) if len(batch) > 3 else None
            step = epoch * len(loader) + it
            # cosine decay over the run; with a time limit, over whichever of iterations or time runs out first
            progress = step / total_iters
            if cfg.time_limit_min:
                progress = max(progress, (time.time() - t_start) / (60 * cfg.time_limit_min))
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup_iters) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            for g in opt.param_groups:
                g["lr"] = lr * g["lr_scale"]
            images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                outputs = net(images)
            losses = criterion(outputs, [b.to(device) for b in boxes], [lab.to(device) for lab in labels],
                               class_mask)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            ema.update(model)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            bar.set_postfix(loss=f"{sums['loss'] / (it + 1):.3f}", lr=f"{lr:.1e}")
        n = max(1, len(loader))
        record = {"epoch": epoch + 1, "lr": lr, "time_s": round(time.time() - t_start, 1),
                  **{f"train_{k}": v / n for k, v in sums.items()}}
        if rank == 0:
            if val_ds is not None:
                from shelfscan.engine.evaluate import evaluate_detector
                from shelfscan.inference.detector import Detector

                ema.module.eval()
                det = Detector(ema.module, imgsz=cfg.imgsz, conf=0.05, max_det=cfg.max_det_val, device=str(device))
                scores = evaluate_detector(det, val_ds, max_det=cfg.max_det_val, class_agnostic=agnostic_val)
                record.update({f"val_{k}": v for k, v in scores.items()})
            history.append(record)
            score = record.get("val_ap50_95", -record["train_loss"])
            extra = {"epoch": epoch, "history": history, "train_config": asdict(cfg)}
            if score > best:
                best = score
                save_checkpoint(run_dir / "best.pt", ema.module, **extra, best=best)
            save_checkpoint(run_dir / "last.pt", model, **extra, best=best, ema=ema.state_dict(),
                            optimizer=opt.state_dict())
            (run_dir / "metrics.json").write_text(json.dumps(history, indent=2))
            print(json.dumps(record))
        if cfg.time_limit_min and (time.time() - t_start) / 60 >= cfg.time_limit_min:
            print(f"time limit of {cfg.time_limit_min} min reached after epoch {epoch + 1}")
            break
    if world > 1:
        torch.distributed.destroy_process_group()
    return run_dir


def _labelled_counts(records) -> dict[tuple[str, ...], int]:
    counts: dict[tuple[str, ...], int] = {}
    for r in records:
        key = tuple(r.labelled) if r.labelled is not None else ("all",)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _load_init(model: ShelfDetector, init: dict, where: str) -> None:
    """Load ``--init`` weights into ``model``. When the class lists differ (e.g. a one-class product model grown
    to product + gap), the class head's channels are matched by class name: a class of the checkpoint keeps its
    weights, a new class keeps the fresh initialisation (prior-probability bias); every other tensor must match."""
    state = {k: v.float() if v.is_floating_point() else v for k, v in init["model"].items()}
    old_names = list(init["config"].get("class_names", ["object"]))
    new_names = list(model.config.class_names)
    own = model.state_dict()
    if len(old_names) == len(new_names):  # same head shape: loaded as it is (classes by position)
        model.load_state_dict(state)
        return
    shared = [(new_names.index(c), i) for i, c in enumerate(old_names) if c in new_names]
    expect(bool(shared), "train --init", f"a checkpoint sharing a class with {new_names}",
           f"{where} with classes {old_names}")
    for key, value in list(state.items()):
        if ".cls_out." in key and key in own and own[key].shape != value.shape:
            grown = own[key].clone()
            for j, i in shared:
                grown[j] = value[i]
            state[key] = grown
    model.load_state_dict(state)
    print(f"--init {where}: class head grown from {old_names} to {new_names} (kept {[old_names[i] for _, i in shared]})")


def export_shipped(best: str | Path, out: str | Path, **extra) -> Path:
    """Turn a run's ``best.pt`` into a shipped fp16 checkpoint (no optimiser state)."""
    ckpt = load_checkpoint(best)
    model = ShelfDetector(DetectorConfig.from_dict(ckpt["config"]), pretrained_backbone=False)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()})
    hist = ckpt.get("history", [])
    return save_checkpoint(out, model, half=True, history=hist, train_config=ckpt.get("train_config", {}), **extra)


__all__ = ["TrainConfig", "train", "export_shipped"]
