"""Gaps (empty shelf space) of a two-class shelf model: never products or types; their own fields and columns."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from shelfscan.counting import count, group_products, write_summary_csv
from shelfscan.counting.gaps import (draw_gaps, gap_fields, gap_share_of_width, parse_classes, select_classes,
                                     split_gaps)
from shelfscan.detections import Detections
from shelfscan.errors import InputError

NAMES = ["object", "gap"]


@pytest.fixture(scope="module")
def shelf():
    """A grid of 12 products (3 kinds, 40 px wide) and 2 empty slots (grey), boxes as a two-class model gives."""
    cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra)")
    from shelfscan.synth import Catalog

    fronts = Catalog.random(11, n_skus=3).textures
    image = np.full((2 * 70 + 6, 8 * 42 + 2, 3), 70, np.uint8)
    boxes, cls, kinds = [], [], []
    slots = [(r, c) for r in range(2) for c in range(7)]
    for n, (r, c) in enumerate(slots):
        x, y = 2 + c * 42, 6 + r * 70
        if n in (3, 10):  # empty shelf space: a gap box, 60 px wide (it spans the slot and a half)
            boxes.append([x, y, x + 60, y + 64])
            cls.append(1)
            continue
        kind = n % 3
        image[y:y + 64, x:x + 40] = cv2.resize(fronts[kind], (40, 64), interpolation=cv2.INTER_AREA)
        boxes.append([x, y, x + 40, y + 64])
        cls.append(0)
        kinds.append(kind)
    det = Detections(np.array(boxes, np.float32), np.linspace(0.99, 0.9, len(boxes)).astype(np.float32),
                     np.array(cls, np.int64), NAMES)
    return image, det


def test_split_and_share_of_width(shelf):
    _, det = shelf
    products, gaps = split_gaps(det)
    assert len(products) == 12 and len(gaps) == 2 and set(gaps.labels) == {"gap"}
    assert gap_share_of_width(gaps, products) == pytest.approx(120 / (12 * 40 + 120))
    f = gap_fields(gaps, products)
    assert set(f) == {"count", "boxes", "share_of_width"} and f["count"] == 2 and len(f["boxes"]) == 2
    assert f["share_of_width"] == pytest.approx(0.2, abs=1e-4)
    # a one-class model has no gaps: nothing is split off
    one = Detections(det.xyxy, det.scores, np.zeros(len(det), np.int64), ["object"])
    assert len(split_gaps(one)[0]) == len(det) and len(split_gaps(one)[1]) == 0


def test_gaps_are_never_products_or_types_and_get_their_own_fields(shelf, tmp_path):
    image, det = shelf
    sc = group_products(image, det, name="shelf.png")
    assert sc.total == 12 == sum(g.count for g in sc.groups)  # the 2 gaps are in no type and not in the total
    assert "gap" not in sc.detections.labels
    assert np.all(sc.detections.xyxy[:, 2] - sc.detections.xyxy[:, 0] == 40)  # no 60-px gap box among them
    js = json.loads(json.dumps(sc.to_json()))
    assert js["total"] == 12
    assert js["gaps"]["count"] == 2 and js["gaps"]["share_of_width"] == pytest.approx(0.2, abs=1e-4)
    assert sorted(js["gaps"]["boxes"]) == sorted(det.xyxy[det.class_id == 1].tolist())
    assert "2 gaps (20.0% of width)" in sc.table()
    paths = sc.save(tmp_path / "shelf")
    assert json.loads(paths["counts"].read_text())["gaps"]["count"] == 2
    # the annotated picture shows the gaps in red
    from shelfscan.data.images import read_image

    pic = read_image(paths["annotated"]).astype(int)
    x1, y1, x2, y2 = det.xyxy[3].astype(int)
    region = pic[y1 + 3:y2 - 3, x1 + 3:x2 - 3]
    reddish = (region[..., 0] > 150) & (region[..., 1] < 110) & (region[..., 2] < 110)
    assert reddish.mean() > 0.05
    # summary.csv: gap columns on every row of the photo; a one-class photo leaves them empty
    is_product = det.class_id == 0
    one_class = group_products(image, Detections(det.xyxy[is_product], det.scores[is_product], np.zeros(12, np.int64),
                                                 ["object"]), name="b.png")
    assert "gaps" not in one_class.to_json()
    rows = list(csv.DictReader(open(write_summary_csv([sc, one_class], tmp_path / "summary.csv"))))
    assert {"gaps", "gap_share_of_width"} <= set(rows[0])
    mine = [r for r in rows if r["image"] == "shelf.png"]
    assert all(r["gaps"] == "2" and float(r["gap_share_of_width"]) == pytest.approx(0.2, abs=1e-4) for r in mine)
    assert sum(int(r["count"]) for r in mine) == 12
    assert all(r["gaps"] == "" for r in rows if r["image"] == "b.png")
    # one-class results only: the CSV keeps its old columns
    header = next(csv.reader(open(write_summary_csv([one_class], tmp_path / "one.csv"))))
    assert "gaps" not in header


class _StubDetector:
    """Stands in for a two-class Detector: returns fixed boxes."""

    def __init__(self, det):
        self.det = det

    def predict(self, image):
        return self.det


def test_count_with_a_two_class_detector_keeps_gaps_out_of_products(shelf):
    image, det = shelf
    sc = count(image, detector=_StubDetector(det), name="s.png")
    assert sc.total == 12 and len(sc.gaps) == 2
    assert sc.to_json()["gaps"]["count"] == 2


def test_no_gap_on_the_shelf_reports_zero(shelf):
    image, det = shelf
    products = det[det.class_id == 0]
    sc = group_products(image, products)
    assert sc.to_json()["gaps"] == {"count": 0, "boxes": [], "share_of_width": 0.0}


def test_select_classes_and_parse(shelf):
    _, det = shelf
    assert parse_classes(None) is None and parse_classes("all") is None
    assert parse_classes("product, gap") == ["product", "gap"]
    assert len(select_classes(det, None)) == 14
    assert select_classes(det, ["gap"]).labels == ["gap", "gap"]
    assert set(select_classes(det, ["product"]).labels) == {"object"}
    assert set(select_classes(det, ["object"]).labels) == {"object"}
    assert len(select_classes(det, ["product", "gap"])) == 14
    with pytest.raises(InputError, match="--classes"):
        select_classes(det, ["shelf"])


def test_draw_gaps_hatches_inside_the_box():
    image = np.zeros((100, 100, 3), np.uint8)
    out = draw_gaps(image, np.array([[20, 20, 80, 60]], np.float32))
    assert out[20, 50].tolist() == [230, 30, 30]  # outline
    inside = out[25:55, 25:75]
    assert 0.05 < (inside[..., 0] > 100).mean() < 0.8  # hatched, not filled
    assert out[90, 90].tolist() == [0, 0, 0] and image.max() == 0  # outside untouched, input not modified
