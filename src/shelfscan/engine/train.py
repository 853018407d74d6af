"""The training loop (outside the model): data, optimiser, EMA, validation, checkpoints, DDP/AMP on GPU.

:func:`train` assembles the steps, in the shape of DETR's ``engine.py``: :func:`build_datasets` and
:func:`build_loader` (:mod:`shelfscan.engine.train_data`), :func:`build_model`, :func:`build_optimizer`, then per
epoch :func:`train_one_epoch`, :func:`validate` (rank 0) and the checkpoints.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.engine.ema import ModelEMA
from shelfscan.engine.train_config import TrainConfig
from shelfscan.engine.train_data import (HELD_OUT_SPLITS, TrainData, _labelled_counts,  # noqa: F401
                                         _load_split, build_datasets, build_loader)
from shelfscan.errors import expect
from shelfscan.models.class_subset import keep_classes
from shelfscan.models.checkpoint import float_state_dict, load_checkpoint, save_checkpoint
from shelfscan.models.detector import DetectorConfig, ShelfDetector


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return rank, world


def _check_config(cfg: TrainConfig) -> None:
    expect(cfg.data is not None or cfg.synthetic > 0, "train --data/--synthetic", "a dataset or --synthetic N > 0",
           "neither")
    expect(0.0 <= cfg.mosaic <= 1.0, "train --mosaic", "a probability in [0, 1]", cfg.mosaic)
    if cfg.mosaic_scale is not None:
        lo, hi = cfg.mosaic_scale
        expect(0 < lo <= hi, "train --mosaic-scale", "0 < LO <= HI", tuple(cfg.mosaic_scale))


def build_model(cfg: TrainConfig, class_names: list[str], device: torch.device, resume: dict | None):
    """(the fresh :class:`ShelfDetector` on ``device``, channels-last, its config); ``--init`` weights loaded
    unless resuming (resumed weights are loaded by :func:`train` after the optimiser is built)."""
    model_cfg = DetectorConfig(class_names=list(class_names), width=cfg.width, imgsz=cfg.imgsz,
                               frozen_stages=cfg.frozen_stages, backbone=cfg.backbone)
    # channels-last makes the depthwise convolutions' backward 2-3x faster on CPU
    model = ShelfDetector(model_cfg, pretrained_backbone=cfg.pretrained).to(device, memory_format=torch.channels_last)
    if cfg.init and not resume:
        init = load_checkpoint(cfg.init)
        init_backbone = init["config"].get("backbone", "lite0")
        expect(init_backbone == cfg.backbone, "train --init", f"a checkpoint with the {cfg.backbone} backbone",
               f"{cfg.init} with {init_backbone}")
        _load_init(model, init, cfg.init)
    return model, model_cfg


def build_optimizer(cfg: TrainConfig, model: ShelfDetector) -> tuple[torch.optim.AdamW, list]:
    """(AdamW, the trainable parameters): four groups, backbone or not × decayed (ndim > 1) or not; pretrained
    backbone layers learn at ``backbone_lr_scale`` times the rate of the new neck and head (``lr_scale``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    backbone = {id(p) for p in model.backbone.parameters()}
    groups = []
    for is_backbone in (True, False):
        for has_decay in (True, False):
            ps = [p for p in params if (id(p) in backbone) == is_backbone and (p.ndim > 1) == has_decay]
            groups.append({"params": ps, "weight_decay": cfg.weight_decay if has_decay else 0.0,
                           "lr_scale": cfg.backbone_lr_scale if is_backbone else 1.0})
    return torch.optim.AdamW(groups, lr=cfg.lr), params


def learning_rate(cfg: TrainConfig, step: int, total_iters: int, t_start: float) -> float:
    """Linear warm-up over ``warmup_iters``, then cosine decay over the run; with a time limit, over whichever of
    iterations or time runs out first."""
    progress = step / total_iters
    if cfg.time_limit_min:
        progress = max(progress, (time.time() - t_start) / (60 * cfg.time_limit_min))
    return warmup_cosine(cfg.lr, step, cfg.warmup_iters, progress)


def warmup_cosine(peak: float, step: int, warmup: int, progress: float) -> float:
    """``peak`` times a linear warm-up over ``warmup`` steps times a cosine from 1 to 0 over ``progress`` 0..1
    (clipped): the schedule of both training loops."""
    return peak * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


@dataclass
class TrainState:
    """The moving parts of a run, shared by the epoch steps. ``net`` is ``model`` or its DDP wrapper."""

    model: ShelfDetector
    net: Any
    ema: ModelEMA
    opt: torch.optim.Optimizer
    params: list
    criterion: DetectionCriterion
    loader: Any
    device: torch.device
    rank: int
    t_start: float
    total_iters: int


def train_one_epoch(cfg: TrainConfig, st: TrainState, epoch: int) -> dict:
    """One pass over the loader (AMP bf16 on CUDA, gradients clipped at 10, EMA updated every step).

    Returns: ``{"epoch": epoch + 1, "lr": last lr, "time_s", "train_<loss>": mean over the epoch's batches}``."""
    from tqdm import tqdm

    st.model.train()
    sums: dict[str, float] = {}
    lr = cfg.lr
    bar = tqdm(st.loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=st.rank != 0, mininterval=5)
    for it, batch in enumerate(bar):
        images, boxes, labels = batch[:3]
        class_mask = batch[3].to(st.device) if len(batch) > 3 else None
        lr = learning_rate(cfg, epoch * len(st.loader) + it, st.total_iters, st.t_start)
        for g in st.opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        images = images.to(st.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with torch.autocast(st.device.type, dtype=torch.bfloat16, enabled=st.device.type == "cuda"):
            outputs = st.net(images)
        losses = st.criterion(outputs, [b.to(st.device) for b in boxes], [lab.to(st.device) for lab in labels],
                              class_mask)
        st.opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(st.params, 10.0)
        st.opt.step()
        st.ema.update(st.model)
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        bar.set_postfix(loss=f"{sums['loss'] / (it + 1):.3f}", lr=f"{lr:.1e}")
    n = max(1, len(st.loader))
    return {"epoch": epoch + 1, "lr": lr, "time_s": round(time.time() - st.t_start, 1),
            **{f"train_{k}": v / n for k, v in sums.items()}}


def validate(cfg: TrainConfig, model: ShelfDetector, data: TrainData, device: torch.device) -> dict:
    """``{"val_<metric>": value}`` of ``model`` (the EMA weights) on the validation set (COCO AP, per class or
    class-agnostic as :attr:`TrainData.agnostic_val` says); ``{}`` without a validation set."""
    if data.val_ds is None:
        return {}
    from shelfscan.engine.evaluate import evaluate_detector
    from shelfscan.inference.detector import Detector

    model.eval()
    # the detector keeps its own max_det (1000): capping it at max_det_val would keep the top boxes of all classes
    # together, and on a shelf of 100+ products a two-class model's gaps would never reach the scoring, which keeps
    # max_det_val boxes per class (COCO maxDets)
    det = Detector(model, imgsz=cfg.imgsz, conf=cfg.val_conf, device=str(device))
    scores = evaluate_detector(det, data.val_ds, max_det=cfg.max_det_val, class_agnostic=data.agnostic_val)
    return {f"val_{k}": v for k, v in scores.items()}


def _save_epoch(cfg: TrainConfig, st: TrainState, run_dir: Path, epoch: int, history: list, best: float) -> float:
    """Write ``best.pt`` (EMA weights, when the score improved: ``val_ap50_95``, else minus the training loss),
    ``last.pt`` (with EMA and optimiser state, to resume) and ``metrics.json``; returns the best score."""
    record = history[-1]
    score = record.get("val_ap50_95", -record["train_loss"])
    extra = {"epoch": epoch, "history": history, "train_config": asdict(cfg)}
    if score > best:
        best = score
        save_checkpoint(run_dir / "best.pt", st.ema.module, **extra, best=best)
    save_checkpoint(run_dir / "last.pt", st.model, **extra, best=best, ema=st.ema.state_dict(),
                    optimizer=st.opt.state_dict())
    (run_dir / "metrics.json").write_text(json.dumps(history, indent=2))
    return best


def train(cfg: TrainConfig) -> Path:
    """Run training; returns the run folder (``config.json``, ``metrics.json``, ``best.pt``, ``last.pt``)."""
    rank, world = _distributed()
    device = torch.device(cfg.device if world == 1 or not cfg.device.startswith("cuda") else f"cuda:{rank}")
    torch.manual_seed(cfg.seed)
    _check_config(cfg)
    data = build_datasets(cfg)
    run_dir = Path(cfg.project) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    resume = load_checkpoint(cfg.resume) if cfg.resume else None
    model, model_cfg = build_model(cfg, data.class_names, device, resume)
    opt, params = build_optimizer(cfg, model)
    ema = ModelEMA(model)
    start_epoch, history, best = 0, [], -math.inf  # without validation best.pt follows the lowest training loss
    if resume:
        model.load_state_dict(resume["model"])
        ema.load_state_dict(resume["ema"])
        opt.load_state_dict(resume["optimizer"])
        start_epoch, history, best = resume["epoch"] + 1, resume.get("history", []), resume.get("best", -math.inf)
    (run_dir / "config.json").write_text(json.dumps({**asdict(cfg), "class_names": data.class_names,
                                                     "model": model_cfg.to_dict()}, indent=2))
    train_set, sampler, loader = build_loader(cfg, data, rank, world)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index]) if world > 1 and \
        device.type == "cuda" else model
    criterion = DetectionCriterion(len(data.class_names), class_weights=class_weights(cfg, data.class_names))
    st = TrainState(model, net, ema, opt, params, criterion, loader, device, rank, time.time(),
                    max(1, cfg.epochs * len(loader)))
    for epoch in range(start_epoch, cfg.epochs):
        train_set.set_epoch(epoch)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        record = train_one_epoch(cfg, st, epoch)
        if rank == 0:
            record.update(validate(cfg, ema.module, data, device))
            history.append(record)
            best = _save_epoch(cfg, st, run_dir, epoch, history, best)
            print(json.dumps(record))
        if cfg.time_limit_min and (time.time() - st.t_start) / 60 >= cfg.time_limit_min:
            print(f"time limit of {cfg.time_limit_min} min reached after epoch {epoch + 1}")
            break
    if world > 1:
        torch.distributed.destroy_process_group()
    return run_dir


