"""The COCO and YOLO writers of ``shelfscan detect --format coco|yolo`` (shelfscan.data.predictions)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from shelfscan import Detections, InputError
from shelfscan.data.predictions import (PREDICTION_FORMATS, read_predictions_csv, write_predictions,
                                        write_predictions_coco, write_predictions_yolo)

NAMES = ["product", "gap"]


def _predictions() -> tuple[dict[str, Detections], dict[str, tuple[int, int]]]:
    a = Detections(np.array([[10, 20, 50, 80], [0, 0, 200, 100]], np.float32), np.array([0.9, 0.25]),
                   np.array([0, 1]), NAMES)
    b = Detections(np.array([[1.5, 2.5, 3.5, 6.5]], np.float32), np.array([0.5]), np.array([0]), NAMES)
    preds = {"a.jpg": a, "sub/b.png": b, "none.jpg": Detections.empty(NAMES)}
    return preds, {"a.jpg": (200, 100), "sub/b.png": (10, 20), "none.jpg": (64, 48)}


def test_coco_writer(tmp_path):
    preds, sizes = _predictions()
    path = write_predictions_coco(tmp_path / "out" / "preds.json", preds, sizes, NAMES)
    doc = json.loads(path.read_text())
    assert doc["categories"] == [{"id": 1, "name": "product"}, {"id": 2, "name": "gap"}]
    assert doc["images"] == [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 100},
                             {"id": 2, "file_name": "sub/b.png", "width": 10, "height": 20},
                             {"id": 3, "file_name": "none.jpg", "width": 64, "height": 48}]
    anns = doc["annotations"]
    assert [a["id"] for a in anns] == [1, 2, 3] and [a["image_id"] for a in anns] == [1, 1, 2]
    assert anns[0] == {"image_id": 1, "category_id": 1, "bbox": [10.0, 20.0, 40.0, 60.0],
                       "score": pytest.approx(0.9), "id": 1, "area": 2400.0, "iscrowd": 0}
    assert anns[1]["category_id"] == 2 and anns[2]["bbox"] == [1.5, 2.5, 2.0, 4.0] and anns[2]["area"] == 8.0
    back = Detections.from_coco_results([a for a in anns if a["image_id"] == 1], NAMES)
    np.testing.assert_array_equal(back.xyxy, preds["a.jpg"].xyxy)
    assert back.labels == ["product", "gap"]


def test_yolo_writer(tmp_path):
    preds, sizes = _predictions()
    folder = write_predictions_yolo(tmp_path / "yolo", preds, sizes, NAMES)
    assert (folder / "data.yaml").read_text() == "names:\n  0: product\n  1: gap\n"
    assert (folder / "labels" / "a.txt").read_text() == ("0 0.150000 0.500000 0.200000 0.600000 0.90000\n"
                                                         "1 0.500000 0.500000 1.000000 1.000000 0.25000\n")
    assert (folder / "labels" / "sub" / "b.txt").read_text() == "0 0.250000 0.225000 0.200000 0.200000 0.50000\n"
    assert (folder / "labels" / "none.txt").read_text() == ""  # looked at, nothing found


def test_write_predictions_dispatches_by_format(tmp_path):
    preds, sizes = _predictions()
    assert PREDICTION_FORMATS == ("csv", "coco", "yolo")
    csv_path = write_predictions(tmp_path / "new" / "p.csv", "csv", preds, sizes, NAMES)
    assert list(read_predictions_csv(csv_path)) == list(preds)
    coco_path = write_predictions(tmp_path / "p.json", "coco", preds, sizes, NAMES)
    assert len(json.loads(coco_path.read_text())["annotations"]) == 3
    folder = write_predictions(tmp_path / "deep" / "yolo", "yolo", preds, sizes, NAMES)
    assert sorted(p.name for p in (folder / "labels").rglob("*.txt")) == ["a.txt", "b.txt", "none.txt"]
    with pytest.raises(InputError, match=r"expected one of \['csv', 'coco', 'yolo'\], got 'voc'"):
        write_predictions(tmp_path / "x", "voc", preds, sizes, NAMES)
