"""EM-Merger behaviour on small synthetic scenes and on the grid workload."""
from __future__ import annotations

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the core install (no [train] extra): the tests marked torch skip
    torch = None

from shelfscan.box_ops import box_iou
from shelfscan.errors import InputError
from shelfscan.postprocess import em_merge
from shelfscan.postprocess.heatmap import blobs, box_gaussians, heat_map, map_scale
from tests.helpers.workload import grid_candidates, recall_precision


def _jittered(truth: np.ndarray, per_box: int, jitter: float, seed: int) -> tuple[np.ndarray, ...]:
    """``per_box`` jittered copies of each true box, uniform hard scores, soft score = true IoU."""
    rng = np.random.default_rng(seed)
    owner = np.repeat(np.arange(len(truth)), per_box)
    size = np.tile(truth[owner, 2:] - truth[owner, :2], 2)
    boxes = truth[owner] + rng.normal(0, jitter, (len(owner), 4)) * size
    hard = rng.uniform(0.3, 1.0, len(owner))
    soft = box_iou(boxes, truth)[np.arange(len(owner)), owner]
    return boxes, hard, soft


def test_empty_input_gives_empty_output():
    boxes, scores, index = em_merge(np.zeros((0, 4)), np.zeros(0), np.zeros(0), image_size=(480, 640),
                                    return_index=True)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and index.shape == (0,)


def test_single_box_comes_back_with_its_blended_score():
    boxes, scores, index = em_merge([[10.0, 20.0, 50.0, 90.0]], [0.9], [0.5], image_size=(100, 100),
                                    return_index=True)
    np.testing.assert_array_equal(boxes, [[10, 20, 50, 90]])
    c = (0.9 ** 0.5) * (0.5 ** 0.5)  # the one blend, hard^r · soft^(1 − r)
    np.testing.assert_allclose(scores, [0.5 * c + 0.5 * 0.9], rtol=1e-6)
    np.testing.assert_array_equal(index, [0])


@pytest.mark.parametrize("axis", [0, 1])
def test_two_touching_boxes_stay_two(axis):
    a = np.array([100.0, 100.0, 200.0, 300.0])
    b = a.copy()
    b[[axis, axis + 2]] += a[axis + 2] - a[axis]  # the next box along x (axis 0) or y (axis 1), sharing an edge
    boxes, _, index = em_merge(np.stack([a, b]), [0.8, 0.6], [0.9, 0.9], image_size=(700, 700),
                               return_index=True)
    assert sorted(index.tolist()) == [0, 1]


def test_twenty_jittered_copies_of_one_box_become_one():
    truth = np.array([[200.0, 150.0, 320.0, 400.0]])
    boxes, hard, soft = _jittered(truth, 20, 0.05, seed=0)
    out, scores, index = em_merge(boxes, hard, soft, image_size=(600, 600), return_index=True)
    assert len(out) == 1
    assert box_iou(out, truth)[0, 0] > 0.8
    # the kept box is the best 0.5 * c + 0.5 * hard (c = hard^0.5 · soft^0.5) among the copies near the component
    select = 0.5 * np.sqrt(hard * soft) + 0.5 * hard
    assert scores[0] == pytest.approx(select[index[0]])
    assert select[index[0]] >= np.quantile(select, 0.75)


def test_products_merged_into_one_blob_are_split_by_em():
    truth = np.array([[100.0, 100.0, 200.0, 300.0], [200.0, 100.0, 300.0, 300.0], [300.0, 100.0, 400.0, 300.0]])
    boxes, hard, soft = _jittered(truth, 30, 0.15, seed=0)
    # precondition: the heat map does not separate the three products, so only the EM step can
    scale = map_scale(boxes, 8.0)
    mu, var = box_gaussians(boxes, 0.5 / scale)
    _, areas = blobs(heat_map(mu, var, 0.5 * hard + 0.5 * soft, scale, (400, 500)), 0.016)
    assert len(areas) - 1 < 3
    out, _ = em_merge(boxes, hard, soft, image_size=(400, 500))
    assert len(out) == 3
    recall, precision = recall_precision(out, truth)
    assert recall == 1.0 and precision == 1.0


def test_kept_boxes_are_inputs_sorted_by_score():
    wl = grid_candidates(24, 10, image_size=(600, 800), seed=3)
    boxes, scores, index = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size, return_index=True)
    np.testing.assert_array_equal(boxes, wl.boxes[index])
    assert len(set(index.tolist())) == len(index)
    assert np.all(np.diff(scores) <= 0)
    assert boxes.dtype == np.float32 and index.dtype == np.int64


