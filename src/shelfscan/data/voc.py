"""Pascal VOC XML annotations: ``Annotations/*.xml`` + ``JPEGImages/``, or XML files next to the images.

Coordinates are read as written (``xmin ymin xmax ymax`` as continuous pixel corners), which is what LabelImg,
CVAT and Roboflow exports mean; the original VOC files count pixels from 1, so their boxes sit up to 1 px right of
and below the truth. ``difficult`` and ``truncated`` flags are not kept: every object is a box.
Splits are the id lists ``ImageSets/Main/<split>.txt`` (class-specific lists ``<class>_<split>.txt`` are ignored).
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

import numpy as np

from shelfscan.data.images import IMAGE_SUFFIXES, exists_as_file
from shelfscan.data.load import bad_image_name, choose_split, finish_records, make_boxes, natural_sorted, text_lines
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.errors import InputError


def _layout(folder: Path) -> tuple[Path, Path]:
    """(XML folder, image folder)."""
    xml_dir = folder / "Annotations" if (folder / "Annotations").is_dir() else folder
    image_dir = folder / "JPEGImages" if (folder / "JPEGImages").is_dir() else xml_dir
    return xml_dir, image_dir


def available_splits(folder: str | Path) -> list[str]:
    """Names of ``ImageSets/Main/<split>.txt`` lists (without ``_`` in the name), sorted."""
    main = Path(folder) / "ImageSets" / "Main"
    return sorted(p.stem for p in main.glob("*.txt") if "_" not in p.stem) if main.is_dir() else []


def _text(node: ET.Element | None, tag: str) -> str | None:
    child = node.find(tag) if node is not None else None
    return child.text.strip() if child is not None and child.text else None


def _image_path(image_dir: Path, filename: str | None, xml_path: Path) -> Path:
    if filename and bad_image_name(filename) is not None:
        filename = Path(filename.replace("\\", "/")).name  # never leave the image folder
        filename = filename if filename not in ("", "..") and bad_image_name(filename) is None else None
    if filename and exists_as_file(image_dir / filename):
        return image_dir / filename
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        candidate = image_dir / (xml_path.stem + suffix)
        if candidate.is_file():
            return candidate
    return image_dir / (filename or xml_path.stem + ".jpg")


def _parse(xml_path: Path, report: LoadReport) -> tuple[str | None, int, int, list[tuple]] | None:
    """(filename, width, height, [(name, x1, y1, x2, y2, object_index)]) or None when the file is unreadable."""
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        report.problems.append(f"{xml_path}:{exc.position[0]}: expected well-formed XML, got {exc}")
        return None
    except Exception as exc:  # noqa: BLE001 - e.g. an encoding declaration Python does not know (LookupError)
        report.problems.append(f"{xml_path}: expected well-formed XML, got {type(exc).__name__}: {exc}")
        return None
    if root.tag != "annotation":
        report.problems.append(f"{xml_path}: expected an <annotation> root element, got <{root.tag}>")
        return None
    size = root.find("size")
    sizes = []
    for tag in ("width", "height"):
        text = _text(size, tag)
        try:
            value = float(text) if text else 0.0
            sizes.append(int(value) if 0 <= value < 2**31 else 0)  # NaN fails the range; inf too
            if not 0 <= value < 2**31:
                report.problems.append(f"{xml_path}: expected a size in 0..2^31 in <size><{tag}>, got {text!r}")
        except ValueError:
            report.problems.append(f"{xml_path}: expected a number in <size><{tag}>, got {text!r}")
            sizes.append(0)
    objects = []
    for k, obj in enumerate(root.iter("object")):
        name = _text(obj, "name")
        box = obj.find("bndbox")
        texts = [_text(box, t) for t in ("xmin", "ymin", "xmax", "ymax")]
        try:
            x1, y1, x2, y2 = (float(t) for t in texts)  # type: ignore[arg-type]
            ok = math.isfinite(x1 + y1 + x2 + y2)
        except (TypeError, ValueError):
            ok = False
        if not name:
            report.problems.append(f"{xml_path}: object {k}: expected a <name>, got none")
        elif not ok:
            report.problems.append(f"{xml_path}: object {k}: expected <bndbox> with numeric xmin, ymin, xmax, "
                                   f"ymax, got {texts}")
        elif x2 < x1 or y2 < y1:
            report.problems.append(f"{xml_path}: object {k}: expected xmin <= xmax and ymin <= ymax, got {texts}")
        else:
            objects.append((name, x1, y1, x2, y2))
    return _text(root, "filename"), sizes[0], sizes[1], objects


def read_voc(folder: str | Path, split: str | None = None, *, check_images: bool = True,
             skip_corrupt: bool = True, class_names: Sequence[str] | None = None) -> Dataset:
    """Read Pascal VOC XML annotations.

    Args:
        folder: ``Annotations/`` + ``JPEGImages/`` (+ ``ImageSets/Main/``), or a folder of images and XML files.
        split: an ``ImageSets/Main/<split>.txt`` id list; may be left out when there is one list or none (then
            every XML file is read).
        check_images, skip_corrupt: as in :func:`shelfscan.data.sku.read_sku110k`.
        class_names: the class list; objects of other classes become problems. Default: the distinct object
            names in natural order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: expected a VOC folder (Annotations/ + JPEGImages/), got nothing at that path")
    xml_dir, image_dir = _layout(folder)
    chosen = choose_split(available_splits(folder), split, folder)
    if chosen is not None:
        list_path = folder / "ImageSets" / "Main" / f"{chosen}.txt"
    report = LoadReport(source=str(xml_dir))
    if chosen is not None:
        xml_paths = []
        for line_no, line, problem in text_lines(list_path):
            fields = line.split() if problem is None else []
            if fields and problem is None and ("/" in fields[0] or "\\" in fields[0]
                                               or bad_image_name(fields[0]) is not None):
                problem = f"expected an image id (a file name without folders), got {fields[0][:80]!r}"
            if problem is not None:
                report.problems.append(f"{list_path}:{line_no}: {problem}")
            elif fields:
                xml_paths.append(xml_dir / f"{fields[0]}.xml")
    else:
        xml_paths = sorted(xml_dir.glob("*.xml"))
    parsed = []
    for xml_path in xml_paths:
        if not exists_as_file(xml_path):
            report.problems.append(f"{xml_path}: expected the annotation file of a listed id, got no such file")
            continue
        result = _parse(xml_path, report)
        if result is not None:
            parsed.append((xml_path, result))
    allowed = None if class_names is None else set(class_names)
    names = list(class_names) if class_names is not None else \
        natural_sorted([o[0] for _, r in parsed for o in r[3]]) or ["object"]
    lookup = {c: i for i, c in enumerate(names)}
    records = []
    for xml_path, (filename, width, height, objects) in parsed:
        if allowed is not None:
            for o in objects:
                if o[0] not in allowed:
                    report.problems.append(f"{xml_path}: expected a class in {names}, got {o[0]!r}")
            objects = [o for o in objects if o[0] in allowed]
        path = _image_path(image_dir, filename, xml_path)
        xyxy = np.asarray([o[1:] for o in objects], np.float64).reshape(-1, 4)
        ids = np.asarray([lookup[o[0]] for o in objects], np.int64)
        boxes = make_boxes(xyxy, ids, names, width, height, report)
        records.append(ImageRecord(path.relative_to(image_dir).as_posix(), path, width, height, boxes))
    records = finish_records(records, report, check_images=check_images, skip_corrupt=skip_corrupt)
    return Dataset(image_dir, names, records, report)
