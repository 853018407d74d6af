"""The predictions CSV that ``shelfscan detect`` writes and ``shelfscan eval`` reads, and the COCO JSON and YOLO
labels that ``detect --format coco|yolo`` writes instead.

Header ``image_name,x1,y1,x2,y2,score,class``; the class column is left out for one-class models. One row per box,
absolute pixel corners; ``image_name`` is relative to the folder that was given to ``detect``. An image without any
box is one row with only its name (``name,,,,,`` ...), so "looked at, found nothing" survives a round trip.

The file is machine-written, so :func:`read_predictions_csv` is strict: the first bad row raises
:class:`~shelfscan.errors.FormatError` (``path:line: expected ..., got ...``) instead of being skipped.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from shelfscan.box_ops import xyxy_to_cxcywh
from shelfscan.data.load import format_number, natural_sorted, split_csv_line, text_lines
from shelfscan.detections import Detections
from shelfscan.errors import FormatError, InputError

HEADER = ("image_name", "x1", "y1", "x2", "y2", "score", "class")
PREDICTION_FORMATS = ("csv", "coco", "yolo")  # what :func:`write_predictions` (``shelfscan detect --format``) writes
COORD_DECIMALS = 3
SCORE_DECIMALS = 6


def write_predictions_csv(path: str | Path, predictions: Mapping[str, Detections], *,
                          with_class: bool | None = None) -> Path:
    """Write ``predictions`` (image name -> its detections) to the CSV at ``path``; returns ``path``.

    Args:
        with_class: write the class column; None writes it when any Detections has more than one class name.
            Coordinates keep 3 decimals, scores 6.

    Raises:
        InputError: ``with_class=False`` while some Detections has several class names (the column is needed).
    """
    multi = any(len(d.class_names) > 1 for d in predictions.values())
    if with_class is None:
        with_class = multi
    elif not with_class and multi:
        raise InputError("write_predictions_csv with_class: expected True (or None) for detections with several "
                         "class names, got False")
    header = list(HEADER if with_class else HEADER[:-1])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for name, dets in predictions.items():
            if len(dets) == 0:
                writer.writerow([name] + [""] * (len(header) - 1))
                continue
            labels = dets.labels
            for k, ((x1, y1, x2, y2), score) in enumerate(zip(dets.xyxy.tolist(), dets.scores.tolist())):
                row = [name] + [format_number(v, COORD_DECIMALS) for v in (x1, y1, x2, y2)]
                row.append(format_number(score, SCORE_DECIMALS))
                if with_class:
                    row.append(labels[k])
                writer.writerow(row)
    return path


def write_predictions_coco(path: str | Path, predictions: Mapping[str, Detections],
                           sizes: Mapping[str, tuple[int, int]], class_names: Sequence[str]) -> Path:
    """Write ``predictions`` as one COCO JSON at ``path``: ``images`` (ids 1.. in order, with each image's
    ``sizes[name]`` = (width, height)), ``annotations`` (COCO results with ``score``, plus ``id``, ``area`` = w * h
    and ``iscrowd`` 0) and ``categories`` (ids 1.. in ``class_names`` order); returns ``path``."""
    images, anns = [], []
    for image_id, (name, det) in enumerate(predictions.items(), 1):
        width, height = sizes[name]
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for r in det.to_coco_results(image_id):
            anns.append({**r, "id": len(anns) + 1, "area": r["bbox"][2] * r["bbox"][3], "iscrowd": 0})
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(class_names)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def write_predictions_yolo(folder: str | Path, predictions: Mapping[str, Detections],
                           sizes: Mapping[str, tuple[int, int]], class_names: Sequence[str]) -> Path:
    """Write ``predictions`` as YOLO labels with a score column: ``folder/labels/<name>.txt``, one line
    ``class cx cy w h score`` per box (normalised by ``sizes[name]`` = (width, height); 6 decimals, the score 5),
    an empty file for an image without boxes, and ``folder/data.yaml`` with the class names; returns ``folder``."""
    folder = Path(folder)
    labels = folder / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    for name, det in predictions.items():
        width, height = sizes[name]
        cxcywh = xyxy_to_cxcywh(det.xyxy.astype(np.float64)) / np.array([width, height, width, height], np.float64)
        lines = [f"{c} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f} {s:.5f}"
                 for (cx, cy, w, h), s, c in zip(cxcywh.tolist(), det.scores.tolist(), det.class_id.tolist())]
        target = labels / Path(name).with_suffix(".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + ("\n" if lines else ""))
    (folder / "data.yaml").write_text("names:\n" + "".join(f"  {i}: {n}\n" for i, n in enumerate(class_names)))
    return folder


def write_predictions(out: str | Path, fmt: str, predictions: Mapping[str, Detections],
                      sizes: Mapping[str, tuple[int, int]], class_names: Sequence[str]) -> Path:
    """Write ``predictions`` in ``fmt``: ``"csv"`` (:func:`write_predictions_csv`, file ``out``), ``"coco"``
    (:func:`write_predictions_coco`, file ``out``) or ``"yolo"`` (:func:`write_predictions_yolo`, folder ``out``).
    ``sizes``: image name -> (width, height), used by coco and yolo."""
    if fmt not in PREDICTION_FORMATS:
        raise InputError(f"write_predictions fmt: expected one of {list(PREDICTION_FORMATS)}, got {fmt!r}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return write_predictions_csv(out, predictions)
    if fmt == "coco":
        return write_predictions_coco(out, predictions, sizes, class_names)
    return write_predictions_yolo(out, predictions, sizes, class_names)


def _header(path: Path, row: list[str] | None) -> list[str]:
    got = [c.strip() for c in row] if row is not None else None
    if got not in (list(HEADER), list(HEADER[:-1])):
        raise FormatError(path, 1, f"the header {','.join(HEADER)} (class optional)",
                          "an empty file" if got is None else repr(",".join(row)))
    return got


def _line_error(path: Path, line: int, problem: str) -> FormatError:
    """A reader's ``"expected ..., got ..."`` problem text as the FormatError of that line."""
    expected, _, got = problem.removeprefix("expected ").partition(", got ")
    return FormatError(path, line, expected, got)


