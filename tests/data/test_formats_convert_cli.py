import json

import numpy as np
import yaml

from shelfscan.cli import main
from shelfscan.data import read_sku110k, read_yolo


def test_convert_all_splits_share_class_ids(sku_folder, tmp_path, capsys):
    assert main(["convert", "--data", str(sku_folder), "--to", "coco", "--out", str(tmp_path / "coco")]) == 0
    err = capsys.readouterr().err
    assert "annotations_train.csv: no problems" in err and "sku val: 1 images, 2 boxes, 3 classes" in err
    train = json.loads((tmp_path / "coco" / "annotations" / "instances_train.json").read_text())
    val = json.loads((tmp_path / "coco" / "annotations" / "instances_val.json").read_text())
    assert train["categories"] == val["categories"]  # val alone has only brand_2: the lists were unified
    assert [a["category_id"] for a in val["annotations"]] == [2, 2]

    assert main(["convert", "--data", str(tmp_path / "coco"), "--to", "yolo", "--out", str(tmp_path / "yolo")]) == 0
    doc = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert doc["train"] == "images/train" and doc["val"] == "images/val"
    assert main(["convert", "--data", str(tmp_path / "yolo"), "--split", "train", "--to", "sku",
                 "--out", str(tmp_path / "sku")]) == 0
    a, b = read_sku110k(sku_folder, "train"), read_sku110k(tmp_path / "sku", "train")
    assert b.class_names == a.class_names
    for x, y in zip(a, b):
        np.testing.assert_allclose(y.boxes.xyxy, x.boxes.xyxy, atol=1e-3)


def test_convert_reports_problems_and_skips_corrupt(sku_folder, tmp_path, capsys, cut_file):
    cut_file(sku_folder / "images" / "img_1.jpg", 0.5)
    with open(sku_folder / "annotations" / "annotations_train.csv", "a") as f:
        f.write("img_0.jpg,1,2\n")
    assert main(["convert", "--data", str(sku_folder), "--split", "train", "--to", "yolo",
                 "--out", str(tmp_path / "y")]) == 0
    err = capsys.readouterr().err
    assert "annotations_train.csv:7: expected 8 comma-separated fields" in err
    assert "truncated JPEG; skipped" in err and "1 corrupt images skipped" in err
    ds = read_yolo(tmp_path / "y", "train")
    assert [r.name for r in ds] == ["img_0.jpg", "img_2.jpg"]


def test_convert_exit_codes(tmp_path, capsys):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "annotations_train.csv").write_text("")
    assert main(["convert", "--data", str(tmp_path), "--to", "coco", "--out", str(tmp_path / "o")]) == 1
    assert main(["convert", "--data", str(tmp_path / "nothing"), "--to", "coco", "--out", str(tmp_path / "o")]) == 2
    assert "expected a dataset file or folder" in capsys.readouterr().err
