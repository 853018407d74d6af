"""NMS, Soft-IoU NMS and the merge_candidates entry point."""
from __future__ import annotations

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the core install (no [train] extra): the tests marked torch skip
    torch = None

from shelfscan.errors import InputError
from shelfscan.postprocess import em_merge, merge_candidates, nms, soft_iou_nms
from tests.helpers.workload import grid_candidates, recall_precision

OVERLAPPING = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [200, 0, 300, 100]], np.float32)


@pytest.mark.torch
def test_nms_agrees_with_torchvision():
    from torchvision.ops import nms as tv_nms

    wl = grid_candidates(30, 8, image_size=(600, 800), seed=5)
    _, scores, index = nms(wl.boxes, wl.hard, iou_threshold=0.5, return_index=True)
    expected = tv_nms(torch.from_numpy(wl.boxes), torch.from_numpy(wl.hard), 0.5).numpy()
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(scores, wl.hard[expected])


def test_nms_per_class_and_max_det():
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(OVERLAPPING, scores, return_index=True)[2].tolist() == [0, 2]
    assert nms(OVERLAPPING, scores, class_ids=[0, 1, 0], return_index=True)[2].tolist() == [0, 1, 2]
    assert nms(OVERLAPPING, scores, class_ids=[0, 1, 0], max_det=2, return_index=True)[2].tolist() == [0, 1]


def test_nms_of_nothing():
    boxes, scores = nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_soft_iou_nms_ranks_by_the_blended_confidence():
    hard = np.array([0.9, 0.8, 0.5], np.float32)
    iou = np.array([0.2, 0.9, 0.9], np.float32)  # box 1 fits far better than box 0
    _, scores, index = soft_iou_nms(OVERLAPPING, hard, iou, return_index=True)
    assert index.tolist() == [1, 2]
    np.testing.assert_allclose(scores, np.sqrt(hard * iou)[[1, 2]], rtol=1e-6)  # hard^0.5 · iou^0.5
    _, _, index = soft_iou_nms(OVERLAPPING, hard, iou, hard_score_rate=1.0, return_index=True)
    assert index.tolist() == [0, 2]  # r = 1 is plain NMS on the hard score


@pytest.mark.torch
def test_soft_iou_nms_with_torch_inputs():
    boxes, scores = soft_iou_nms(torch.from_numpy(OVERLAPPING), torch.tensor([0.9, 0.8, 0.5]),
                                 torch.tensor([0.2, 0.9, 0.9]))
    assert isinstance(boxes, torch.Tensor) and boxes.shape == (2, 4)


@pytest.mark.parametrize("method", ["nms", "soft_iou_nms", "em"])
def test_merge_candidates_returns_sorted_distinct_indices(method):
    wl = grid_candidates(40, 10, touching=True, image_size=(900, 1200), seed=6)
    keep, scores = merge_candidates(method, wl.boxes, wl.hard, wl.soft, image_size=wl.image_size,
                                    iou_threshold=0.6, hard_score_rate=0.5)
    assert keep.dtype == np.int64 and len(set(keep.tolist())) == len(keep)
    assert np.all(np.diff(scores) <= 0)
    recall, _ = recall_precision(wl.boxes[keep], wl.truth)
    assert recall >= 0.99


@pytest.mark.torch
@pytest.mark.parametrize("method", ["nms", "soft_iou_nms", "em"])
def test_merge_candidates_takes_torch_inputs(method):
    wl = grid_candidates(40, 10, touching=True, image_size=(900, 1200), seed=6)
    keep, scores = merge_candidates(method, wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    keep_t, scores_t = merge_candidates(method, torch.from_numpy(wl.boxes), torch.from_numpy(wl.hard),
                                        torch.from_numpy(wl.soft), image_size=wl.image_size)
    np.testing.assert_array_equal(keep_t.numpy(), keep)
    np.testing.assert_allclose(scores_t.numpy(), scores, rtol=1e-6)


def test_merge_candidates_matches_the_functions():
    wl = grid_candidates(40, 10, image_size=(900, 1200), seed=7)
    keep, scores = merge_candidates("em", wl.boxes, wl.hard, wl.soft, image_size=wl.image_size, max_det=25)
    _, em_scores, em_index = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size, max_det=25,
                                      return_index=True)
    np.testing.assert_array_equal(keep, em_index)
    np.testing.assert_allclose(scores, em_scores, rtol=1e-6)
    keep, _ = merge_candidates("soft_iou_nms", wl.boxes, wl.hard, wl.soft, image_size=wl.image_size,
                               iou_threshold=0.5, hard_score_rate=0.3)
    _, _, index = soft_iou_nms(wl.boxes, wl.hard, wl.soft, iou_threshold=0.5, hard_score_rate=0.3,
                               return_index=True)
    np.testing.assert_array_equal(keep, index)


def test_merge_candidates_per_class():
    keep, _ = merge_candidates("em", OVERLAPPING[:2], [0.9, 0.8], None, image_size=(400, 400), class_ids=[0, 1])
    assert sorted(keep.tolist()) == [0, 1]
    keep, _ = merge_candidates("em", OVERLAPPING[:2], [0.9, 0.8], None, image_size=(400, 400))
    assert keep.tolist() == [0]


@pytest.mark.parametrize("method, kwargs, message", [
    ("mean_shift", {}, "merge_candidates method: expected one of ['nms', 'soft_iou_nms', 'em']"),
    ("nms", dict(iou_threshold=0.0), "iou_threshold: expected a number in (0, 1]"),
    ("nms", dict(image_size=(0, 10)), "image_size: expected (height, width)"),
    ("em", dict(hard_score_rate=-0.5), "hard_score_rate: expected a number in [0, 1]"),
    ("soft_iou_nms", dict(class_ids=[0, 1]), "class_ids: expected shape (3,)"),
])
def test_merge_candidates_input_errors(method, kwargs, message):
    args = dict(image_size=(400, 400))
    args.update(kwargs)
    with pytest.raises(InputError, match="got") as err:
        merge_candidates(method, OVERLAPPING, [0.9, 0.8, 0.7], [0.5, 0.5, 0.5], **args)
    assert message in str(err.value)
