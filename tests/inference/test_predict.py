"""The numpy predict path shared by every runtime: candidates, NMS, EM-Merger, the one score blend."""
import numpy as np
import pytest

from shelfscan.box_ops import box_iou
from shelfscan.inference.predict import postprocess, select_candidates
from shelfscan.postprocess.scores import blend_scores


def outputs(boxes, cls, iou):
    return {"boxes": np.asarray(boxes, np.float32)[None], "cls_scores": np.asarray(cls, np.float32)[None],
            "iou_scores": np.asarray(iou, np.float32)[None]}


def test_the_blend_is_geometric_everywhere():
    hard, soft = np.array([0.9, 0.4]), np.array([0.5, 0.8])
    assert np.allclose(blend_scores(hard, soft, 0.5), np.sqrt(hard * soft))
    assert np.allclose(blend_scores(hard, soft, 1.0), hard) and np.allclose(blend_scores(hard, soft, 0.0), soft)
    from shelfscan.postprocess.inputs import check_candidates

    cands = check_candidates(np.zeros((2, 4)), hard, soft)
    assert np.allclose(cands.confidence(0.3), hard ** 0.3 * soft ** 0.7)  # the EM-Merger's ranking, same formula


def test_postprocess_thresholds_caps_and_suppresses():
    boxes = [[0., 0, 10, 10], [0.5, 0, 10.5, 10], [20, 20, 30, 30]]
    out = outputs(boxes, [[0.95], [0.9], [0.7]], [0.9, 0.9, 0.9])
    r = postprocess(out, conf=0.1, iou=0.5, max_det=10)[0]
    assert len(r["boxes"]) == 2 and r["scores"][0] > r["scores"][1]  # the near-duplicate went
    assert len(postprocess(out, conf=0.1, iou=0.5, max_det=1)[0]["boxes"]) == 1
    assert len(postprocess(out, conf=0.85, iou=0.5, max_det=10)[0]["boxes"]) == 1  # 0.7·0.9 blended < 0.85


def test_nms_is_per_class():
    boxes = [[0., 0, 10, 10], [0.5, 0, 10.5, 10]]
    r = postprocess(outputs(boxes, [[0.9, 0.1], [0.1, 0.8]], [0.9, 0.9]), conf=0.1, iou=0.5)[0]
    assert sorted(r["labels"].tolist()) == [0, 1]


def test_candidates_are_sorted_and_capped_by_topk():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 500, (200, 2))
    boxes = np.concatenate([xy, xy + 20], 1)
    c = select_candidates(boxes, rng.uniform(0, 1, (200, 1)), rng.uniform(0, 1, 200), conf=0.0,
                          hard_score_rate=0.5, pre_nms_topk=50)
    assert len(c["scores"]) == 50 and np.all(np.diff(c["scores"]) <= 0)


def test_em_merger_merges_jittered_candidates_into_products():
    rng = np.random.default_rng(0)
    products = np.array([[20., 20, 60, 100], [60, 20, 100, 100], [150, 40, 190, 120]])  # two touching + one
    boxes = np.concatenate([p + rng.normal(0, 1.5, (20, 4)) for p in products])
    cls = 1 / (1 + np.exp(-(2.0 + rng.normal(0, 0.2, (len(boxes), 1)))))
    r = postprocess(outputs(boxes, cls, np.full(len(boxes), 0.73)), conf=0.1, max_det=100, merger="em",
                    image_size=(256, 160))[0]
    assert len(r["boxes"]) == 3
    assert np.all(box_iou(r["boxes"], products).max(0) > 0.7)


@pytest.mark.parametrize("n", [0, 1, 300])
def test_nms_index_matches_greedy_reference(n):
    from shelfscan.postprocess.nms import nms_index

    rng = np.random.default_rng(n)
    ctr = np.repeat(rng.uniform(0, 400, (max(n // 6, 1), 2)), 6, 0)[:n] + rng.normal(0, 3, (n, 2))
    boxes = np.concatenate([ctr - 12, ctr + 12], 1)
    scores = rng.uniform(0, 1, n)
    keep = nms_index(boxes, scores, iou_threshold=0.5)
    order, ref = np.argsort(-scores, kind="stable"), []
    for i in order:  # plain greedy NMS
        if all(box_iou(boxes[i:i + 1], boxes[j:j + 1])[0, 0] <= 0.5 for j in ref):
            ref.append(i)
    assert keep.tolist() == ref


def test_a_point_yields_a_candidate_per_class_above_the_threshold():
    """A gap under a stronger product score at the same point still comes out (multi-label candidates)."""
    boxes = np.array([[0., 0, 50, 50], [100, 0, 150, 50]], np.float32)
    cls = np.array([[0.81, 0.36], [0.01, 0.64]])  # point 0: product 0.81 and gap 0.36; point 1: gap only
    c = select_candidates(boxes, cls, np.ones(2), conf=0.2, hard_score_rate=1.0, pre_nms_topk=10)
    assert c["labels"].tolist() == [0, 1, 1]
    assert np.allclose(c["scores"], [0.81, 0.64, 0.36])
    assert np.array_equal(c["boxes"], boxes[[0, 1, 0]])
    one_class = select_candidates(boxes, cls[:, :1], np.ones(2), conf=0.2, hard_score_rate=1.0, pre_nms_topk=10)
    assert one_class["labels"].tolist() == [0] and len(one_class["boxes"]) == 1


def test_boxes_in_the_padding_beyond_the_photo_are_not_returned(monkeypatch):
    """The network sees the photo padded to a multiple of 32 on the right and bottom: a box it puts there is
    clipped to a line on the border and holds no pixel of the photo."""
    import shelfscan.inference.detector as detector_module
    from shelfscan.inference import Detector

    boxes = np.array([[10, 10, 60, 90], [650, 20, 670, 80], [30, 470, 80, 490], [639.5, 20, 700, 80]], np.float32)
    fake = {"boxes": boxes, "scores": np.array([0.9, 0.8, 0.7, 0.6], np.float32),
            "labels": np.zeros(4, np.int64), "iou_scores": np.full(4, 0.9, np.float32)}
    monkeypatch.setattr(detector_module, "postprocess", lambda *a, **k: [dict(fake)])
    det = Detector(None, imgsz=640)
    res = det._run(np.zeros((460, 640, 3), np.uint8))  # 640 x 460: padded to 640 x 480
    assert res["boxes"].tolist() == [[10, 10, 60, 90]] and res["scores"].tolist() == [pytest.approx(0.9)]
    assert set(res) == set(fake)  # every field filtered alike