def test_max_det_keeps_the_top_scores():
    wl = grid_candidates(24, 10, image_size=(600, 800), seed=3)
    _, all_scores = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    _, top = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size, max_det=5)
    np.testing.assert_array_equal(top, all_scores[:5])


@pytest.mark.torch
def test_torch_and_numpy_inputs_give_the_same_answer():
    wl = grid_candidates(40, 12, touching=True, image_size=(900, 1200), seed=1)
    np_out = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size, return_index=True)
    t_out = em_merge(torch.from_numpy(wl.boxes), torch.from_numpy(wl.hard), torch.from_numpy(wl.soft),
                     image_size=wl.image_size, return_index=True)
    assert all(isinstance(t, torch.Tensor) for t in t_out)
    assert t_out[0].dtype == torch.float32 and t_out[2].dtype == torch.int64
    for a, b in zip(np_out, t_out):
        np.testing.assert_array_equal(a, b.numpy())


def test_deterministic_and_independent_of_input_order():
    wl = grid_candidates(60, 15, image_size=(1200, 1600), seed=2)
    first = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    again = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    perm = np.random.default_rng(0).permutation(len(wl.boxes))
    shuffled, _ = em_merge(wl.boxes[perm], wl.hard[perm], wl.soft[perm], image_size=wl.image_size)
    assert sorted(map(tuple, shuffled.tolist())) == sorted(map(tuple, first[0].tolist()))


def test_class_ids_merge_each_class_on_its_own():
    truth = np.array([[100.0, 100.0, 200.0, 300.0]])
    boxes, hard, soft = _jittered(truth, 10, 0.03, seed=4)
    classes = np.arange(10) % 2  # the same product seen as two classes
    _, _, index = em_merge(boxes, hard, soft, image_size=(400, 400), class_ids=classes, return_index=True)
    assert sorted(classes[index].tolist()) == [0, 1]
    merged, _ = em_merge(boxes, hard, soft, image_size=(400, 400))
    assert len(merged) == 1


def test_recall_on_the_150_product_workload():
    wl = grid_candidates(150, 20, seed=0)
    boxes, _ = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    recall, precision = recall_precision(boxes, wl.truth)
    assert recall >= 0.99 and precision >= 0.97


def test_recall_on_the_150_touching_product_workload():
    wl = grid_candidates(150, 20, touching=True, seed=0)
    boxes, _ = em_merge(wl.boxes, wl.hard, wl.soft, image_size=wl.image_size)
    recall, precision = recall_precision(boxes, wl.truth)
    assert recall >= 0.96 and precision >= 0.97


@pytest.mark.parametrize("kwargs, message", [
    (dict(boxes=np.zeros((3, 5))), "boxes: expected shape (N, 4)"),
    (dict(boxes=[[10.0, 10.0, 5.0, 20.0]]), "x2 >= x1"),
    (dict(boxes=[[0.0, 0.0, np.nan, 1.0]]), "finite coordinates"),
    (dict(hard_scores=[0.5, 0.5]), "hard_scores: expected shape (1,)"),
    (dict(hard_scores=[-0.1]), "hard_scores: expected finite values >= 0"),
    (dict(iou_scores=[[0.5]]), "iou_scores: expected shape (1,)"),
    (dict(image_size=(100,)), "image_size: expected (height, width)"),
    (dict(image_size=(100.5, 100)), "image_size: expected (height, width)"),
    (dict(image_size=(50, 20)), "boxes: expected centres inside image_size"),
    (dict(hard_score_rate=1.5), "hard_score_rate: expected a number in [0, 1]"),
    (dict(class_ids=[0.5]), "class_ids: expected integers"),
    (dict(max_det=0), "max_det: expected None or a positive integer"),
])
def test_input_errors_say_expected_and_got(kwargs, message):
    args = dict(boxes=[[10.0, 10.0, 40.0, 40.0]], hard_scores=[0.5], iou_scores=None, image_size=(100, 100))
    args.update(kwargs)
    with pytest.raises(InputError, match="got") as err:
        em_merge(args.pop("boxes"), args.pop("hard_scores"), args.pop("iou_scores"), **args)
    assert message in str(err.value)
