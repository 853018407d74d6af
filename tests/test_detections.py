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


def test_supervision_round_trip_keeps_unsorted_and_unused_class_names():
    """zebra, apple, mango: unsorted, and zebra has no box; names, their order and the ids come back as they were."""
    sv = pytest.importorskip("supervision")
    d = Detections([[0, 0, 10, 10], [5, 5, 20, 20], [1, 2, 3, 4]], [0.9, 0.8, 0.7], [2, 1, 2],
                   ["zebra", "apple", "mango"], {"iou_score": [0.5, 0.6, 0.7]})
    s = d.to_supervision()
    assert isinstance(s, sv.Detections)
    np.testing.assert_array_equal(s.confidence, d.scores)  # supervision's name for scores
    assert s.class_id.tolist() == [2, 1, 2] and s.metadata["class_names"] == ["zebra", "apple", "mango"]
    assert s.data["class_name"].tolist() == ["mango", "apple", "mango"]
    back = Detections.from_supervision(s)
    assert back.class_names == ["zebra", "apple", "mango"] and back.class_id.tolist() == [2, 1, 2]
    assert back.labels == ["mango", "apple", "mango"] and back.scores.tolist() == d.scores.tolist()
    np.testing.assert_array_equal(back.xyxy, d.xyxy)
    assert sorted(back.data) == ["iou_score"]
    # supervision's own indexing keeps the list, so a filtered result still maps back
    kept = Detections.from_supervision(s[s.confidence > 0.75])
    assert kept.class_names == ["zebra", "apple", "mango"] and kept.class_id.tolist() == [2, 1]
    empty = Detections.from_supervision(Detections.empty(["zebra", "apple"]).to_supervision())
    assert len(empty) == 0 and empty.class_names == ["zebra", "apple"]


def test_from_supervision_without_metadata_and_with_a_contradiction():
    sv = pytest.importorskip("supervision")
    plain = sv.Detections(xyxy=np.array([[0, 0, 1, 1], [0, 0, 2, 2]], np.float32),
                          confidence=np.array([0.5, 0.6], np.float32), class_id=np.array([4, 7]),
                          data={"class_name": np.array(["mango", "apple"])})
    back = Detections.from_supervision(plain)  # no metadata: the names present, sorted, ids renumbered into them
    assert back.class_names == ["apple", "mango"] and back.labels == ["mango", "apple"]
    wrong = sv.Detections(xyxy=plain.xyxy, confidence=plain.confidence, class_id=np.array([0, 1]),
                          data=plain.data, metadata={"class_names": ["apple", "mango"]})
    with pytest.raises(InputError, match="expected the names of class_id"):
        Detections.from_supervision(wrong)


def test_metadata_travels_with_the_boxes():
    """Image-level extras (e.g. the working size a photo ran at) survive indexing, merging parts that agree and a
    supervision round trip; a merge of parts that disagree keeps none of it."""
    d = make()
    d.metadata["imgsz"] = 640
    assert d[:2].metadata == {"imgsz": 640} and d[d.scores > 2].metadata == {"imgsz": 640}  # also with no box
    assert Detections.merge([d[:2], d[2:]]).metadata == {"imgsz": 640}
    other = Detections(d.xyxy, d.scores, d.class_id, d.class_names, d.data, {"imgsz": 1024})
    assert Detections.merge([d, other]).metadata == {}
    assert Detections(np.zeros((0, 4)), metadata={"imgsz": 320}).metadata == {"imgsz": 320}
    with pytest.raises(InputError, match="Detections.metadata: expected a dict"):
        Detections(np.zeros((0, 4)), metadata=[("imgsz", 1)])
    import importlib.util

    if importlib.util.find_spec("supervision"):
        back = Detections.from_supervision(d.to_supervision())
        assert back.metadata == {"imgsz": 640} and back.class_names == d.class_names
