"""The steps every dataset reader and writer shares (:mod:`shelfscan.data.formats` opens a dataset by its path).

Shared conventions: ``Dataset.root`` is the folder image names are relative to; boxes past the image edge are
clipped (``report.clipped_boxes``); boxes without area after clipping are dropped (``report.dropped_zero_area``);
missing images go to ``report.missing_images`` and corrupt ones to ``report.corrupt_images`` (both skipped,
corrupt ones kept with ``skip_corrupt=False``).
"""
from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path, PurePosixPath
from typing import Iterator, Sequence

import numpy as np

from shelfscan.box_ops import clip_boxes
from shelfscan.data.images import exists_as_file, inspect_images
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.detections import Detections
from shelfscan.errors import FormatError, InputError

_CLIP_TOLERANCE = 1e-3  # pixels: rounding in normalised (YOLO) coordinates is clipped without being counted


# -- helpers the readers and writers share --------------------------------------------------------------------------
def natural_key(text: str) -> tuple:
    """Sort key that orders digit runs by value: ``brand_2`` before ``brand_10``."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def natural_sorted(names: Sequence[str]) -> list[str]:
    """Distinct ``names`` in natural order (see :func:`natural_key`)."""
    return sorted(set(names), key=natural_key)


def choose_split(available: Sequence[str], split: str | None, where: str | Path) -> str | None:
    """The split to read: ``split`` when it is available, the only one when there is one and ``split`` is None.

    Returns None when ``available`` is empty and ``split`` is None (a dataset without splits).

    Raises:
        InputError: ``split`` is not available, or it is None and there are several to choose from.
    """
    available = list(available)
    if split is None:
        if len(available) > 1:
            raise InputError(f"{where}: holds several splits, pass one: expected one of {available}, got none")
        return available[0] if available else None
    if split not in available:
        raise InputError(f"{where}: expected a split in {available}, got {split!r}")
    return split


def text_lines(path: str | Path) -> Iterator[tuple[int, str | None, str | None]]:
    """The lines of a UTF-8 text file, one at a time: ``(line number, text without its line break, None)``, or
    ``(line number, None, problem)`` for a line that is not UTF-8 (the other lines still come).

    A UTF-8 byte-order mark at the start is dropped (Excel and Notepad write one).

    Raises:
        FormatError: the file is UTF-16 or UTF-32 (it starts with their byte-order mark): no line would decode.
    """
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise FormatError(path, 1, "UTF-8 text", f"a UTF-16/32 file (byte-order mark {raw[:2].hex(' ')}); "
                                                             "save it as UTF-8")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, (f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of "
                                     "the line (a Latin-1 or Windows-1252 file? save it as UTF-8)")
                continue
            yield number, text.rstrip("\r\n"), None


def split_csv_line(text: str) -> tuple[list[str], str | None]:
    """One line of a comma-separated file -> ``(fields, None)``, or ``([], problem)`` for broken quoting.

    Each line is parsed on its own, so an unbalanced quote costs its own line (reported at that line), never the
    lines after it.
    """
    if '"' not in text:
        return (text.split(",") if text else []), None
    try:
        return next(csv.reader([text], strict=True), []), None
    except csv.Error as exc:
        return [], f"expected comma-separated fields with balanced quotes, got {exc} in {text[:60]!r}"


def bad_image_name(name: str) -> str | None:
    """Why ``name`` cannot be an image path inside a dataset's image folder, or None when it can.

    Refused: control characters (NUL, line breaks), absolute paths, drive letters and ``..`` components (with ``/``
    or ``\\`` as separators), so that no annotation file can make a reader read, or a writer write, outside its
    folder.
    """
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return f"expected an image name without control characters, got {name[:80]!r}"
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) or ".." in parts:
        return f"expected an image path inside the image folder (no '..', not absolute), got {name[:80]!r}"
    if any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in parts):
        return f"expected file names of at most 255 bytes, got {name[:80]!r}..."
    return None


def inside(folder: str | Path, name: str) -> Path:
    """``folder / name``, refusing a ``name`` that would leave ``folder`` (see :func:`bad_image_name`).

    Raises:
        InputError: ``name`` is absolute, has a ``..`` component or a control character.
    """
    problem = bad_image_name(name)
    if problem is not None:
        raise InputError(f"{folder}: {problem}")
    return Path(folder) / name


def format_number(value: float, decimals: int) -> str:
    """``value`` with at most ``decimals`` decimals and no trailing zeros: ``717.0`` -> ``"717"``."""
    text = "%.*f" % (decimals, value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def make_boxes(xyxy: np.ndarray, class_id: np.ndarray, class_names: Sequence[str], width: int, height: int,
               report: LoadReport) -> Detections:
    """Ground-truth :class:`Detections` of one image: clip to the image, drop boxes without area, count both.

    Args:
        xyxy: float array (N, 4) of absolute corners with ``x1 <= x2`` and ``y1 <= y2``.
        class_id: int array (N,), indices into ``class_names``.
        width, height: image size; no clipping when either is 0 (unknown).
    """
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    class_id = np.asarray(class_id, np.int64).reshape(-1)
    with np.errstate(over="ignore"):
        huge = ~np.isfinite(xyxy.astype(np.float32)).all(axis=1)  # finite in float64, past float32's 3.4e38
    if width <= 0 or height <= 0:  # nothing to clip them to
        if huge.any():
            report.problems.append(f"{report.source}: expected box corners within +-3.4e38, got {int(huge.sum())} "
                                   f"boxes beyond (dropped)")
            xyxy, class_id = xyxy[~huge], class_id[~huge]
    if width > 0 and height > 0 and len(xyxy):
        clipped = clip_boxes(xyxy, width, height)
        moved = np.abs(clipped - xyxy).max(axis=1) > _CLIP_TOLERANCE
        report.clipped_boxes += int(np.count_nonzero(moved))
        xyxy = clipped
    keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    report.dropped_zero_area += int(len(keep) - np.count_nonzero(keep))
    return Detections(xyxy[keep].astype(np.float32), None, class_id[keep], list(class_names))


def finish_records(records: list[ImageRecord], report: LoadReport, *, check_images: bool, skip_corrupt: bool,
                   workers: int | None = None) -> list[ImageRecord]:
    """Check the image files of ``records`` (when ``check_images``) and return the records to keep.

    Missing files go to ``report.missing_images`` and are dropped. Files that do not decode go to
    ``report.corrupt_images`` with a problem line each, and are dropped unless ``skip_corrupt`` is False.
    Unknown sizes (a width or height of 0) are filled from the file; a size that disagrees with the annotations is
    a problem line (the record keeps the annotated size its boxes were clipped to).
    """
    if not check_images:
        return records
    found = [exists_as_file(r.path) for r in records]
    present = [r for r, ok in zip(records, found) if ok]
    report.missing_images += [r.name for r, ok in zip(records, found) if not ok]
    kept = []
    for record, (reason, size) in zip(present, inspect_images([r.path for r in present], workers)):
        if size is not None and (record.width == 0 or record.height == 0):  # unknown (or unusable) size
            record.width, record.height = size  # now known: clip the boxes to it
            record.boxes = make_boxes(record.boxes.xyxy, record.boxes.class_id, record.boxes.class_names, *size,
                                      report)
        elif size is not None and size != (record.width, record.height):
            report.problems.append(f"{record.path}: expected image size {record.width}x{record.height} as "
                                   f"annotated, got {size[0]}x{size[1]}")
        if reason is not None:
            report.corrupt_images.append(record.name)
            action = "kept (skip_corrupt=False)" if not skip_corrupt else "skipped"
            report.problems.append(f"{record.path}: expected a decodable image, got {reason}; {action}")
            if skip_corrupt:
                continue
        kept.append(record)
    return kept


def with_class_names(dataset: Dataset, class_names: Sequence[str]) -> Dataset:
    """``dataset`` with its boxes' class ids re-indexed into ``class_names`` (a superset of its classes).

    Used to give several splits one class list before writing them (split files read alone may lack classes).

    Raises:
        InputError: a class of ``dataset`` is not in ``class_names``.
    """
    names = list(class_names)
    missing = [c for c in dataset.class_names if c not in names]
    if missing:
        raise InputError(f"with_class_names: expected a class list containing {dataset.class_names}, got {names} "
                         f"(without {missing})")
    index = np.asarray([names.index(c) for c in dataset.class_names], np.int64)
    images = [ImageRecord(r.name, r.path, r.width, r.height,
                          Detections(r.boxes.xyxy, r.boxes.scores, index[r.boxes.class_id], names, r.boxes.data))
              for r in dataset.images]
    return Dataset(dataset.root, names, images, dataset.report)
