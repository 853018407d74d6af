import numpy as np
import pytest

from shelfscan import InputError
from shelfscan.data import read_sku110k, write_sku110k
from shelfscan.data.sku import available_splits


def sku_rows(rows: list[tuple]) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows)


def test_reads_folder_split_in_first_appearance_order(sku_folder):
    ds = read_sku110k(sku_folder, "train")
    assert ds.report.clean, ds.report.summary()
    assert [r.name for r in ds] == ["img_0.jpg", "img_1.jpg", "img_2.jpg"]
    assert ds.class_names == ["brand_1", "brand_2", "brand_10"]  # natural order
    assert ds.num_boxes == 6 and ds.root == sku_folder / "images"
    img0 = ds.images[0]
    assert (img0.width, img0.height) == (96, 64) and img0.path == sku_folder / "images" / "img_0.jpg"
    np.testing.assert_allclose(img0.boxes.xyxy, [[1, 2, 30, 40], [40.5, 2.25, 90, 60], [5, 5, 15, 15]])
    assert img0.boxes.labels == ["brand_10", "brand_2", "brand_1"]
    assert img0.boxes.class_names == ds.class_names


def test_split_choice(sku_folder):
    assert available_splits(sku_folder) == ["train", "val"]
    with pytest.raises(InputError, match=r"expected one of \['train', 'val'\]"):
        read_sku110k(sku_folder)
    with pytest.raises(InputError, match=r"expected a split in \['train', 'val'\], got 'test'"):
        read_sku110k(sku_folder, "test")
    (sku_folder / "annotations" / "annotations_train.csv").unlink()
    assert len(read_sku110k(sku_folder)) == 1  # the only split left


def test_csv_file_finds_images_in_sibling_folder(sku_folder):
    csv_path = sku_folder / "annotations" / "annotations_val.csv"
    ds = read_sku110k(csv_path)
    assert ds.root == sku_folder / "images" and ds.report.clean and ds.num_boxes == 2
    assert available_splits(csv_path) == ["val"]
    assert len(read_sku110k(csv_path, "val")) == 1
    with pytest.raises(InputError, match="expected a split in"):
        read_sku110k(csv_path, "train")


def test_class_names_keyword_rejects_other_classes(sku_folder):
    ds = read_sku110k(sku_folder, "train", class_names=["brand_2", "brand_1"])
    assert ds.class_names == ["brand_2", "brand_1"] and ds.num_boxes == 4
    assert sum("expected a class in ['brand_2', 'brand_1'], got 'brand_10'" in p for p in ds.report.problems) == 2


def test_malformed_lines_are_reported_and_good_rows_load(tmp_path, make_image):
    make_image(tmp_path / "images" / "a.jpg", 100, 50)
    csv_path = tmp_path / "annotations" / "annotations_train.csv"
    csv_path.parent.mkdir()
    csv_path.write_text(
        "a.jpg,1,2,10,20,object,100,50\n"        # 1 good
        "a.jpg,1,2,10,20\n"                      # 2 too few fields
        "a.jpg,abc,2,10,20,object,100,50\n"      # 3 not a number
        "a.jpg,30,2,10,20,object,100,50\n"       # 4 x2 < x1
        "\n"                                     # 5 blank: ignored
        "a.jpg,1,2,3,4,object,100,fifty\n"       # 6 bad size
        "a.jpg,1,2,3,4,object,100,60\n"          # 7 size differs from earlier rows
        "a.jpg,1,2,3,nan,object,100,50\n"        # 8 not finite
        "a.jpg,5,5,50,40,,100,50\n"              # 9 empty class
        "a.jpg,5,5,50,40,object,100,50\n")       # 10 good
    ds = read_sku110k(csv_path)
    problems = ds.report.problems
    assert problems == [
        f"{csv_path}:2: expected 8 comma-separated fields image_name,x1,y1,x2,y2,class,image_width,image_height, "
        f"got 5 fields",
        f"{csv_path}:3: expected a number for x1, got 'abc'",
        f"{csv_path}:4: expected x1 <= x2 and y1 <= y2, got x1=30 y1=2 x2=10 y2=20",
        f"{csv_path}:6: expected a positive integer for image_height, got 'fifty'",
        f"{csv_path}:7: expected the size 100x50 of earlier rows of a.jpg, got 100x60",
        f"{csv_path}:8: expected a finite number for y2, got 'nan'",
        f"{csv_path}:9: expected a class name, got ''",
    ]
    assert ds.num_boxes == 2
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[1, 2, 10, 20], [5, 5, 50, 40]])
    assert "7 bad lines/files" in ds.report.summary()


