"""YOLO text labels: ``images/`` + ``labels/`` (+ ``data.yaml`` with the class names).

Layouts read: flat ``images/``, ``labels/`` (one dataset, no split); ultralytics ``images/<split>/``,
``labels/<split>/``; Roboflow ``<split>/images/``, ``<split>/labels/``; labels beside the images when there is no
``labels/`` folder. A label line is ``class cx cy w h`` normalised to [0, 1], or a polygon ``class x1 y1 ... xn yn``
(read as its bounding box). An image without a label file has no boxes (a background image, as in ultralytics).
Image sizes come from the file headers (EXIF orientation applied, as ultralytics does).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from shelfscan.box_ops import cxcywh_to_xyxy, xyxy_to_cxcywh
from shelfscan.data.images import ImageTooLarge, copy_image, find_images, image_size, inspect_images
from shelfscan.data.load import choose_split, format_number, inside, make_boxes, text_lines
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.errors import FormatError, InputError

_EXPECTED_LINE = "5 fields class cx cy w h (or a polygon class x1 y1 ... xn yn)"
MAX_UNNAMED_CLASSES = 1000  # without class names, ids up to this many; a stray id of 2**31 would make 2e9 names


def _yaml_file(folder: Path) -> Path | None:
    if (folder / "data.yaml").is_file():
        return folder / "data.yaml"
    found = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    return found[0] if len(found) == 1 else None


def _split_dirs(folder: Path) -> dict[str, tuple[Path, Path]]:
    """split -> (image folder, label folder); {"": ...} for a flat dataset."""
    images = folder / "images"
    if images.is_dir() and not any(p.is_file() for p in images.iterdir()):
        subs = sorted(p for p in images.iterdir() if p.is_dir() and not p.name.startswith("."))
        if subs:
            return {p.name: (p, folder / "labels" / p.name) for p in subs}
    if images.is_dir():
        return {"": (images, folder / "labels")}
    roboflow = sorted(p for p in folder.iterdir() if (p / "images").is_dir()) if folder.is_dir() else []
    return {p.name: (p / "images", p / "labels") for p in roboflow}


def available_splits(folder: str | Path) -> list[str]:
    """Split names (``images/<split>/`` or ``<split>/images/``); [] for a flat ``images/`` folder."""
    folder = Path(folder)
    folder = folder.parent if folder.is_file() else folder
    return sorted(s for s in _split_dirs(folder) if s)


def read_class_names(yaml_path: Path) -> list[str]:
    """``names`` of a data.yaml, given as a list or as ``{id: name}`` with ids 0..n-1.

    Raises:
        FormatError: not UTF-8 YAML, no ``names``, ids other than 0..n-1, or names that are not strings or
            numbers.
    """
    try:
        text = yaml_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(yaml_path, None, "UTF-8 text", f"byte 0x{exc.object[exc.start]:02x} at byte {exc.start}")\
            from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(yaml_path, mark.line + 1 if mark else None, "valid YAML", str(exc).splitlines()[0]) from exc
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a date 2024-13-45 safe_load cannot construct
        raise FormatError(yaml_path, None, "valid YAML", f"{type(exc).__name__}: {exc}") from None
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in names) or \
                sorted(names) != list(range(len(names))):
            raise FormatError(yaml_path, None, "names with ids 0..n-1", f"ids {sorted(map(str, names))[:20]}")
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names:
        raise FormatError(yaml_path, None, "'names' as a list or a dict of class names", repr(names)[:80])
    odd = [n for n in names if isinstance(n, (bool, list, dict)) or n is None]
    if odd:
        raise FormatError(yaml_path, None, "class names that are strings or numbers", repr(odd[0])[:80])
    return [str(n) for n in names]


def _parse_labels(label_path: Path, num_classes: int, report: LoadReport) -> tuple[np.ndarray, np.ndarray]:
    """Boxes of one label file: normalised xyxy float64 (N, 4) and class ids (N,); bad lines are reported."""
    rows, ids, centred = [], [], []
    for line_no, line, problem in text_lines(label_path):  # UTF-8, a byte-order mark at the start dropped
        if problem is not None:
            report.problems.append(f"{label_path}:{line_no}: {problem}")
            continue
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5 and (len(fields) < 7 or len(fields) % 2 == 0):
            problem = f"expected {_EXPECTED_LINE}, got {len(fields)} fields"
        else:
            try:
                values = [float(v) for v in fields]
            except ValueError:
                values = []
            if not values or not all(math.isfinite(v) for v in values):
                problem = f"expected numbers, got {line.strip()[:80]!r}"
            elif values[0] != int(values[0]) or not 0 <= values[0] < num_classes:
                problem = f"expected a class id in 0..{num_classes - 1}, got {fields[0]!r}"
            elif len(fields) == 5 and (values[3] < 0 or values[4] < 0):
                problem = f"expected w and h >= 0, got w={fields[3]} h={fields[4]}"
        if problem is not None:
            report.problems.append(f"{label_path}:{line_no}: {problem}")
            continue
        centred.append(len(fields) == 5)
        xs, ys = values[1::2], values[2::2]
        rows.append(values[1:] if centred[-1] else (min(xs), min(ys), max(xs), max(ys)))
        ids.append(int(values[0]))
    xyxy = np.asarray(rows, np.float64).reshape(-1, 4)
    box_lines = np.asarray(centred, bool)  # the lines ``class cx cy w h``; the others were polygons
    xyxy[box_lines] = cxcywh_to_xyxy(xyxy[box_lines])
    return xyxy, np.asarray(ids, np.int64)


def _layout(folder: Path, split: str | None) -> tuple[Path, Path | None, Path, Path]:
    """(dataset folder, the data.yaml given as ``folder`` or None, image folder, label folder) of ``split``."""
    yaml_path = folder if folder.is_file() else None
    folder = folder.parent if folder.is_file() else folder
    if not folder.is_dir():
        raise InputError(f"{folder}: expected a YOLO dataset folder, got nothing at that path")
    dirs = _split_dirs(folder)
    if not dirs:
        raise InputError(f"{folder}: expected a YOLO folder with images/ (or <split>/images/), got none")
    chosen = choose_split(sorted(s for s in dirs if s), split, folder) if "" not in dirs else None
    if split is not None and chosen is None:
        raise InputError(f"{folder}: expected a split in [] (a flat YOLO folder has none), got {split!r}")
    image_dir, label_dir = dirs[chosen or ""]
    if not label_dir.is_dir():
        label_dir = image_dir  # labels beside the images
    return folder, yaml_path, image_dir, label_dir


def read_yolo(folder: str | Path, split: str | None = None, *, check_images: bool = True,
              skip_corrupt: bool = True, class_names: Sequence[str] | None = None) -> Dataset:
    """Read a YOLO dataset.

    Args:
        folder: the dataset folder (or its data.yaml).
        split: ``images/<split>``; may be left out when there is only one split or none (flat layout).
        check_images, skip_corrupt: as in :func:`shelfscan.data.sku.read_sku110k`; sizes are read from the image
            headers either way (the labels are normalised).
        class_names: overrides ``names`` of data.yaml. Without either, names are the class ids ``"0", "1", ...``
            (reported as a problem).
    """
    folder, yaml_path, image_dir, label_dir = _layout(Path(folder), split)
    report = LoadReport(source=str(image_dir))
    yaml_path = yaml_path or _yaml_file(folder)
    if class_names is not None:
        names = list(class_names)
    elif yaml_path is not None:
        names = read_class_names(yaml_path)
    else:
        names = None
        report.problems.append(f"{folder}: expected a data.yaml with class names, got none (names are the ids)")

    image_paths = find_images([image_dir])
    rel = [p.relative_to(image_dir) for p in image_paths]
    label_paths = [(label_dir / r).with_suffix(".txt") for r in rel]
    imaged = set(label_paths)
    for label in sorted(label_dir.rglob("*.txt")):
        if label not in imaged and label.name != "classes.txt":
            report.missing_images.append(label.relative_to(label_dir).with_suffix("").as_posix())

    parsed = [_parse_labels(p, len(names) if names else MAX_UNNAMED_CLASSES, report) if p.is_file()
              else (np.zeros((0, 4)), np.zeros(0, np.int64)) for p in label_paths]
    if names is None:
        top = max((int(ids.max()) for _, ids in parsed if len(ids)), default=0)
        names = [str(i) for i in range(top + 1)]
    if check_images:
        checks = inspect_images(image_paths)
    else:
        checks = [_header_check(p) for p in image_paths]
    records = []
    for path, r, (xyxy, ids), (reason, size) in zip(image_paths, rel, parsed, checks):
        name = r.as_posix()
        if reason is not None:
            report.corrupt_images.append(name)
            # without a size the normalised labels cannot be placed: skipped even with skip_corrupt=False
            action = "skipped" if skip_corrupt or size is None else "kept (skip_corrupt=False)"
            report.problems.append(f"{path}: expected a decodable image, got {reason}; {action}")
            if action == "skipped":
                continue
        width, height = size if size is not None else (0, 0)
        boxes = make_boxes(xyxy * [width, height, width, height], ids, names, width, height, report)
        records.append(ImageRecord(name, path, width, height, boxes))
    return Dataset(image_dir, names, records, report)


def _header_check(path: Path) -> tuple[str | None, tuple[int, int] | None]:
    """(None, size) from the header alone, or (reason, None)."""
    try:
        return None, image_size(path)
    except ImageTooLarge as exc:
        return f"too large ({exc.reason})", None
    except InputError:
        return "unreadable header", None


def write_yolo(dataset: Dataset, out_dir: str | Path, split: str | None = None) -> Path:
    """Write images (hard links or copies) and label files, and add the class names and split to data.yaml.

    Layout: flat ``images/``, ``labels/`` when ``split`` is None, else ``images/<split>/``, ``labels/<split>/``
    (ultralytics). Every image gets a label file, empty when it has no boxes. Returns the data.yaml path.

    Raises:
        InputError: two images would share a label file (same name, different suffix), an image has no known
            size, or out_dir/data.yaml already lists other class names.
    """
    out_dir = Path(out_dir)
    sub = Path(split) if split else Path()
    yaml_path = out_dir / "data.yaml"
    doc = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) if yaml_path.is_file() else None
    doc = doc if isinstance(doc, dict) else {}
    if "names" in doc and read_class_names(yaml_path) != list(dataset.class_names):
        raise InputError(f"{yaml_path}: expected class names {read_class_names(yaml_path)} to match the dataset's, "
                         f"got {dataset.class_names}")
    seen: dict[Path, str] = {}
    for record in dataset.images:
        label = Path(record.name).with_suffix(".txt")
        if label in seen:
            raise InputError(f"write_yolo: expected one image per label file, got {seen[label]} and {record.name} "
                             f"for {label}")
        seen[label] = record.name
        if record.width <= 0 or record.height <= 0:
            raise InputError(f"write_yolo: expected a known image size for {record.name}, got "
                             f"{record.width}x{record.height}")
    for record in dataset.images:
        copy_image(record.path, inside(out_dir / "images" / sub, record.name))
        label_path = inside(out_dir / "labels" / sub, Path(record.name).with_suffix(".txt").as_posix())
        label_path.parent.mkdir(parents=True, exist_ok=True)
        size = np.array([record.width, record.height] * 2, np.float64)
        cxcywh = xyxy_to_cxcywh(record.boxes.xyxy.astype(np.float64)) / size
        lines = [" ".join([str(c)] + [format_number(v, 8) for v in values])
                 for values, c in zip(cxcywh.tolist(), record.boxes.class_id.tolist())]
        label_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    doc.pop("path", None)  # ultralytics resolves a relative 'path' against its own datasets dir, not this folder
    images = (Path("images") / sub).as_posix()
    if split:
        doc[split] = images
    else:
        doc["train"], doc["val"] = images, images
    doc["nc"] = len(dataset.class_names)
    doc["names"] = {i: name for i, name in enumerate(dataset.class_names)}
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return yaml_path
