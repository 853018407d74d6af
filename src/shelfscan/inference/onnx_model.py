"""Run an exported detector with ONNX Runtime: no torch needed.

``OnnxDetectorModel(path).run(images)`` returns the graph's outputs as numpy arrays (``boxes``, ``scores``,
``cls_scores``, ``iou_scores``); :class:`shelfscan.inference.Detector` post-processes them with the same numpy
code it uses for a PyTorch model (:mod:`shelfscan.inference.predict`).

The graph (written by :func:`shelfscan.export.export_onnx`):
    input  ``images``      float32 (B, 3, H, W) RGB 0..255, H and W multiples of ``STRIDE``; B, H, W dynamic.
    output ``boxes``       float32 (B, A, 4) xyxy in input pixels, A = Σ_levels (H/s)·(W/s), s ∈ {8, 16, 32}
           ``scores``      float32 (B, A, C) blended score cls^r · iou^(1−r), r = the model's hard_score_rate
           ``cls_scores``  float32 (B, A, C) sigmoid of the class logits (lets callers re-blend with another r)
           ``iou_scores``  float32 (B, A)    sigmoid of the IoU-quality logit (predicted IoU with the true box)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shelfscan.errors import InputError
from shelfscan.models.config import DetectorConfig
from shelfscan.models.shipped import resolve_model_path

INPUT_NAME = "images"
OUTPUT_NAMES: tuple[str, ...] = ("boxes", "scores", "cls_scores", "iou_scores")
STRIDE = 32  # H and W of the input must be multiples of this
_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def onnx_metadata(session) -> dict[str, str]:
    """``metadata_props`` of the model an ``onnxruntime.InferenceSession`` runs."""
    return dict(session.get_modelmeta().custom_metadata_map)


def config_from_metadata(metadata: dict[str, str]) -> DetectorConfig:
    """The :class:`DetectorConfig` an exported file describes: its ``config`` JSON, the ``imgsz`` it was exported
    at (when the export chose another), its ``class_names`` when the config has none, and ``DetectorConfig``'s
    defaults for anything the file does not say (one rule for the runtime and the live page)."""
    fields = json.loads(metadata["config"]) if "config" in metadata else {}
    if "imgsz" in metadata:
        fields["imgsz"] = int(metadata["imgsz"])
    if "class_names" not in fields and "class_names" in metadata:
        fields["class_names"] = json.loads(metadata["class_names"])
    return DetectorConfig.from_dict(fields)


def import_onnxruntime():
    """``onnxruntime``, or an :class:`InputError` saying how to install it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise InputError("ONNX Runtime: expected the onnxruntime package (a core dependency: "
                         "pip install shelfscan), got it missing") from exc
    return onnxruntime


def session_options(threads: int | None = None, spin: bool = True):
    """``onnxruntime.SessionOptions`` with ``threads`` intra-op threads (None: ONNX Runtime's default).

    ``spin=False``: the threads sleep between runs instead of spinning, for sessions that take turns on the same
    cores (a fused model's networks): a spinning idle session takes the cores from the one running (a 6-pass
    apparel photo: 0.18 s spinning, 0.13 s not, 2 threads)."""
    ort = import_onnxruntime()
    opts = ort.SessionOptions()
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise InputError(f"threads: expected an integer ≥ 1, got {threads!r}")
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    return opts


def cpu_session(model: str | Path | bytes, threads: int | None = None):
    """An ``onnxruntime.InferenceSession`` on the CPU for a file or serialized model."""
    ort = import_onnxruntime()
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, session_options(threads), providers=["CPUExecutionProvider"])


class OnnxDetectorModel:
    """An exported detector (``shelfscan export``) run by ONNX Runtime.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads of ONNX Runtime (None: its default, one per core).
        device: ``"cpu"`` or ``"cuda"``/``"cuda:N"`` (needs onnxruntime-gpu).
        spin: whether idle intra-op threads spin (:func:`session_options`).

    Attributes:
        config: :class:`DetectorConfig` from the file's metadata (class_names, imgsz, hard_score_rate, ...).
        session: the ``onnxruntime.InferenceSession`` (thread-safe ``run``).
        runtime: ``"onnxruntime"``.
    """

    runtime = "onnxruntime"

    def __init__(self, path: str | Path, *, threads: int | None = None, device: str = "cpu",
                 spin: bool = True) -> None:
        ort = import_onnxruntime()
        self.path = resolve_model_path(path)
        kind, _, index = str(device).partition(":")
        if kind not in _PROVIDERS:
            raise InputError(f"device for an ONNX model: expected 'cpu' or 'cuda[:N]', got {device!r}")
        if _PROVIDERS[kind] not in ort.get_available_providers():
            raise InputError(f"device {device!r}: expected onnxruntime with {_PROVIDERS[kind]}, got only "
                             f"{ort.get_available_providers()} (install onnxruntime-gpu, or use --device cpu)")
        opts = session_options(threads, spin)
        provider = (_PROVIDERS[kind], {"device_id": int(index or 0)}) if kind == "cuda" else _PROVIDERS[kind]
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
        self.config = config_from_metadata(self.metadata)

    def run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """images float32 (B, 3, H, W) RGB 0..255, H and W multiples of 32 -> ``boxes`` (B, A, 4), ``cls_scores``
        (B, A, C), ``iou_scores`` (B, A) (and ``scores``, the graph's own blend) as float32 numpy arrays."""
        x = np.ascontiguousarray(images, dtype=np.float32)
        return dict(zip(OUTPUT_NAMES, self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: x})))