def test_out_of_range_boxes_clipped_and_zero_area_dropped(tmp_path, make_image):
    make_image(tmp_path / "images" / "a.jpg", 100, 50)
    csv_path = tmp_path / "annotations_test.csv"
    csv_path.write_text(sku_rows([
        ("a.jpg", -5, 10, 20, 30, "object", 100, 50),    # clipped at the left
        ("a.jpg", 90, 40, 130, 70, "object", 100, 50),   # clipped right and bottom
        ("a.jpg", 10, 10, 10, 30, "object", 100, 50),    # zero width
        ("a.jpg", 120, 10, 150, 30, "object", 100, 50),  # entirely outside: clipped to nothing
        ("a.jpg", 1, 1, 99, 49, "object", 100, 50),      # untouched
    ]))
    ds = read_sku110k(csv_path)
    assert ds.report.clipped_boxes == 3 and ds.report.dropped_zero_area == 2 and not ds.report.problems
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[0, 10, 20, 30], [90, 40, 100, 50], [1, 1, 99, 49]])


def test_empty_csv_gives_empty_dataset(tmp_path):
    (tmp_path / "annotations_train.csv").write_text("")
    ds = read_sku110k(tmp_path / "annotations_train.csv")
    assert len(ds) == 0 and ds.num_boxes == 0 and ds.report.clean and ds.class_names == ["object"]


def test_header_line_is_accepted(tmp_path, make_image):
    make_image(tmp_path / "a.jpg", 100, 50)
    (tmp_path / "x.csv").write_text("image_name,x1,y1,x2,y2,class,image_width,image_height\n"
                                    "a.jpg,1,2,10,20,object,100,50\n")
    ds = read_sku110k(tmp_path / "x.csv")
    assert ds.report.clean and ds.num_boxes == 1 and ds.root == tmp_path


def test_corrupt_and_missing_images(sku_folder, make_image, cut_file):
    cut_file(sku_folder / "images" / "img_0.jpg", 0.5)
    (sku_folder / "images" / "img_1.jpg").write_text("not a picture")
    (sku_folder / "images" / "img_2.jpg").unlink()
    ds = read_sku110k(sku_folder, "train")
    assert len(ds) == 0
    assert ds.report.corrupt_images == ["img_0.jpg", "img_1.jpg"] and ds.report.missing_images == ["img_2.jpg"]
    assert any("img_0.jpg: expected a decodable image, got truncated JPEG; skipped" in p for p in ds.report.problems)
    assert any("img_1.jpg: expected a decodable image, got not an image; skipped" in p for p in ds.report.problems)
    kept = read_sku110k(sku_folder, "train", skip_corrupt=False)
    assert [r.name for r in kept] == ["img_0.jpg", "img_1.jpg"]
    assert kept.report.corrupt_images == ds.report.corrupt_images
    unchecked = read_sku110k(sku_folder, "train", check_images=False)
    assert len(unchecked) == 3 and unchecked.report.clean


def test_image_size_mismatch_is_reported(tmp_path, make_image):
    make_image(tmp_path / "a.jpg", 100, 50)
    (tmp_path / "x.csv").write_text("a.jpg,1,2,10,20,object,200,100\n")
    ds = read_sku110k(tmp_path / "x.csv")
    assert ds.report.problems == [f"{tmp_path / 'a.jpg'}: expected image size 200x100 as annotated, got 100x50"]


def test_write_then_read_round_trip(sku_folder, tmp_path):
    ds = read_sku110k(sku_folder, "train")
    csv_path = write_sku110k(ds, tmp_path / "out", split="val")
    assert csv_path == tmp_path / "out" / "annotations" / "annotations_val.csv"
    copied = tmp_path / "out" / "images" / "img_1.jpg"
    assert copied.read_bytes() == (sku_folder / "images" / "img_1.jpg").read_bytes()
    back = read_sku110k(tmp_path / "out")
    assert back.class_names == ds.class_names and [r.name for r in back] == [r.name for r in ds]
    for a, b in zip(ds, back):
        np.testing.assert_array_equal(a.boxes.xyxy, b.boxes.xyxy)
        assert a.boxes.labels == b.boxes.labels and (a.width, a.height) == (b.width, b.height)
