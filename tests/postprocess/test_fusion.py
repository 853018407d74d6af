"""Weighted box fusion of several passes (postprocess/fusion.py) on hand-made boxes with known answers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfscan.errors import InputError
from shelfscan.postprocess.fusion import fuse_passes


def part(boxes, scores, labels=None, quality=None):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    return {"boxes": boxes, "scores": np.asarray(scores, np.float32),
            "labels": np.zeros(n, np.int64) if labels is None else np.asarray(labels, np.int64),
            "iou_scores": np.full(n, 0.8, np.float32) if quality is None else np.asarray(quality, np.float32)}


def test_identical_passes_give_the_same_boxes_and_scores():
    p = part([[0, 0, 10, 10], [50, 50, 70, 90]], [0.9, 0.6])
    out = fuse_passes([p, p, p], iou=0.55, max_det=10)
    np.testing.assert_allclose(out["boxes"], p["boxes"])
    np.testing.assert_allclose(out["scores"], [0.9, 0.6], rtol=1e-6)
    np.testing.assert_allclose(out["iou_scores"], [0.8, 0.8], rtol=1e-6)


def test_a_box_one_pass_in_two_finds_keeps_half_its_score():
    a = part([[0, 0, 10, 10], [50, 50, 70, 90]], [0.9, 0.6])
    b = part([[0, 0, 10, 10]], [0.9])
    out = fuse_passes([a, b], iou=0.55, max_det=10)
    np.testing.assert_allclose(out["scores"], [0.9, 0.3], rtol=1e-6)
    np.testing.assert_allclose(out["boxes"][1], [50, 50, 70, 90])


def test_overlapping_boxes_average_by_score():
    a = part([[0, 0, 10, 10]], [0.9], quality=[0.9])
    b = part([[1, 1, 11, 11]], [0.3], quality=[0.5])  # IoU 81/119 = 0.68
    out = fuse_passes([a, b], iou=0.6, max_det=10)
    np.testing.assert_allclose(out["boxes"][0], [0.25, 0.25, 10.25, 10.25], rtol=1e-6)
    np.testing.assert_allclose(out["scores"], [0.6], rtol=1e-6)
    np.testing.assert_allclose(out["iou_scores"], [(0.9 * 0.9 + 0.3 * 0.5) / 1.2], rtol=1e-6)
    apart = fuse_passes([a, b], iou=0.7, max_det=10)  # 0.68 is not above 0.7: two boxes, each halved
    np.testing.assert_allclose(apart["scores"], [0.45, 0.15], rtol=1e-6)


def test_classes_never_fuse():
    a = part([[0, 0, 10, 10]], [0.9], labels=[0])
    b = part([[0, 0, 10, 10]], [0.8], labels=[3])
    out = fuse_passes([a, b], iou=0.5, max_det=10)
    assert sorted(out["labels"].tolist()) == [0, 3]
    np.testing.assert_allclose(sorted(out["scores"]), [0.4, 0.45], rtol=1e-6)


def test_max_det_keeps_the_best_and_sorts():
    boxes = [[i * 20, 0, i * 20 + 10, 10] for i in range(5)]
    out = fuse_passes([part(boxes, [0.1, 0.5, 0.3, 0.9, 0.2])], iou=0.5, max_det=2)
    np.testing.assert_allclose(out["scores"], [0.9, 0.5], rtol=1e-6)
    np.testing.assert_allclose(out["boxes"][0], boxes[3])


def test_empty_passes():
    out = fuse_passes([part([], []), part([], [])], iou=0.5, max_det=5)
    assert out["boxes"].shape == (0, 4) and out["scores"].shape == (0,) and out["labels"].dtype == np.int64
    one = fuse_passes([part([[0, 0, 4, 4]], [0.8]), part([], [])], iou=0.5, max_det=5)
    np.testing.assert_allclose(one["scores"], [0.4], rtol=1e-6)


@pytest.mark.parametrize("kwargs, needle", [
    ({"parts": []}, "at least one pass"),
    ({"iou": 0.0}, "(0, 1]"),
    ({"max_det": 0}, "positive integer"),
    ({"parts": [{"boxes": np.zeros((0, 4))}]}, "without scores, labels, iou_scores"),
])
def test_bad_arguments_say_what_was_expected(kwargs, needle):
    args = {"parts": [part([[0, 0, 1, 1]], [0.5])], "iou": 0.5, "max_det": 3} | kwargs
    with pytest.raises(InputError) as err:
        fuse_passes(args.pop("parts"), **args)
    assert needle in str(err.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(1, 30), st.floats(1, 30),
                          st.floats(0.01, 1.0)), min_size=1, max_size=12),
       st.integers(1, 4))
def test_fused_boxes_lie_within_their_inputs_and_scores_stay_in_range(rows, n_passes):
    boxes = [[x, y, x + w, y + h] for x, y, w, h, _ in rows]
    scores = [s for *_, s in rows]
    p = part(boxes, scores)
    out = fuse_passes([p] * n_passes, iou=0.55, max_det=100)
    b = np.asarray(boxes)
    assert len(out["scores"]) <= len(rows)
    assert (out["boxes"][:, :2] >= b[:, :2].min(0) - 1e-3).all()
    assert (out["boxes"][:, 2:] <= b[:, 2:].max(0) + 1e-3).all()
    assert (out["scores"] > 0).all() and out["scores"].sum() == pytest.approx(sum(scores), rel=1e-4)