def class_weights(cfg: TrainConfig, class_names: list[str]) -> list[float] | None:
    """The criterion's per-class weights from ``cfg.class_weights`` (by name; None when none is set)."""
    if not cfg.class_weights:
        return None
    unknown = sorted(set(cfg.class_weights) - set(class_names))
    expect(not unknown, "train --class-weight", f"classes of the training data {list(class_names)}",
           f"unknown {unknown}")
    return [float(cfg.class_weights.get(name, 1.0)) for name in class_names]


def _load_init(model: ShelfDetector, init: dict, where: str) -> None:
    """Load ``--init`` weights into ``model``. When the class lists differ (e.g. a one-class product model grown
    to product + gap), the class head's channels are matched by class name: a class of the checkpoint keeps its
    weights, a new class keeps the fresh initialisation (prior-probability bias); every other tensor must match."""
    state = float_state_dict(init["model"])
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


def export_shipped(best: str | Path, out: str | Path, classes: list[str] | None = None, **extra) -> Path:
    """Turn a run's ``best.pt`` into a shipped fp16 checkpoint (no optimiser state).

    ``classes``: ship only these of the run's classes (:func:`~shelfscan.models.class_subset.keep_classes`); the
    classes it was trained with are recorded as ``trained_classes``.
    """
    ckpt = load_checkpoint(best)
    model = ShelfDetector(DetectorConfig.from_dict(ckpt["config"]), pretrained_backbone=False)
    model.load_state_dict(float_state_dict(ckpt["model"]))
    if classes is not None:
        extra = {**extra, "trained_classes": list(model.config.class_names)}
        model = keep_classes(model, classes)
    hist = ckpt.get("history", [])
    return save_checkpoint(out, model, half=True, history=hist, train_config=ckpt.get("train_config", {}), **extra)


__all__ = ["TrainConfig", "train", "export_shipped", "build_datasets", "build_loader", "build_model",
           "build_optimizer", "train_one_epoch", "validate"]
