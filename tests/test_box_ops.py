"""shelfscan.box_ops: known values, format round trips, IoA's asymmetry, dtypes."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.box_ops import (box_area, box_centres, box_intersection, box_ioa, box_iou, box_sizes, clip_boxes,
                               cxcywh_to_xyxy, match_greedy, paired_intersection, xywh_to_xyxy, xyxy_to_cxcywh,
                               xyxy_to_xywh)

A = np.array([[0, 0, 10, 10], [5, 5, 15, 25]], np.float32)
B = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 30, 30]], np.float32)


def _random_boxes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-50, 500, (n, 2))
    return np.hstack([xy, xy + rng.uniform(0, 80, (n, 2))])


def test_known_values():
    np.testing.assert_array_equal(box_area(A), [100, 200])
    np.testing.assert_array_equal(box_sizes(A), [[10, 10], [10, 20]])
    np.testing.assert_array_equal(box_centres(A), [[5, 5], [10, 15]])
    np.testing.assert_array_equal(box_intersection(A, B), [[100, 50, 0], [25, 25, 0]])
    np.testing.assert_allclose(box_iou(A, B), [[1, 0.5, 0], [25 / 275, 25 / 225, 0]])
    np.testing.assert_array_equal(paired_intersection(A, B[:2]), [100, 25])


def test_ioa_is_share_of_the_first_box():
    small, big = np.array([[2, 2, 4, 4]]), np.array([[0, 0, 10, 10]])
    assert box_ioa(small, big)[0, 0] == 1.0  # all of the small box is covered
    assert box_ioa(big, small)[0, 0] == pytest.approx(0.04)  # 4 % of the big one
    assert box_iou(small, big)[0, 0] == box_iou(big, small)[0, 0] == pytest.approx(0.04)
    np.testing.assert_allclose(box_ioa(A, B), box_intersection(A, B) / box_area(A)[:, None])


def test_empty_and_inverted_boxes():
    empty = np.zeros((0, 4))
    assert box_iou(empty, B).shape == (0, 3) and box_ioa(A, empty).shape == (2, 0)
    assert box_area(empty).shape == (0,) and xyxy_to_xywh(empty).shape == (0, 4)
    inverted = np.array([[10, 10, 0, 0]], np.float64)
    assert box_area(inverted)[0] == 0 and (box_sizes(inverted) == 0).all()
    assert box_iou(inverted, inverted)[0, 0] == 0 and box_ioa(inverted, A).max() == 0  # no division by zero
    np.testing.assert_array_equal(xyxy_to_xywh(inverted), [[10, 10, -10, -10]])  # conversions do not clip


def test_pairwise_measures_agree_with_their_diagonal():
    a, b = _random_boxes(50, 1), _random_boxes(50, 2)
    np.testing.assert_array_equal(paired_intersection(a, b), np.diag(box_intersection(a, b)))
    iou = box_iou(a, b)
    assert iou.dtype == np.float64 and ((iou >= 0) & (iou <= 1)).all()
    np.testing.assert_allclose(iou, box_iou(b, a).T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conversions_round_trip(dtype):
    boxes = _random_boxes(200, 3).astype(dtype)
    for to, back in ((xyxy_to_xywh, xywh_to_xyxy), (xyxy_to_cxcywh, cxcywh_to_xyxy)):
        converted = to(boxes)
        assert converted.dtype == dtype and converted.shape == boxes.shape
        np.testing.assert_allclose(back(converted), boxes, rtol=0, atol=1e-3 if dtype == np.float32 else 1e-9)
    np.testing.assert_array_equal(xyxy_to_xywh(A), [[0, 0, 10, 10], [5, 5, 10, 20]])
    np.testing.assert_array_equal(xyxy_to_cxcywh(A), [[5, 5, 10, 10], [10, 15, 10, 20]])
    np.testing.assert_array_equal(cxcywh_to_xyxy([[5, 5, 10, 10]]), [[0, 0, 10, 10]])


def test_dtypes():
    assert box_area(A).dtype == np.float64 and box_area(A, dtype=None).dtype == np.float32
    assert box_sizes(A, dtype=None).dtype == np.float32 and box_centres(A).dtype == np.float32
    clipped = clip_boxes(A, 8, 12)
    assert clipped.dtype == np.float32 and clipped is not A
    np.testing.assert_array_equal(clipped, [[0, 0, 8, 10], [5, 5, 8, 12]])
    np.testing.assert_array_equal(A[1], [5, 5, 15, 25])  # the input is left alone


def test_match_greedy_takes_the_best_pairs_first():
    true = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    pred = np.array([[1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
    np.testing.assert_array_equal(match_greedy(pred, true), [-1, 0, -1])
    np.testing.assert_array_equal(match_greedy(pred[:1], true), [0])
    assert match_greedy(np.zeros((0, 4)), true).shape == (0,)
