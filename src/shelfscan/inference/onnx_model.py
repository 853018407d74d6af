"""Run an exported detector with ONNX Runtime behind the interface :class:`shelfscan.inference.Detector` uses.

``OnnxDetectorModel(path)(images)`` returns the dict ``ShelfDetector.forward`` returns (``boxes``, ``cls_logits``,
``iou_logits``), so the predict path after the network (threshold → top-k → NMS or EM-Merger, tiling) is the
same code for PyTorch and ONNX. The logits are ``logit(cls_scores)`` and ``logit(iou_scores)`` of the graph
(float32 round trip; saturated sigmoids become ±inf, whose sigmoid is again exactly 1 or 0), which keeps
``hard_score_rate`` adjustable and the EM-Merger usable with an exported model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from shelfscan.errors import InputError
from shelfscan.export.onnx import INPUT_NAME, OUTPUT_NAMES
from shelfscan.models.checkpoint import resolve_model_path
from shelfscan.models.detector import DetectorConfig

_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def onnx_metadata(session) -> dict[str, str]:
    """``metadata_props`` of the model an ``onnxruntime.InferenceSession`` runs."""
    return dict(session.get_modelmeta().custom_metadata_map)


class OnnxDetectorModel:
    """An exported detector (``shelfscan export``) run by ONNX Runtime, callable like :class:`ShelfDetector`.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads of ONNX Runtime (None: its default, one per core).
        device: ``"cpu"`` or ``"cuda"``/``"cuda:N"`` (needs onnxruntime-gpu).

    Attributes:
        config: :class:`DetectorConfig` from the file's metadata (class_names, imgsz, hard_score_rate, ...).
        session: the ``onnxruntime.InferenceSession`` (thread-safe ``run``).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None, device: str = "cpu") -> None:
        import onnxruntime as ort

        self.path = resolve_model_path(path)
        kind, _, index = str(device).partition(":")
        if kind not in _PROVIDERS:
            raise InputError(f"device for an ONNX model: expected 'cpu' or 'cuda[:N]', got {device!r}")
        if _PROVIDERS[kind] not in ort.get_available_providers():
            raise InputError(f"device {device!r}: expected onnxruntime with {_PROVIDERS[kind]}, got only "
                             f"{ort.get_available_providers()} (install onnxruntime-gpu, or use --device cpu)")
        provider = (_PROVIDERS[kind], {"device_id": int(index or 0)}) if kind == "cuda" else _PROVIDERS[kind]
        opts = ort.SessionOptions()
        if threads is not None:
            if threads < 1:
                raise InputError(f"threads: expected an integer ≥ 1, got {threads!r}")
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=[provider])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise InputError(f"{self.path}: expected an ONNX model written by `shelfscan export`, got a file "
                             f"ONNX Runtime cannot load ({exc})") from exc
        self.metadata = onnx_metadata(self.session)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != [INPUT_NAME] or not set(OUTPUT_NAMES) <= set(outputs) or "config" not in self.metadata:
            raise InputError(f"{self.path}: expected a shelfscan detector (input {INPUT_NAME!r}, outputs "
                             f"{list(OUTPUT_NAMES)}, metadata 'config'), got inputs {inputs}, outputs {outputs}, "
                             f"metadata {sorted(self.metadata)}")
        self.config = DetectorConfig.from_dict(json.loads(self.metadata["config"]))
        self.config.imgsz = int(self.metadata.get("imgsz", self.config.imgsz))

    def eval(self) -> "OnnxDetectorModel":
        """No-op, for code written for ``nn.Module`` (ONNX graphs are always in inference mode)."""
        return self

    def run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """images float32 (B, 3, H, W) RGB 0..255, H and W multiples of 32 -> the graph's outputs by name:
        ``boxes`` (B, A, 4), ``scores`` (B, A, C), ``cls_scores`` (B, A, C), ``iou_scores`` (B, A)."""
        x = np.ascontiguousarray(images, dtype=np.float32)
        return dict(zip(OUTPUT_NAMES, self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: x})))

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images (B, 3, H, W) uint8 or float RGB 0..255 -> ``boxes`` (B, A, 4), ``cls_logits`` (B, A, C),
        ``iou_logits`` (B, A) as CPU float32 tensors (the keys the predict path reads)."""
        out = self.run(images.detach().to("cpu", torch.float32).numpy())
        return {
            "boxes": torch.from_numpy(out["boxes"]),
            "cls_logits": torch.logit(torch.from_numpy(out["cls_scores"])),
            "iou_logits": torch.logit(torch.from_numpy(out["iou_scores"])),
        }
