"""COCO detection JSON: ``annotations/instances_<split>.json`` + ``images/``.

Boxes are ``[x, y, w, h]`` in absolute pixels; category ids are whatever the file says (read) and
``1..len(class_names)`` in ``class_names`` order (written). ``iscrowd=1`` regions are not product boxes: they are
skipped and counted in the report. JSON carries no line numbers, so problems name the entry instead
(``file.json: annotations[12]: expected ..., got ...``). Ids are integers or strings (anything else - a list, an
object, a bool - is a problem of its entry), numbers must be finite, and an image's ``file_name`` must stay inside
the image folder (no ``..``, not absolute).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from shelfscan.box_ops import xywh_to_xyxy, xyxy_to_xywh
from shelfscan.data.images import copy_image, exists_as_file
from shelfscan.data.load import bad_image_name, choose_split, finish_records, inside, make_boxes, natural_key
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.errors import FormatError, InputError

_PREFIX = "instances_"


def _json_files(folder: Path) -> list[Path]:
    ann = folder / "annotations" if (folder / "annotations").is_dir() else folder
    return sorted(ann.glob("*.json"))


def _split_name(json_path: Path) -> str:
    stem = json_path.stem
    return stem[len(_PREFIX):] if stem.startswith(_PREFIX) else stem


def available_splits(folder: str | Path) -> list[str]:
    """Split names of the JSON files in ``folder/annotations`` (or ``folder``): ``instances_val.json`` -> ``val``.

    A JSON file given as ``folder`` has its own split when named ``instances_<split>.json``, else none: [].
    """
    folder = Path(folder)
    if folder.is_file():
        return [_split_name(folder)] if folder.stem.startswith(_PREFIX) else []
    return [_split_name(p) for p in _json_files(folder)]


def _resolve_json(path: Path, split: str | None) -> Path:
    if path.is_file():
        choose_split(available_splits(path), split, path)  # a split must match the file's own name
        return path
    if not path.is_dir():
        raise InputError(f"{path}: expected a COCO JSON file or dataset folder, got nothing at that path")
    files = {_split_name(p): p for p in _json_files(path)}
    chosen = choose_split(sorted(files), split, path)
    if chosen is None:
        raise InputError(f"{path}: expected a COCO folder with annotations/{_PREFIX}<split>.json, got no JSON file")
    return files[chosen]


def _image_dir(json_path: Path, first_file: str | None) -> Path:
    """Where the ``file_name`` of the images are relative to: the first candidate that has the first image."""
    split = _split_name(json_path)
    top = json_path.parent.parent if json_path.parent.name == "annotations" else json_path.parent
    candidates = [top / "images" / split, top / split, top / "images", top, json_path.parent]
    existing = [c for c in candidates if c.is_dir()]
    if first_file is not None:
        for folder in existing:
            if exists_as_file(folder / first_file):
                return folder
    return existing[0] if existing else json_path.parent


def _number(value: object) -> float | None:
    """A finite JSON number as float; None for anything else (bools, strings, NaN, inf, ints past float range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # a 400-digit integer
        return None
    return number if math.isfinite(number) else None


def _size(value: object) -> int:
    """An image width or height from the JSON; 0 (unknown, read from the file) when absent or not a number."""
    number = _number(value)
    return int(number) if number is not None and 1 <= number < 2**31 else 0


def _id(value: object) -> int | str | None:
    """An id as COCO tools write them (an integer, or a string); None for lists, objects, bools, floats, null."""
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _id_key(value: int | str) -> tuple:
    """Sort key for ids of mixed types: integers by value first, then strings in natural order."""
    return (0, value) if isinstance(value, int) else (1, natural_key(value))


def _load_json(json_path: Path) -> object:
    """The parsed document; FormatError (with a line where there is one) for anything that is not UTF-8 JSON."""
    data = json_path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FormatError(json_path, line, "UTF-8 text", f"byte 0x{data[exc.start]:02x} (save the file as UTF-8)") \
            from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(json_path, exc.lineno, "valid JSON", exc.msg) from None
    except RecursionError:
        raise FormatError(json_path, None, "JSON nested at most a few hundred levels deep", "deeper nesting") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise FormatError(json_path, None, "valid JSON numbers", str(exc).split(";")[0]) from None


def _check_document(json_path: Path, doc: object) -> None:
    if not isinstance(doc, dict):
        raise FormatError(json_path, None, "a JSON object with images, annotations and categories",
                          type(doc).__name__)
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise FormatError(json_path, None, f"a list under {key!r}", type(doc.get(key)).__name__)


def _read_categories(doc: dict, json_path: Path, report: LoadReport) -> tuple[list[str], dict, list]:
    """(class names in category-id order, category id -> class index, sorted category ids)."""
    categories = sorted((c for c in doc["categories"] if isinstance(c, dict) and _id(c.get("id")) is not None
                         and isinstance(c.get("name"), (str, int)) and not isinstance(c.get("name"), bool)),
                        key=lambda c: _id_key(c["id"]))
    if len(categories) != len(doc["categories"]):
        report.problems.append(f"{json_path}: categories: expected entries with an integer or string 'id' and a "
                               f"'name', got {len(doc['categories']) - len(categories)} without")
    class_names = [str(c["name"]) for c in categories]
    cat_index = {c["id"]: i for i, c in enumerate(categories)}
    if len(cat_index) != len(categories) or len(set(class_names)) != len(class_names):
        raise FormatError(json_path, None, "unique category ids and names",
                          f"ids {[c['id'] for c in categories]}, names {class_names}")
    return class_names, cat_index, sorted(cat_index, key=_id_key)


def _read_images(doc: dict, where: str, report: LoadReport) -> dict[object, dict]:
    """image id -> its entry, in file order; malformed entries, unsafe names and repeated ids are reported."""
    images: dict[object, dict] = {}
    for i, entry in enumerate(doc["images"]):
        if not (isinstance(entry, dict) and _id(entry.get("id")) is not None
                and isinstance(entry.get("file_name"), str) and entry["file_name"].strip()):
            report.problems.append(f"{where}: images[{i}]: expected an object with 'id' and 'file_name', "
                                   f"got {str(entry)[:80]}")  # id: an integer or a string
            continue
        bad = bad_image_name(entry["file_name"])
        if bad is not None:
            report.problems.append(f"{where}: images[{i}]: file_name: {bad} (skipped)")
            continue
        if entry["id"] in images:
            report.problems.append(f"{where}: images[{i}]: expected a unique id, got {entry['id']!r} again")
            continue
        images[entry["id"]] = entry
    return images


def _annotation_problem(ann: object, images: dict, cat_index: dict, cat_ids: list) -> tuple[str | None, list]:
    """(what is wrong with one annotation or None, its bbox as 4 floats when it is fine)."""
    if not isinstance(ann, dict):
        return f"expected an object, got {type(ann).__name__}", []
    if _id(ann.get("image_id")) is None or ann["image_id"] not in images:
        return f"expected an image_id listed in images, got {str(ann.get('image_id'))[:80]}", []
    if _id(ann.get("category_id")) is None or ann["category_id"] not in cat_index:
        return f"expected a category_id in {cat_ids[:20]}, got {str(ann.get('category_id'))[:80]}", []
    bbox = ann.get("bbox")
    xywh = [_number(v) for v in bbox] if isinstance(bbox, list) and len(bbox) == 4 else [None]
    if None in xywh:
        return f"expected bbox [x, y, w, h] of 4 finite numbers, got {str(bbox)[:80]}", []
    if xywh[2] < 0 or xywh[3] < 0:
        return f"expected bbox width and height >= 0, got {bbox!r}", []
    if not math.isfinite(xywh[0] + xywh[2]) or not math.isfinite(xywh[1] + xywh[3]):
        return f"expected bbox corners x + w and y + h within float range, got {bbox!r}", []
    return None, xywh


def _read_boxes(doc: dict, images: dict, cat_index: dict, cat_ids: list, where: str,
                report: LoadReport) -> dict[object, list[tuple[float, float, float, float, int]]]:
    """image id -> its boxes ``(x, y, w, h, class index)``; bad annotations and iscrowd regions reported."""
    boxes: dict[object, list[tuple[float, float, float, float, int]]] = {k: [] for k in images}
    crowd = 0
    for i, ann in enumerate(doc["annotations"]):
        problem, xywh = _annotation_problem(ann, images, cat_index, cat_ids)
        if problem is not None:
            report.problems.append(f"{where}: annotations[{i}]: {problem}")
            continue
        if ann.get("iscrowd", 0):
            crowd += 1
            continue
        boxes[ann["image_id"]].append((*xywh, cat_index[ann["category_id"]]))
    if crowd:
        report.problems.append(f"{where}: expected iscrowd=0 boxes, got {crowd} iscrowd=1 regions (skipped)")
    return boxes


def read_coco(json_path: str | Path, images_dir: str | Path | None = None, *, check_images: bool = True,
              skip_corrupt: bool = True, split: str | None = None) -> Dataset:
    """Read a COCO detection JSON.

    Args:
        json_path: the JSON file, or a folder with ``annotations/instances_<split>.json`` (then ``split`` picks
            one; it may be left out when there is only one).
        images_dir: the folder ``file_name`` is relative to. Default: the first of ``images/<split>``,
            ``<split>``, ``images``, the dataset folder and the JSON's folder that holds the first image.
        check_images, skip_corrupt: as in :func:`shelfscan.data.sku.read_sku110k`.

    Returns:
        A :class:`Dataset` in the JSON's image order; ``class_names`` are the category names in category-id order.
        Images without annotations are kept with no boxes.

    Raises:
        FormatError: the file is not JSON, or lacks the ``images``/``annotations``/``categories`` lists.
    """
    json_path = _resolve_json(Path(json_path), split)
    doc = _load_json(json_path)
    _check_document(json_path, doc)
    report = LoadReport(source=str(json_path))
    where = str(json_path)
    class_names, cat_index, cat_ids = _read_categories(doc, json_path, report)
    images = _read_images(doc, where, report)
    boxes = _read_boxes(doc, images, cat_index, cat_ids, where, report)
    first = next(iter(images.values()), None)
    image_dir = Path(images_dir) if images_dir is not None else _image_dir(json_path, first and first["file_name"])
    records = []
    for image_id, entry in images.items():
        width, height = _size(entry.get("width")), _size(entry.get("height"))
        for key, value in (("width", width), ("height", height)):
            if not value and entry.get(key) is not None:
                report.problems.append(f"{where}: image {entry['file_name']!r}: expected {key} as an integer in "
                                       f"1..2^31, got {str(entry.get(key))[:40]} (read from the file instead)")
        rows = np.asarray(boxes[image_id], np.float64).reshape(-1, 5)
        record = ImageRecord(entry["file_name"], image_dir / entry["file_name"], width, height,
                             make_boxes(xywh_to_xyxy(rows[:, :4]), rows[:, 4].astype(np.int64), class_names, width,
                                        height, report))
        records.append(record)
    records = finish_records(records, report, check_images=check_images, skip_corrupt=skip_corrupt)
    return Dataset(image_dir, class_names or ["object"], records, report)


def dataset_to_coco(dataset: Dataset) -> dict:
    """The COCO ground-truth dict of ``dataset``: image ids 1.., annotation ids 1.., category ids 1.. in
    ``class_names`` order, ``bbox`` ``[x, y, w, h]``, ``area`` = w * h, ``iscrowd`` 0."""
    images, annotations = [], []
    for image_id, record in enumerate(dataset.images, start=1):
        images.append({"id": image_id, "file_name": record.name, "width": record.width, "height": record.height})
        xywh = xyxy_to_xywh(record.boxes.xyxy.astype(np.float64)).tolist()
        for (x1, y1, w, h), c in zip(xywh, record.boxes.class_id.tolist()):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": c + 1,
                                "bbox": [round(x1, 4), round(y1, 4), round(w, 4), round(h, 4)],
                                "area": round(w * h, 4), "iscrowd": 0})
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(dataset.class_names)]
    return {"info": {"description": "written by shelfscan"}, "licenses": [], "images": images,
            "annotations": annotations, "categories": categories}


def write_coco(dataset: Dataset, out_dir: str | Path, split: str = "train") -> Path:
    """Write ``out_dir/annotations/instances_<split>.json`` and the images (hard links or copies) under
    ``out_dir/images/``; returns the JSON path."""
    out_dir = Path(out_dir)
    json_path = out_dir / "annotations" / f"{_PREFIX}{split}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for record in dataset.images:
        copy_image(record.path, inside(out_dir / "images", record.name))
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(dataset_to_coco(dataset), f)
    return json_path