def read_predictions_csv(path: str | Path, class_names: Sequence[str] | None = None) -> dict[str, Detections]:
    """Read a predictions CSV into ``{image_name: Detections}`` in the order images first appear.

    Args:
        class_names: the class list the detections index into; every class in the file must be in it.
            Default: the file's classes in natural order, or ``["object"]`` without a class column.

    Raises:
        FormatError: a missing or wrong header, or the first row that is malformed (wrong field count, a value
            that is not a finite number, x2 < x1 or y2 < y1, an empty or unknown class).
        InputError: no file at ``path``, or a file without a class column read with several ``class_names``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: expected a predictions CSV file, got no such file")
    rows: dict[str, list[tuple[float, float, float, float, float, str]]] = {}
    lines = text_lines(path)  # UTF-8, one line at a time (a byte-order mark at the start is dropped)
    header = _read_header(path, lines, class_names)
    has_class = len(header) == len(HEADER)
    allowed = None if class_names is None else set(class_names)
    for line, text, problem in lines:
        row, problem = split_csv_line(text) if problem is None else ([], problem)
        if problem is not None:
            raise _line_error(path, line, problem)
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            raise FormatError(path, line, f"{len(header)} comma-separated fields {','.join(header)}",
                              f"{len(row)} fields")
        name = row[0].strip()
        if not name:
            raise FormatError(path, line, "an image_name", "''")
        boxes = rows.setdefault(name, [])
        if not any(v.strip() for v in row[1:]):
            continue  # an image without boxes
        boxes.append(_parse_box(path, line, header, row, allowed, class_names))
    return _to_detections(rows, class_names, has_class)


def _read_header(path: Path, lines, class_names: Sequence[str] | None) -> list[str]:
    """The header of the file (its first line, taken from ``lines``); FormatError when it is not one,
    InputError for a file without a class column read with several ``class_names``."""
    first = next(lines, None)
    if first is not None and first[2] is not None:
        raise _line_error(path, 1, first[2])
    row, problem = split_csv_line(first[1]) if first is not None else (None, None)
    if problem is not None:
        raise _line_error(path, 1, problem)
    header = _header(path, row)
    if len(header) != len(HEADER) and class_names is not None and len(class_names) != 1:
        raise InputError(f"{path}: expected a class column to read with class_names {list(class_names)}, "
                         f"got header {','.join(header)}")
    return header


def _parse_box(path: Path, line: int, header: list[str], row: list[str], allowed: set | None,
               class_names: Sequence[str] | None) -> tuple[float, float, float, float, float, str]:
    """One row's ``(x1, y1, x2, y2, score, class name or "")``; FormatError (at ``line``) when malformed."""
    values = []
    for column, text in zip(header[1:6], row[1:6]):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise FormatError(path, line, f"a finite number for {column}", repr(text[:40]))
        values.append(value)
    x1, y1, x2, y2, score = values
    if x2 < x1 or y2 < y1:
        raise FormatError(path, line, "x1 <= x2 and y1 <= y2", f"x1={x1:g} y1={y1:g} x2={x2:g} y2={y2:g}")
    has_class = len(header) == len(HEADER)
    label = row[6].strip() if has_class else ""
    if has_class and (not label or (allowed is not None and label not in allowed)):
        expected = "a class name" if allowed is None else f"a class in {list(class_names)}"
        raise FormatError(path, line, expected, repr(label[:80]))
    return x1, y1, x2, y2, score, label


def _to_detections(rows: dict[str, list[tuple]], class_names: Sequence[str] | None,
                   has_class: bool) -> dict[str, Detections]:
    """``{image_name: Detections}`` of the parsed rows; classes as :func:`read_predictions_csv` says."""
    if class_names is not None:
        names = list(class_names)
    elif has_class:
        names = natural_sorted([b[5] for boxes in rows.values() for b in boxes]) or ["object"]
    else:
        names = ["object"]
    lookup = {c: i for i, c in enumerate(names)}
    out = {}
    for name, boxes in rows.items():
        xyxy = np.asarray([b[:4] for b in boxes], np.float32).reshape(-1, 4)
        scores = np.asarray([b[4] for b in boxes], np.float32)
        ids = np.asarray([lookup[b[5]] if has_class else 0 for b in boxes], np.int64)
        out[name] = Detections(xyxy, scores, ids, list(names))
    return out
