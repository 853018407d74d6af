"""Saving and loading detector checkpoints (the table of shipped models lives in :mod:`shelfscan.models.shipped`)."""
from __future__ import annotations

from pathlib import Path

import torch

from shelfscan.errors import InputError
from shelfscan.models.config import DetectorConfig
from shelfscan.models.detector import ShelfDetector
from shelfscan.models.shipped import (DEFAULT_MODEL, SHIPPED_MODELS, WEIGHTS_DIR,  # noqa: F401  (re-exported)
                                     resolve_model_path)


def save_checkpoint(path: str | Path, model: ShelfDetector, *, half: bool = False, **extra) -> Path:
    """Write ``{"config", "model", **extra}``; ``half`` stores floating tensors as float16 (shipping)."""
    state = model.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config.to_dict(), "model": state, **extra}, path)
    return path


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad files
        raise InputError(f"{path}: expected a shelfscan checkpoint (.pt), got an unreadable file ({exc})") from exc
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        got = sorted(ckpt)[:5] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise InputError(f"{path}: expected a shelfscan checkpoint with keys config and model, got {got}")
    return ckpt


def float_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every floating tensor as float32 (shipped checkpoints store fp16 weights)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def load_detector(model: str | Path | None = None, device: str | torch.device = "cpu") -> ShelfDetector:
    """Build the detector stored at ``model`` (shipped name, path, or None for the default), in eval mode, float32."""
    ckpt = load_checkpoint(resolve_model_path(model))
    net = ShelfDetector(DetectorConfig.from_dict(ckpt["config"]), pretrained_backbone=False)
    net.load_state_dict(float_state_dict(ckpt["model"]))
    return net.to(device).eval()
