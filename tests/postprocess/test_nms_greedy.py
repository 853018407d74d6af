"""The numpy greedy NMS (postprocess/nms.py, issue #16): box for box the textbook greedy loop (and OpenCV's
``cv2.dnn.NMSBoxesBatched`` where OpenCV is installed), on shapes that stress its blocks, sweeps and waves."""
from __future__ import annotations

import importlib
import importlib.util

import numpy as np
import pytest

from shelfscan.box_ops import box_iou
from shelfscan.postprocess.nms import nms_index

nms_module = importlib.import_module("shelfscan.postprocess.nms")  # the package's `nms` attribute is the function


def reference(boxes, scores, thr, class_ids=None):
    """The textbook loop: best first, drop what overlaps it (same class) by more than ``thr``."""
    s = np.asarray(scores, np.float32)
    order = list(np.argsort(-s, kind="stable"))
    ids = np.zeros(len(boxes), int) if class_ids is None else np.asarray(class_ids)
    iou = box_iou(boxes, boxes)
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order if not (ids[j] == ids[i] and iou[i, j] > thr)]
    return np.array(keep, np.int64)


def random_boxes(rng, n, spread, size=(20, 80)):
    xy = rng.random((n, 2)) * spread
    wh = size[0] + rng.random((n, 2)) * (size[1] - size[0])
    return np.concatenate([xy, xy + wh], 1)


@pytest.mark.parametrize("n,spread,classes,thr", [(1, 10, 1, 0.5), (60, 100, 1, 0.5), (700, 400, 1, 0.6),
                                                  (900, 300, 3, 0.3), (1200, 2000, 1, 0.7)])
def test_equals_the_greedy_loop(n, spread, classes, thr):
    rng = np.random.default_rng(n)
    boxes = random_boxes(rng, n, spread)
    scores = rng.random(n).astype(np.float32)
    scores[::5] = scores[0]  # ties: the lower index ranks first
    ids = rng.integers(0, classes, n) if classes > 1 else None
    np.testing.assert_array_equal(nms_index(boxes, scores, iou_threshold=thr, class_ids=ids),
                                  reference(boxes, scores, thr, ids))


def test_chains_stacks_and_max_det(monkeypatch):
    x = np.arange(1500, dtype=np.float64)  # each box overlaps the next two above 0.6: a long chain of waves
    chain = np.stack([x, 0 * x, x + 10, 0 * x + 10], 1)
    scores = np.linspace(1, 0, len(x)).astype(np.float32)
    kept = nms_index(chain, scores, iou_threshold=0.6)
    np.testing.assert_array_equal(kept, np.arange(0, 1500, 3))
    np.testing.assert_array_equal(nms_index(chain, scores, iou_threshold=0.6, max_det=7), kept[:7])
    stack = np.tile([[10.0, 10, 50, 50]], (3000, 1))  # one object, 3000 copies: the best one stays
    s = np.random.default_rng(0).random(3000).astype(np.float32)
    assert nms_index(stack, s, iou_threshold=0.5).tolist() == [int(np.argmax(s))]
    monkeypatch.setattr(nms_module, "PAIR_CHUNK", 64)  # pairs in many small chunks: the same answer
    boxes = random_boxes(np.random.default_rng(5), 400, 150)
    sc = np.random.default_rng(6).random(400).astype(np.float32)
    np.testing.assert_array_equal(nms_index(boxes, sc, iou_threshold=0.5), reference(boxes, sc, 0.5))


def test_touching_and_empty_boxes_suppress_nothing():
    boxes = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [5, 5, 5, 5], [5, 5, 5, 5]], np.float64)
    assert sorted(nms_index(boxes, np.ones(4), iou_threshold=0.1).tolist()) == [0, 1, 2, 3]
    assert nms_index(np.zeros((0, 4)), np.zeros(0), iou_threshold=0.5).tolist() == []


@pytest.mark.skipif(importlib.util.find_spec("cv2") is None, reason="OpenCV (the [synth] extra) not installed")
def test_equals_opencv():
    import cv2

    rng = np.random.default_rng(3)
    for n, spread, classes, thr in [(2000, 1000, 1, 0.6), (2000, 400, 3, 0.45)]:
        boxes = random_boxes(rng, n, spread)
        scores = rng.random(n).astype(np.float32)
        ids = rng.integers(0, classes, n).astype(np.int32)
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
        ref = np.asarray(cv2.dnn.NMSBoxesBatched(xywh, scores, ids, -np.inf, thr), np.int64).ravel()
        ref = ref[np.lexsort((ref, -scores[ref]))]
        np.testing.assert_array_equal(nms_index(boxes, scores, iou_threshold=thr, class_ids=ids), ref)
