import numpy as np
import pytest
import yaml

from shelfscan import FormatError, InputError
from shelfscan.data import read_sku110k, read_yolo, write_yolo
from shelfscan.data.yolo import available_splits


def _flat(tmp_path, make_image, names_yaml: str | None = "names: [cat, dog]\n"):
    root = tmp_path / "yolo"
    make_image(root / "images" / "a.jpg", 200, 100)
    make_image(root / "images" / "b.png", 50, 50)
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.1 0.1\n")
    if names_yaml is not None:
        (root / "data.yaml").write_text(names_yaml)
    return root


def test_flat_layout_with_list_names(tmp_path, make_image):
    root = _flat(tmp_path, make_image)
    ds = read_yolo(root)
    assert ds.report.clean and ds.class_names == ["cat", "dog"] and available_splits(root) == []
    a, b = ds.images
    assert (a.name, a.width, a.height, b.name) == ("a.jpg", 200, 100, "b.png")
    np.testing.assert_allclose(a.boxes.xyxy, [[80, 30, 120, 70], [10, 5, 30, 15]], atol=1e-4)
    assert a.boxes.labels == ["cat", "dog"] and len(b.boxes) == 0  # no label file: background image


def test_names_as_dict_and_missing_yaml(tmp_path, make_image):
    root = _flat(tmp_path, make_image, "path: .\nnames:\n  0: cat\n  1: dog\n")
    assert read_yolo(root).class_names == ["cat", "dog"]
    (root / "data.yaml").unlink()
    ds = read_yolo(root)
    assert ds.class_names == ["0", "1"]
    assert ds.report.problems == [f"{root}: expected a data.yaml with class names, got none (names are the ids)"]
    (root / "data.yaml").write_text("names:\n  0: cat\n  2: dog\n")
    with pytest.raises(FormatError, match="names with ids 0..n-1"):
        read_yolo(root)


def test_bad_label_lines_are_reported(tmp_path, make_image):
    root = _flat(tmp_path, make_image)
    label = root / "labels" / "a.txt"
    label.write_text("0 0.5 0.5 0.2 0.4\n"
                     "0 0.5 0.5 0.2\n"
                     "7 0.5 0.5 0.2 0.2\n"
                     "0 x 0.5 0.2 0.2\n"
                     "0 0.5 0.5 -0.2 0.2\n"
                     "\n"
                     "1 0.1 0.1 0.3 0.1 0.3 0.3\n"     # polygon (triangle): its bounding box
                     "1 0.95 0.5 0.2 0.2\n")           # past the right edge: clipped
    (root / "labels" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    ds = read_yolo(root)
    assert ds.report.problems == [
        f"{label}:2: expected 5 fields class cx cy w h (or a polygon class x1 y1 ... xn yn), got 4 fields",
        f"{label}:3: expected a class id in 0..1, got '7'",
        f"{label}:4: expected numbers, got '0 x 0.5 0.2 0.2'",
        f"{label}:5: expected w and h >= 0, got w=-0.2 h=0.2",
    ]
    assert ds.report.missing_images == ["ghost"] and ds.report.clipped_boxes == 1
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[80, 30, 120, 70], [20, 10, 60, 30], [170, 40, 200, 60]],
                               atol=1e-4)


def test_ultralytics_split_layout_round_trip(sku_folder, tmp_path):
    train = read_sku110k(sku_folder, "train")
    val = read_sku110k(sku_folder, "val", class_names=train.class_names)
    out = tmp_path / "yolo"
    write_yolo(train, out, split="train")
    yaml_path = write_yolo(val, out, split="val")
    doc = yaml.safe_load(yaml_path.read_text())
    assert doc["train"] == "images/train" and doc["val"] == "images/val" and "path" not in doc
    assert doc["names"] == {0: "brand_1", 1: "brand_2", 2: "brand_10"} and doc["nc"] == 3
    assert available_splits(out) == ["train", "val"]
    with pytest.raises(InputError, match=r"expected one of \['train', 'val'\]"):
        read_yolo(out)
    back = read_yolo(out, "train")
    assert back.report.clean and back.class_names == train.class_names
    for a, b in zip(train, back):
        assert a.name == b.name and a.boxes.labels == b.boxes.labels
        np.testing.assert_allclose(a.boxes.xyxy, b.boxes.xyxy, atol=1e-3)


def test_write_flat_writes_empty_label_files_and_rejects_clashes(tmp_path, make_image):
    root = _flat(tmp_path, make_image)
    ds = read_yolo(root)
    out = tmp_path / "out"
    write_yolo(ds, out)
    assert (out / "labels" / "b.txt").read_text() == "" and (out / "images" / "b.png").is_file()
    assert yaml.safe_load((out / "data.yaml").read_text())["train"] == "images"
    ds.class_names = ["x", "y"]
    with pytest.raises(InputError, match="expected class names"):
        write_yolo(ds, out)
    ds.class_names = ["cat", "dog"]
    ds.images[1].name = "a.png"
    with pytest.raises(InputError, match="expected one image per label file"):
        write_yolo(ds, tmp_path / "out2")


def test_roboflow_layout_and_corrupt_images(tmp_path, make_image, cut_file):
    for split in ("train", "valid"):
        make_image(tmp_path / split / "images" / "a.jpg", 100, 100)
        make_image(tmp_path / split / "images" / "b.jpg", 300, 200)
        (tmp_path / split / "labels").mkdir()
        (tmp_path / split / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text("names: [item]\n")
    cut_file(tmp_path / "valid" / "images" / "b.jpg", 0.5)
    assert available_splits(tmp_path) == ["train", "valid"]
    ds = read_yolo(tmp_path, "valid")
    assert [r.name for r in ds] == ["a.jpg"] and ds.report.corrupt_images == ["b.jpg"]
    kept = read_yolo(tmp_path, "valid", skip_corrupt=False)
    assert [r.name for r in kept] == ["a.jpg", "b.jpg"] and (kept.images[1].width, kept.images[1].height) == (300, 200)
    with pytest.raises(InputError, match="expected a split in"):
        read_yolo(tmp_path, "test")


def test_unreadable_image_is_reported_even_without_checks(tmp_path, make_image):
    root = _flat(tmp_path, make_image)
    (root / "images" / "a.jpg").write_text("not an image")
    for check in (True, False):
        ds = read_yolo(root, check_images=check, skip_corrupt=False)
        assert [r.name for r in ds] == ["b.png"] and ds.report.corrupt_images == ["a.jpg"]
        assert ds.report.dropped_zero_area == 0
