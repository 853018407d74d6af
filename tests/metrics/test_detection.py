"""evaluate_detections against pycocotools (golden), hand-computed cases, the xywh trap and the max_det cap."""
from __future__ import annotations

import math

import numpy as np
import pytest

from shelfscan.detections import Detections
from shelfscan.errors import InputError
from shelfscan.metrics import evaluate_detections

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def pycocotools_metrics(gt: dict[str, Detections], pred: dict[str, Detections], max_dets: list[int],
                        class_agnostic: bool) -> dict[str, float]:
    """Reference: pycocotools fed xywh computed here, read at the last maxDets index, area range 'all'."""
    names = sorted({n for d in gt.values() for n in d.class_names})
    cat = (lambda name: 1) if class_agnostic else (lambda name: names.index(name) + 1)
    images, anns, results = [], [], []
    for image_id, (name, d) in enumerate(gt.items(), start=1):
        images.append({"id": image_id})
        for (x1, y1, x2, y2), label in zip(d.xyxy.tolist(), d.labels):
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat(label),
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        p = pred.get(name, Detections.empty())
        for (x1, y1, x2, y2), s, label in zip(p.xyxy.tolist(), p.scores.tolist(), p.labels):
            results.append({"image_id": image_id, "category_id": cat(label), "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": s})
    cats = [{"id": 1, "name": "object"}] if class_agnostic else [{"id": i + 1, "name": n} for i, n in
                                                                  enumerate(names)]
    coco_gt = COCO()
    coco_gt.dataset = {"images": images, "annotations": anns, "categories": cats}
    coco_gt.createIndex()
    coco_dt = coco_gt.loadRes(results)
    ev = COCOeval(coco_gt, coco_dt, "bbox")
    ev.params.maxDets = max_dets
    ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e10]], ["all"]
    ev.evaluate()
    ev.accumulate()
    prec = ev.eval["precision"][:, :, :, 0, -1]
    rec = ev.eval["recall"][:, :, 0, -1]

    def mean(a):
        return float(a[a > -1].mean())

    return {"ap50_95": mean(prec), "ap50": mean(prec[0]), "ap75": mean(prec[5]), "ar": mean(rec)}


@pytest.mark.parametrize("class_agnostic", [True, False])
def test_matches_pycocotools_on_dense_shelves(dense_case, class_agnostic):
    gt, pred = dense_case
    assert all(len(d) >= 150 for d in gt.values())
    assert max(len(d) for d in pred.values()) > 300  # the cap really cuts in one image
    ours = evaluate_detections(gt, pred, max_det=300, class_agnostic=class_agnostic)
    ref = pycocotools_metrics(gt, pred, [1, 10, 300], class_agnostic)
    for key, value in ref.items():
        assert getattr(ours, key) == pytest.approx(value, abs=1e-6), key
    assert 0.2 < ours.ap50_95 < 0.9  # a non-degenerate case: neither perfect nor empty
    assert ours.images == len(gt) and ours.max_det == 300
    assert bool(ours.per_class) == (not class_agnostic)
    if not class_agnostic:
        assert sorted(ours.per_class) == ["sku_0", "sku_1", "sku_2"]
        assert np.mean([v["ap50_95"] for v in ours.per_class.values()]) == pytest.approx(ours.ap50_95, abs=1e-9)


def test_max_det_changes_result_like_pycocotools(dense_case):
    gt, pred = dense_case
    at100 = evaluate_detections(gt, pred, max_det=100)
    ref = pycocotools_metrics(gt, pred, [1, 10, 100], True)
    assert at100.ar == pytest.approx(ref["ar"], abs=1e-6)
    assert at100.ar < evaluate_detections(gt, pred, max_det=300).ar  # 150+ true boxes: 100 cannot find all


def test_one_of_two_found_exactly():
    gt = {"a.jpg": Detections(np.array([[10, 10, 30, 50], [100, 100, 140, 160]]))}
    pred = {"a.jpg": Detections(np.array([[10, 10, 30, 50]]), np.array([0.9]))}
    m = evaluate_detections(gt, pred)
    # precision 1 up to recall 0.5, nothing beyond: 51 of the 101 recall thresholds, at every IoU threshold
    for value in (m.ap50_95, m.ap50, m.ap75):
        assert value == pytest.approx(51 / 101)
    assert m.ar == pytest.approx(0.5)


