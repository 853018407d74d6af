"""Per-class validation judges a class only on the photos whose dataset labels it."""
import numpy as np
import pytest

from shelfscan.data.records import Dataset, ImageRecord
from shelfscan.detections import Detections
from shelfscan.engine.evaluate import per_class_scores

NAMES = ["object", "gap"]


def _boxes(rows, classes, scores=None):
    return Detections(np.array(rows, np.float32).reshape(-1, 4), None if scores is None else np.array(scores),
                      np.array(classes, np.int64), list(NAMES))


def _dataset():
    # photo a: products only (its dataset has no gap labels); photo b: products and gaps labelled
    a = ImageRecord("a.jpg", "a.jpg", 100, 100, _boxes([[0, 0, 10, 10]], [0]), labelled=("object",))
    b = ImageRecord("b.jpg", "b.jpg", 100, 100, _boxes([[0, 0, 10, 10], [50, 50, 70, 60]], [0, 1]),
                    labelled=("object", "gap"))
    return Dataset(".", list(NAMES), [a, b])


def test_a_gap_on_a_photo_without_gap_labels_is_not_a_false_positive():
    preds = {"a.jpg": _boxes([[0, 0, 10, 10], [60, 60, 90, 90]], [0, 1], [0.9, 0.95]),
             "b.jpg": _boxes([[0, 0, 10, 10], [50, 50, 70, 60]], [0, 1], [0.9, 0.8])}
    out = per_class_scores(_dataset(), preds, NAMES, max_det=100)
    assert out["per_class"]["gap"]["images"] == 1 and out["per_class"]["object"]["images"] == 2
    assert out["per_class"]["gap"]["ap50"] == pytest.approx(1.0)
    assert out["ap50"] == pytest.approx(1.0) and "unscored_classes" not in out


def test_a_wrong_gap_on_a_gap_labelled_photo_costs_precision():
    preds = {"a.jpg": _boxes([[0, 0, 10, 10]], [0], [0.9]),
             "b.jpg": _boxes([[0, 0, 10, 10], [5, 80, 25, 95], [50, 50, 70, 60]], [0, 1, 1], [0.9, 0.95, 0.8])}
    out = per_class_scores(_dataset(), preds, NAMES, max_det=100)
    assert out["per_class"]["gap"]["ap50"] < 0.9
    assert out["ap50"] == pytest.approx(np.mean([m["ap50"] for m in out["per_class"].values()]))


def test_a_class_no_photo_labels_is_reported_unscored():
    ds = _dataset()
    ds.images = ds.images[:1]
    preds = {"a.jpg": _boxes([[0, 0, 10, 10], [60, 60, 90, 90]], [0, 1], [0.9, 0.95])}
    out = per_class_scores(ds, preds, NAMES, max_det=100)
    assert out["unscored_classes"] == ["gap"] and list(out["per_class"]) == ["object"]


def test_a_labelled_class_without_true_boxes_is_left_out_of_the_mean():
    """Photo b labels gaps but has none: gap AP is undefined (NaN), and the mean is the other classes' (as COCO),
    not NaN (a NaN mean never beat the previous best, so training wrote no best.pt)."""
    ds = _dataset()
    ds.images[1] = ImageRecord("b.jpg", "b.jpg", 100, 100, _boxes([[0, 0, 10, 10]], [0]), labelled=("object", "gap"))
    preds = {"a.jpg": _boxes([[0, 0, 10, 10]], [0], [0.9]), "b.jpg": _boxes([[0, 0, 10, 10]], [0], [0.9])}
    out = per_class_scores(ds, preds, NAMES, max_det=100)
    assert np.isnan(out["per_class"]["gap"]["ap50"])
    assert out["ap50"] == pytest.approx(out["per_class"]["object"]["ap50"]) and out["ap50"] == pytest.approx(1.0)
