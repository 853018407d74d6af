import numpy as np
import pytest

from shelfscan import Detections, InputError


def make(n=5):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 20, (n, 2))
    return Detections(np.hstack([xy, xy + wh]), rng.uniform(0, 1, n), np.arange(n) % 2, ["a", "b"],
                      {"iou_score": rng.uniform(0, 1, n), "embedding": rng.normal(size=(n, 8))})


def test_defaults_and_dtypes():
    d = Detections([[0, 0, 10, 10]])
    assert d.xyxy.dtype == np.float32 and d.scores.tolist() == [1.0] and d.class_id.tolist() == [0]
    assert d.labels == ["object"]


def test_empty_is_normal():
    d = Detections.empty()
    assert len(d) == 0 and d.xyxy.shape == (0, 4)
    assert len(d[d.scores > 0.5]) == 0 and d.counts() == {}
    assert Detections(np.zeros((0,))).xyxy.shape == (0, 4)


def test_indexing_returns_new_container_with_data():
    d = make()
    sub = d[d.scores > 0.5]
    assert isinstance(sub, Detections)
    assert len(sub) == int((d.scores > 0.5).sum())
    assert sub.data["embedding"].shape == (len(sub), 8)
    one = d[2]
    assert len(one) == 1 and one.class_names == ["a", "b"]
    order = d.sorted_by_score()
    assert np.all(np.diff(order.scores) <= 0)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(xyxy=[[0, 0, 1]]), "shape (N, 4)"),
    (dict(xyxy=[[0, 0, 1, 1]], scores=[0.1, 0.2]), "scores"),
    (dict(xyxy=[[0, 0, 1, 1]], class_id=[3], class_names=["a"]), "values in [0, 1)"),
    (dict(xyxy=[[0, 0, 1, 1]], data={"x": np.zeros(2)}), "first dimension 1"),
])
def test_validation_messages(kwargs, fragment):
    with pytest.raises(InputError, match="expected") as err:
        Detections(**kwargs)
    assert fragment in str(err.value)


def test_merge_and_counts():
    d = Detections.merge([make(3), make(4)])
    assert len(d) == 7 and d.data["iou_score"].shape == (7,)
    assert sum(d.counts().values()) == 7


def test_coco_results_round_trip():
    d = make()
    res = d.to_coco_results(image_id=7)
    assert res[0]["bbox"][2] == pytest.approx(float(d.xyxy[0, 2] - d.xyxy[0, 0]), rel=1e-6)
    back = Detections.from_coco_results(res, ["a", "b"])
    np.testing.assert_allclose(back.xyxy, d.xyxy, atol=1e-4)
    assert back.class_id.tolist() == d.class_id.tolist()


def test_supervision_round_trip():
    pytest.importorskip("supervision")
    d = make()
    sv = d.to_supervision()
    assert sv.xyxy.shape == (5, 4)
    back = Detections.from_supervision(sv)
    assert back.labels == d.labels
    np.testing.assert_allclose(back.data["iou_score"], d.data["iou_score"])
