"""SKU-110K CSV annotations: ``images/`` + ``annotations/annotations_<split>.csv``.

Rows have no header: ``image_name,x1,y1,x2,y2,class,image_width,image_height`` in absolute pixels, one row per
box. The same format carries brand ids in the class column (grocery-shelves) and gap boxes (shelf-photos-640).
The full SKU-110K train CSV has 1.2 M rows; each line is decoded (UTF-8), split (csv quoting) and checked on its own,
so one bad line - not UTF-8, an unbalanced quote, a bad number - costs a problem message at its line, not the file.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from shelfscan.data.images import copy_image
from shelfscan.data.load import (bad_image_name, choose_split, finish_records, format_number, inside, make_boxes,
                                 natural_sorted, split_csv_line, text_lines)
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.errors import InputError

COLUMNS = ("image_name", "x1", "y1", "x2", "y2", "class", "image_width", "image_height")
_EXPECTED_FIELDS = f"{len(COLUMNS)} comma-separated fields {','.join(COLUMNS)}"
_PREFIX = "annotations_"
_MAX_SIDE = 2**31 - 1  # image_width / image_height beyond this are not a real image's


def available_splits(folder: str | Path) -> list[str]:
    """Splits with an ``annotations_<split>.csv`` in ``folder/annotations`` (or in ``folder``), sorted.

    A CSV file given as ``folder`` has its own split when named ``annotations_<split>.csv``, else none: [].
    """
    folder = Path(folder)
    if folder.is_file():
        return [folder.stem[len(_PREFIX):]] if folder.stem.startswith(_PREFIX) else []
    ann = folder / "annotations" if (folder / "annotations").is_dir() else folder
    return sorted(p.stem[len(_PREFIX):] for p in ann.glob(f"{_PREFIX}*.csv"))


def _resolve(path: Path, split: str | None) -> tuple[Path, Path]:
    """(csv file, image folder) for a dataset folder or a CSV file."""
    if path.is_file():
        choose_split(available_splits(path), split, path)  # a split must match the file's own name
        csv_path = path
    elif path.is_dir():
        ann = path / "annotations" if (path / "annotations").is_dir() else path
        chosen = choose_split(available_splits(path), split, path)
        if chosen is None:
            raise InputError(f"{path}: expected an SKU-110K folder with annotations/{_PREFIX}<split>.csv, "
                             f"got no such file")
        csv_path = ann / f"{_PREFIX}{chosen}.csv"
    else:
        raise InputError(f"{path}: expected an SKU-110K folder or CSV file, got nothing at that path")
    for images in (csv_path.parent.parent / "images", csv_path.parent / "images"):
        if images.is_dir():
            return csv_path, images
    return csv_path, csv_path.parent


def _bad_number(row: Sequence[str]) -> str:
    for column, text in zip(COLUMNS[1:5], row[1:5]):
        try:
            if not math.isfinite(float(text)):
                return f"expected a finite number for {column}, got {text!r}"
        except ValueError:
            return f"expected a number for {column}, got {text!r}"
    return "expected numbers for x1,y1,x2,y2"


def _parse_size(width_text: str, height_text: str) -> tuple[int, int, str | None]:
    """(width, height, None), or (0, 0, problem) when either is not a positive integer."""
    values = []
    for column, text in (("image_width", width_text), ("image_height", height_text)):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (1 <= value <= _MAX_SIDE and value == int(value)):  # NaN and inf fail the range
            return 0, 0, f"expected a positive integer for {column}, got {text!r}"
        values.append(int(value))
    return values[0], values[1], None


def read_sku110k(path: str | Path, split: str | None = None, *, check_images: bool = True,
                 skip_corrupt: bool = True, class_names: Sequence[str] | None = None) -> Dataset:
    """Read SKU-110K style annotations.

    Args:
        path: a dataset folder (``images/`` + ``annotations/annotations_<split>.csv``) or one CSV file, whose
            images are in ``../images`` relative to the CSV's folder, else in ``images/`` beside it, else beside it.
        split: which ``annotations_<split>.csv``; may be left out when the folder has only one.
        check_images: check that each image exists and decodes (see :func:`shelfscan.data.images.check_image`).
        skip_corrupt: leave out images that do not decode (they are listed in ``report.corrupt_images`` either way).
        class_names: the class list to use; rows with other classes become problems. Default: the distinct
            classes in natural order (``brand_2`` before ``brand_10``).

    Returns:
        A :class:`Dataset` with images in the order they first appear; bad rows are reported in
        ``dataset.report.problems`` as ``path:line: expected ..., got ...`` and the good rows still load. Each
        line is read on its own: a line that is not UTF-8, or has an unbalanced quote, is one problem at its own
        line number. Image names that are absolute or climb out of the image folder (``..``) are refused.
    """
    csv_path, image_dir = _resolve(Path(path), split)
    report = LoadReport(source=str(csv_path))
    order: dict[str, int] = {}
    sizes: list[tuple[int, int]] = []
    image_idx: list[int] = []
    coords: list[tuple[float, float, float, float]] = []
    labels: list[str] = []
    allowed = None if class_names is None else set(class_names)
    size_cache: dict[tuple[str, str], tuple[int, int, str | None]] = {}  # a few distinct sizes, 1.2 M rows
    n_columns = len(COLUMNS)
    for line, text, problem in text_lines(csv_path):  # (image_width, image_height: row[6], row[7])
        if problem is None:
            row, problem = split_csv_line(text)
        if problem is not None:
            report.problems.append(f"{csv_path}:{line}: {problem}")
            continue
        if len(row) != n_columns:
            if row and (len(row) > 1 or row[0].strip()):  # blank lines are skipped
                report.problems.append(f"{csv_path}:{line}: expected {_EXPECTED_FIELDS}, got {len(row)} fields")
            continue
        if line == 1 and [c.strip() for c in row] == list(COLUMNS):  # a header line some exports add
            continue
        name, label, xyxy, problem = _check_row(row, allowed, class_names)
        if problem is None:
            size = size_cache.get((row[6], row[7]))
            if size is None:
                size = size_cache[(row[6], row[7])] = _parse_size(row[6], row[7])
            width, height, problem = size
        if problem is None:
            k, problem = _image_index(order, sizes, name, width, height)
        if problem is not None:
            report.problems.append(f"{csv_path}:{line}: {problem}")
            continue
        image_idx.append(k)
        coords.append(xyxy)
        labels.append(label)
    names = list(class_names) if class_names is not None else natural_sorted(labels) or ["object"]
    records = _records(list(order), sizes, image_idx, coords, labels, names, image_dir, report)
    records = finish_records(records, report, check_images=check_images, skip_corrupt=skip_corrupt)
    return Dataset(image_dir, names, records, report)


def _image_index(order: dict[str, int], sizes: list[tuple[int, int]], name: str, width: int,
                 height: int) -> tuple[int, str | None]:
    """(index of image ``name``, added to ``order``/``sizes`` when new; a problem when its size differs)."""
    k = order.setdefault(name, len(order))
    if k == len(sizes):
        sizes.append((width, height))
    elif sizes[k] != (width, height):
        return k, f"expected the size {sizes[k][0]}x{sizes[k][1]} of earlier rows of {name}, got {width}x{height}"
    return k, None


def _check_row(row: Sequence[str], allowed: set | None, class_names: Sequence[str] | None):
    """One CSV row's (name, label, (x1, y1, x2, y2), problem): the problem (a str) when a field is wrong, else None."""
    name, sx1, sy1, sx2, sy2, label, sw, sh = row
    name, label = name.strip(), label.strip()
    try:
        x1, y1, x2, y2 = float(sx1), float(sy1), float(sx2), float(sy2)
        finite = math.isfinite(x1 + y1 + x2 + y2)
    except ValueError:
        finite = False
    if not finite:
        return name, label, None, _bad_number(row)
    problem = None
    if not name:
        problem = "expected an image_name, got ''"
    elif (bad := bad_image_name(name)) is not None:
        problem = bad
    elif not label:
        problem = "expected a class name, got ''"
    elif allowed is not None and label not in allowed:
        problem = f"expected a class in {list(class_names)}, got {label!r}"
    elif x2 < x1 or y2 < y1:
        problem = f"expected x1 <= x2 and y1 <= y2, got x1={sx1.strip()} y1={sy1.strip()} " \
                  f"x2={sx2.strip()} y2={sy2.strip()}"
    return name, label, (x1, y1, x2, y2), problem