def test_perfect_predictions_score_one():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 500, (20, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 60, (20, 2))], 1)
    m = evaluate_detections({"a": Detections(boxes)}, {"a": Detections(boxes, rng.random(20))})
    assert (m.ap50_95, m.ap50, m.ap75, m.ar) == pytest.approx((1.0, 1.0, 1.0, 1.0))


def test_xyxy_is_converted_to_xywh():
    # true IoU 200/260 = 0.769: passes 0.50..0.75 (6 of 10 thresholds). Read as xywh the same numbers would be
    # 110x120 and 110x126 boxes with IoU 0.952, passing all 10 thresholds.
    gt = {"a": Detections(np.array([[100, 100, 110, 120]]))}
    pred = {"a": Detections(np.array([[100, 100, 110, 126]]), np.array([0.8]))}
    m = evaluate_detections(gt, pred)
    assert m.ap50_95 == pytest.approx(0.6)
    assert m.ap75 == pytest.approx(1.0)
    assert m.ar == pytest.approx(0.6)
    ref = pycocotools_metrics(gt, pred, [1, 10, 300], True)
    assert m.ap50_95 == pytest.approx(ref["ap50_95"])


def test_max_det_truncates():
    rng = np.random.default_rng(2)
    cols, rows = np.meshgrid(np.arange(20), np.arange(20))
    xy = np.stack([cols.ravel() * 30.0, rows.ravel() * 50.0], 1)
    boxes = np.concatenate([xy, xy + [25, 45]], 1)  # 400 disjoint boxes
    m = evaluate_detections({"a": Detections(boxes)}, {"a": Detections(boxes, rng.permutation(400) / 400)},
                            max_det=300)
    assert m.ar == pytest.approx(0.75)
    assert m.ap50_95 == pytest.approx(76 / 101)  # precision 1 up to recall 0.75
    assert evaluate_detections({"a": Detections(boxes)}, {"a": Detections(boxes)}, max_det=400).ar == 1.0


def test_image_without_predictions_counts_as_misses():
    box = np.array([[0, 0, 10, 10]])
    gt = {"a": Detections(box), "b": Detections(box)}
    m = evaluate_detections(gt, {"a": Detections(box, np.array([0.5]))})
    assert m.ar == pytest.approx(0.5)
    assert m.images == 2


def test_empty_predictions_and_empty_ground_truth():
    box = np.array([[0, 0, 10, 10]])
    zero = evaluate_detections({"a": Detections(box)}, {})
    assert (zero.ap50_95, zero.ap50, zero.ap75, zero.ar) == (0.0, 0.0, 0.0, 0.0)
    zero = evaluate_detections({"a": Detections(box)}, {"a": Detections.empty()})
    assert zero.ap50 == 0.0
    nothing = evaluate_detections({"a": Detections.empty()}, {"a": Detections(box, np.array([0.5]))})
    assert all(math.isnan(v) for v in (nothing.ap50_95, nothing.ap50, nothing.ap75, nothing.ar))
    assert math.isnan(evaluate_detections({}, {}).ap50)


def test_unknown_images_and_bad_arguments_raise():
    gt = {"a": Detections(np.array([[0, 0, 10, 10]]))}
    with pytest.raises(InputError, match=r"expected image names of the ground truth.*'zzz'"):
        evaluate_detections(gt, {"zzz": Detections.empty()})
    with pytest.raises(InputError, match="max_det"):
        evaluate_detections(gt, {}, max_det=0)
    with pytest.raises(InputError, match="iou_type"):
        evaluate_detections(gt, {}, iou_type="segm")
    pred = {"a": Detections(np.array([[0, 0, 10, 10]]), class_names=["cola"])}
    with pytest.raises(InputError, match="cola"):
        evaluate_detections(gt, pred, class_agnostic=False)
    assert evaluate_detections(gt, pred).ap50 == pytest.approx(1.0)  # class-agnostic ignores the names


def test_to_dict_names_recall_after_the_cap():
    gt = {"a": Detections(np.array([[0, 0, 10, 10]]))}
    d = evaluate_detections(gt, gt, max_det=100).to_dict()
    assert d["ar100"] == 1.0 and "ar300" not in d and d["max_det"] == 100
