"""What a batch counts with: the model and the counting settings, and the identity of a photo's result.

A result is "the same" when the photo's content (sha256), the model (its name and the sha256 of its weights
file, so retrained weights count again) and the settings are the same: :func:`record_key`.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from shelfscan.counting.config import CountConfig
from shelfscan.errors import expect
from shelfscan.inference.config import InferenceConfig

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class CountSettings:
    """Everything that changes a photo's count, as given to :func:`shelfscan.count`; the field names are the
    keys of every record's ``settings`` (and of :meth:`key`), so they stay as they are.

    Attributes:
        model: shipped model name or path to a ``.onnx``/``.pt`` file (None: the shipped shelf model).
        imgsz: working size or ``"auto"`` (None: the model's default). iou, max_det, merger, hard_score_rate,
            tta: the detector's options (defaults: :class:`~shelfscan.inference.config.InferenceConfig`).
        conf: the score threshold of counting (``CountConfig.count_conf``). method, confirm_below: the
            grouping's (defaults: :class:`~shelfscan.counting.config.CountConfig`).
    """

    model: str | None = None
    imgsz: int | str | None = InferenceConfig.imgsz
    conf: float = CountConfig.count_conf
    iou: float = InferenceConfig.iou
    max_det: int = InferenceConfig.max_det
    merger: str = InferenceConfig.merger
    hard_score_rate: float | None = InferenceConfig.hard_score_rate
    tta: bool = InferenceConfig.tta
    method: str = CountConfig.method
    confirm_below: float | None = CountConfig.confirm_below

    def inference_config(self, threads: int | None = None) -> InferenceConfig:
        """The detector's settings: these fields, counting's ``conf``, and ``threads`` runtime threads."""
        return InferenceConfig(imgsz=self.imgsz, conf=self.conf, iou=self.iou, max_det=self.max_det,
                               merger=self.merger, hard_score_rate=self.hard_score_rate, tta=self.tta, threads=threads)

    def __post_init__(self) -> None:
        expect(0.0 <= self.conf <= 1.0, "conf", "a score in [0, 1]", self.conf)
        expect(self.confirm_below is None or 0.0 <= self.confirm_below <= 1.0, "confirm_below",
               "None or a score in [0, 1]", self.confirm_below)

    def as_dict(self) -> dict:
        """The settings as written into every record (the model is recorded on its own, see :func:`model_id`)."""
        out = asdict(self)
        out.pop("model")
        return out

    def key(self) -> str:
        """Canonical JSON of :meth:`as_dict` (sorted keys): equal settings give equal keys."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _weights_digest(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)[:12]


def model_id(model: str | None) -> str:
    """``"<name>@<first 12 hex of the weights' sha256>"``, e.g. ``"shelf@3fa2c1d09b7e"``.

    Shipped names hash the ONNX file that runs on a CPU (``precision="auto"``: the int8 one where it ships; a
    fused model's networks: the sha256 of their digests, in pass order); other paths hash the file given.
    """
    from shelfscan.models.shipped import DEFAULT_MODEL, resolve_model_path, shipped_model

    entry = shipped_model(model)
    if entry is not None:
        name = model or DEFAULT_MODEL
        if entry.passes:
            parts = ",".join(_file_digest(p) for p in entry.files("auto"))
            return f"{name}@{hashlib.sha256(parts.encode()).hexdigest()[:12]}"
        onnx_file = entry.onnx_file("auto")
        path = onnx_file if onnx_file.is_file() else entry.checkpoint_path
    else:
        path = resolve_model_path(model)
        name = Path(model).name
    return f"{name}@{_file_digest(path)}"


def count_models_id(model: str | None) -> str:
    """What a batch records as its ``model``: :func:`model_id` of the detector joined with the digest of counting's
    crop network (``counting.config.COUNT_NETWORK``, its int8 file, which a batch runs on a CPU), e.g.
    ``"shelf@3fa2c1d09b7e+crops@a81f0c22d4e5"``: a new crop network counts every photo again, and a batch never
    mixes type embeddings of two networks."""
    from shelfscan.counting.config import COUNT_NETWORK

    return f"{model_id(model)}+crops@{_file_digest(COUNT_NETWORK.file('int8'))}"


def _file_digest(path: Path) -> str:
    stat = os.stat(path)
    return _weights_digest(str(path), stat.st_size, stat.st_mtime_ns)


def record_key(image: str, sha256: str, model: str, settings_key: str) -> tuple[str, str, str, str]:
    """Identity of one result: the same photo path with the same bytes, model and settings is done once.

    The path is part of it so two copies of one photo at two paths are both recorded (every input path gets
    exactly one record)."""
    return (image, sha256, model, settings_key)
