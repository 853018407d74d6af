import numpy as np
import pytest

from shelfscan import Detections, FormatError, InputError
from shelfscan.data import read_predictions_csv, write_predictions_csv


def _dets(n: int, names=("object",), seed: int = 0) -> Detections:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, (n, 2))
    return Detections(np.hstack([xy, xy + rng.uniform(1, 50, (n, 2))]), rng.uniform(0, 1, n),
                      rng.integers(0, len(names), n), list(names))


def test_round_trip_multi_class_keeps_empty_images(tmp_path):
    names = ["brand_1", "brand_2", "brand_10"]
    preds = {"a.jpg": _dets(7, names), "sub/b, c.jpg": _dets(0, names), "c.jpg": _dets(3, names, seed=1)}
    path = write_predictions_csv(tmp_path / "p" / "pred.csv", preds)
    assert path.read_text().splitlines()[0] == "image_name,x1,y1,x2,y2,score,class"
    back = read_predictions_csv(path)
    assert list(back) == list(preds)
    for name, d in preds.items():
        b = back[name]
        np.testing.assert_allclose(b.xyxy, d.xyxy, atol=1e-3)
        np.testing.assert_allclose(b.scores, d.scores, atol=1e-6)
        assert b.labels == d.labels
    assert back["a.jpg"].class_names == sorted(set(back["a.jpg"].labels + back["c.jpg"].labels),
                                               key=lambda s: int(s.split("_")[1]))
    fixed = read_predictions_csv(path, class_names=names)
    assert fixed["a.jpg"].class_names == names and fixed["a.jpg"].labels == preds["a.jpg"].labels


def test_one_class_has_no_class_column(tmp_path):
    preds = {"a.jpg": _dets(4)}
    path = write_predictions_csv(tmp_path / "pred.csv", preds)
    assert path.read_text().splitlines()[0] == "image_name,x1,y1,x2,y2,score"
    assert read_predictions_csv(path)["a.jpg"].class_names == ["object"]
    assert read_predictions_csv(path, class_names=["product"])["a.jpg"].labels == ["product"] * 4
    with pytest.raises(InputError, match="expected a class column"):
        read_predictions_csv(path, class_names=["a", "b"])
    with_class = write_predictions_csv(tmp_path / "c.csv", preds, with_class=True)
    assert read_predictions_csv(with_class)["a.jpg"].labels == ["object"] * 4
    with pytest.raises(InputError, match="with_class"):
        write_predictions_csv(tmp_path / "x.csv", {"a.jpg": _dets(2, ["a", "b"])}, with_class=False)


@pytest.mark.parametrize("body, message", [
    ("a.jpg,1,2,3,4,0.5\n", r"bad\.csv:2: expected 7 comma-separated fields .*, got 6 fields"),
    ("a.jpg,1,2,3,4,0.5,p\na.jpg,1,x,3,4,0.5,p\n", r"bad\.csv:3: expected a finite number for y1, got 'x'"),
    ("a.jpg,5,2,3,4,0.5,p\n", r"bad\.csv:2: expected x1 <= x2 and y1 <= y2, got x1=5 y1=2 x2=3 y2=4"),
    ("a.jpg,1,2,3,4,inf,p\n", r"bad\.csv:2: expected a finite number for score, got 'inf'"),
    ("a.jpg,1,2,3,4,0.5,\n", r"bad\.csv:2: expected a class name, got ''"),
    (",1,2,3,4,0.5,p\n", r"bad\.csv:2: expected an image_name, got ''"),
])
def test_bad_rows_raise_with_line(tmp_path, body, message):
    (tmp_path / "bad.csv").write_text("image_name,x1,y1,x2,y2,score,class\n" + body)
    with pytest.raises(FormatError, match=message):
        read_predictions_csv(tmp_path / "bad.csv")


def test_header_is_required(tmp_path):
    (tmp_path / "bad.csv").write_text("a.jpg,1,2,3,4,0.5\n")
    with pytest.raises(FormatError, match=r"bad\.csv:1: expected the header"):
        read_predictions_csv(tmp_path / "bad.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FormatError, match="got an empty file"):
        read_predictions_csv(tmp_path / "empty.csv")
    (tmp_path / "cls.csv").write_text("image_name,x1,y1,x2,y2,score,class\na.jpg,1,2,3,4,0.5,q\n")
    with pytest.raises(FormatError, match=r"cls\.csv:2: expected a class in \['p'\], got 'q'"):
        read_predictions_csv(tmp_path / "cls.csv", class_names=["p"])
    with pytest.raises(InputError, match="no such file"):
        read_predictions_csv(tmp_path / "none.csv")
