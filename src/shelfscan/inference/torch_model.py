"""Run a PyTorch :class:`~shelfscan.models.detector.ShelfDetector` behind the numpy interface of
:class:`~shelfscan.inference.onnx_model.OnnxDetectorModel` (needs ``pip install 'shelfscan[train]'``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shelfscan.errors import InputError

TRAIN_EXTRA = "pip install 'shelfscan[train]'"


def import_torch(what: str):
    """``torch``, or an :class:`InputError` naming the extra that brings it."""
    try:
        import torch
    except ImportError as exc:
        raise InputError(f"{what}: expected PyTorch, got it missing (install it with {TRAIN_EXTRA})") from exc
    return torch


class TorchDetectorModel:
    """A ShelfDetector on a torch device, called with numpy batches.

    Args:
        model: a checkpoint path or shipped name (loaded with :func:`~shelfscan.models.checkpoint.load_detector`),
            or a ShelfDetector.
        device: torch device. threads: torch intra-op threads (None leaves torch's setting).

    Attributes:
        config: the detector's :class:`~shelfscan.models.config.DetectorConfig`. net: the module (eval mode).
        runtime: ``"pytorch"``.
    """

    runtime = "pytorch"

    def __init__(self, model: Any, *, device: str = "cpu", threads: int | None = None) -> None:
        torch = import_torch(f"model {model if isinstance(model, (str, Path)) else type(model).__name__}")
        if threads is not None:
            torch.set_num_threads(threads)
        if model is None or isinstance(model, (str, Path)):
            from shelfscan.models.checkpoint import load_detector

            model = load_detector(model, device)
        self.device = torch.device(device)
        self.net = model.to(self.device).eval()
        self.config = model.config

    def run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """images float32 (B, 3, H, W) RGB 0..255 -> ``boxes`` (B, A, 4), ``cls_scores`` (B, A, C),
        ``iou_scores`` (B, A) float32 numpy (sigmoids of the network's logits)."""
        import torch

        with torch.inference_mode():
            out = self.net(torch.from_numpy(np.ascontiguousarray(images, np.float32)).to(self.device))
            return {"boxes": out["boxes"].float().cpu().numpy(),
                    "cls_scores": out["cls_logits"].float().sigmoid().cpu().numpy(),
                    "iou_scores": out["iou_logits"].float().sigmoid().cpu().numpy()}


def is_torch_module(obj: Any) -> bool:
    """True for a torch ``nn.Module`` (checked without importing torch)."""
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def wrap_model(model: Any, *, device: str, threads: int | None) -> Any:
    """A runtime object (``.config``, ``.run``) for what a caller handed :class:`Detector`: runtime objects pass,
    torch modules are wrapped; anything else raises :class:`InputError`."""
    if hasattr(model, "run") and hasattr(model, "config"):
        return model
    if is_torch_module(model):
        return TorchDetectorModel(model, device=device, threads=threads)
    raise InputError(f"Detector model: expected a shipped name, a .pt/.onnx path, a ShelfDetector or an "
                     f"OnnxDetectorModel, got {type(model).__name__}")