def _records(order: list[str], sizes: list[tuple[int, int]], image_idx: list[int], coords: list, labels: list[str],
             names: list[str], image_dir: Path, report: LoadReport) -> list[ImageRecord]:
    """One record per image (in first-seen ``order``) with its rows' boxes (``coords`` (N, 4), ``labels`` (N,),
    ``image_idx`` (N,) the image of each row)."""
    lookup = {c: i for i, c in enumerate(names)}
    xyxy = np.asarray(coords, np.float64).reshape(-1, 4)
    class_id = np.fromiter((lookup[c] for c in labels), np.int64, len(labels))
    image_idx_arr = np.asarray(image_idx, np.int64)
    by_image = np.argsort(image_idx_arr, kind="stable")
    starts = np.searchsorted(image_idx_arr[by_image], np.arange(len(order) + 1))
    records = []
    for k, name in enumerate(order):
        rows = by_image[starts[k]:starts[k + 1]]
        width, height = sizes[k]
        boxes = make_boxes(xyxy[rows], class_id[rows], names, width, height, report)
        records.append(ImageRecord(name, image_dir / name, width, height, boxes))
    return records


def write_sku110k(dataset: Dataset, out_dir: str | Path, split: str = "train") -> Path:
    """Write ``out_dir/images/`` (hard links or copies, never re-encoded) and
    ``out_dir/annotations/annotations_<split>.csv``; returns the CSV path.

    Images without boxes cannot be written in this format (it has one row per box) and are left out of the CSV;
    their files are still placed in ``images/``.
    """
    out_dir = Path(out_dir)
    csv_path = out_dir / "annotations" / f"{_PREFIX}{split}.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        for record in dataset.images:
            copy_image(record.path, inside(out_dir / "images", record.name))
            w, h = str(record.width), str(record.height)
            for (x1, y1, x2, y2), label in zip(record.boxes.xyxy.tolist(), record.boxes.labels):
                writer.writerow([record.name, format_number(x1, 4), format_number(y1, 4), format_number(x2, 4),
                                 format_number(y2, 4), label, w, h])
    return csv_path
