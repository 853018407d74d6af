"""Counting one photo of a batch: the code every engine runs (a process of the local pool, or a Ray actor).

A :class:`PhotoCounter` loads the ONNX models once with a fixed number of ONNX Runtime threads, then turns a
path into a :class:`PhotoResult`: the record of ``results.jsonl`` and each type's mean crop embedding (for the
database and ``shelfscan diff``). Any failure of one photo (unreadable file, not an image, an error while
counting) becomes a record with ``status: "error"`` and the reason; the batch goes on.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from shelfscan.batch.records import record_line
from shelfscan.batch.settings import CountSettings, file_sha256

EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 36867
EXIF_FORMAT = "%Y:%m:%d %H:%M:%S"


@dataclass
class PhotoResult:
    """One photo's result.

    Attributes:
        line: its ``results.jsonl`` line (see :mod:`shelfscan.batch.records`).
        embeddings: ``np.save`` bytes of a float16 (types, D) array: the unit mean crop embedding of each type,
            in the order of the record's groups (b"" when the photo failed or has no product).
    """

    line: str
    embeddings: bytes


def taken_at(path: str) -> tuple[str, str]:
    """(ISO time the photo was taken, where it came from): EXIF DateTimeOriginal (camera's local time), else the
    file's modification time (this machine's local time)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            value = im.getexif().get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
        if value:
            return datetime.strptime(str(value).strip("\x00 "), EXIF_FORMAT).isoformat(), "exif"
    except Exception:  # noqa: BLE001 - a broken EXIF block falls back to the file time, it is not an error
        pass
    return datetime.fromtimestamp(os.stat(path).st_mtime).replace(microsecond=0).isoformat(), "mtime"


def type_embeddings(result) -> np.ndarray:
    """float16 (types, D): unit mean embedding of each group's boxes, in ``result.groups`` order."""
    emb = result.detections.data["embedding"].astype(np.float64)
    rows = [emb[g.indices].mean(0) for g in result.groups]
    if not rows:
        return np.zeros((0, emb.shape[1] if emb.ndim == 2 else 0), np.float16)
    means = np.stack(rows)
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return means.astype(np.float16)


def pack_array(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def unpack_array(data: bytes) -> np.ndarray:
    if not data:
        return np.zeros((0, 0), np.float16)
    return np.load(io.BytesIO(data), allow_pickle=False)


class PhotoCounter:
    """Counts photos with one set of models (built once; ``threads`` ONNX Runtime threads each)."""

    def __init__(self, settings: CountSettings, model: str, threads: int) -> None:
        from shelfscan.counting.shelf_count import count_embedder
        from shelfscan.inference import Detector

        s = settings
        self.settings, self.model = settings, model
        self.detector = Detector(s.model, config=s.inference_config(threads))
        self.embedder = count_embedder(threads=threads, precision=self.detector.config.precision)  # as count

    def __call__(self, path: str) -> PhotoResult:
        record = {"image": path, "sha256": None, "model": self.model, "settings": self.settings.as_dict(),
                  "status": "ok", "error": None}
        try:
            record["sha256"] = file_sha256(path)
            record.update(self._count(path, record))
        except Exception as exc:  # noqa: BLE001 - one bad photo is recorded, the batch goes on
            record.update(status="error", error=f"{type(exc).__name__}: {exc}")
            return PhotoResult(record_line(record), b"")
        return PhotoResult(record_line(record), record.pop("_embeddings"))

    def _count(self, path: str, record: dict) -> dict:
        from shelfscan.counting import count
        from shelfscan.data.images import read_image

        image = read_image(path)
        result = count(image, detector=self.detector, embedder=self.embedder, method=self.settings.method,
                       confirm_below=self.settings.confirm_below, name=path)
        result.pixels = None
        data = result.to_json()
        return {"taken_at": taken_at(path)[0], "total": data["total"], "n_types": result.num_types,
                "silhouette": data["silhouette"], "groups": data["groups"], "gaps": data.get("gaps"),
                "_embeddings": pack_array(type_embeddings(result))}
