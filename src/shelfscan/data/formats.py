"""Open any supported dataset by its path: which format it is, which splits it holds, and its reader.

Formats (:func:`detect_format` tells them apart by layout):
    sku   ``images/`` + ``annotations/annotations_<split>.csv`` (SKU-110K), or one such CSV file.
    coco  ``annotations/instances_<split>.json`` (or any ``*.json``) + ``images/``, or one JSON file.
    yolo  ``images/`` + ``labels/`` (+ ``data.yaml``), flat or ``images/<split>/``, ``labels/<split>/``.
    voc   ``Annotations/*.xml`` + ``JPEGImages/``, or XML files next to the images.

This module imports every reader (YAML and XML parsers included), so it is imported only by what opens datasets
(``val``, ``convert``, ``train``); ``shelfscan detect`` never loads it (``shelfscan.data`` imports it on first use).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from shelfscan.data import coco, sku, voc, yolo
from shelfscan.data.records import Dataset
from shelfscan.errors import InputError

READERS: dict[str, Callable[..., Dataset]] = {  # format -> reader(path, split=, check_images=, skip_corrupt=)
    "sku": sku.read_sku110k,
    "coco": coco.read_coco,
    "yolo": yolo.read_yolo,
    "voc": voc.read_voc,
}
SPLITS: dict[str, Callable[[str | Path], list[str]]] = {  # format -> the split names a dataset of it holds
    "sku": sku.available_splits,
    "coco": coco.available_splits,
    "yolo": yolo.available_splits,
    "voc": voc.available_splits,
}


def _has(folder: Path, pattern: str) -> bool:
    return next(iter(folder.glob(pattern)), None) is not None


def detect_format(path: str | Path) -> str:
    """The format of the dataset at ``path``: ``"sku"``, ``"coco"``, ``"yolo"`` or ``"voc"``.

    Raises:
        InputError: nothing at ``path``, or a layout none of the readers knows (the message lists them).
    """
    path = Path(path)
    if path.is_file():
        by_suffix = {".csv": "sku", ".json": "coco", ".yaml": "yolo", ".yml": "yolo"}
        if path.suffix.lower() in by_suffix:
            return by_suffix[path.suffix.lower()]
        raise InputError(f"{path}: expected a dataset folder or a .csv (SKU-110K), .json (COCO) or .yaml (YOLO) "
                         f"file, got suffix {path.suffix!r}")
    if not path.is_dir():
        raise InputError(f"{path}: expected a dataset file or folder, got nothing at that path")
    ann = path / "annotations"
    if _has(ann, "annotations_*.csv") or _has(path, "annotations_*.csv"):
        return "sku"
    if _has(ann, "*.json") or _has(path, "*.json"):
        return "coco"
    if (path / "labels").is_dir() or _has(path, "*/labels") or _has(path, "data.yaml"):
        return "yolo"
    if (path / "Annotations").is_dir() or _has(path, "*.xml"):
        return "voc"
    if _has(ann, "*.csv") or _has(path, "*.csv"):
        return "sku"
    raise InputError(f"{path}: expected a dataset layout: SKU-110K (annotations/annotations_<split>.csv + "
                     f"images/), COCO (annotations/*.json + images/), YOLO (images/ + labels/ [+ data.yaml]) or "
                     f"VOC (Annotations/*.xml + JPEGImages/); got none of these")


def _format(path: str | Path, format: str | None) -> str:
    """``format`` (checked) or the one :func:`detect_format` finds at ``path``."""
    fmt = format or detect_format(path)
    if fmt not in READERS:
        raise InputError(f"dataset format: expected one of {sorted(READERS)}, got {fmt!r}")
    return fmt


def list_splits(path: str | Path, format: str | None = None) -> list[str]:
    """Split names the dataset at ``path`` holds ([] for a dataset without splits, or a single file)."""
    return SPLITS[_format(path, format)](path)


def load_dataset(path: str | Path, split: str | None = None, *, format: str | None = None,
                 check_images: bool = True, skip_corrupt: bool = True) -> Dataset:
    """Read the dataset at ``path`` in its format (``format`` or :func:`detect_format`).

    When ``path`` holds several splits, ``split`` is required (the error lists them), unless there is only one.
    """
    reader = READERS[_format(path, format)]
    return reader(path, split=split, check_images=check_images, skip_corrupt=skip_corrupt)
