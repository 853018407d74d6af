import numpy as np

from shelfscan.data import detect_format, load_dataset, read_coco, read_sku110k, read_yolo, write_coco, \
    write_sku110k, write_yolo


def test_sku_coco_yolo_sku_keeps_boxes_and_class_names(sku_folder, tmp_path):
    start = read_sku110k(sku_folder, "train")
    assert len(start.class_names) == 3
    coco = read_coco(write_coco(start, tmp_path / "coco", split="train"))
    write_yolo(coco, tmp_path / "yolo", split="train")
    yolo = read_yolo(tmp_path / "yolo", "train")
    end = read_sku110k(write_sku110k(yolo, tmp_path / "sku", split="train"))
    for ds in (coco, yolo, end):
        assert ds.report.clean, ds.report.summary()
        assert ds.class_names == start.class_names
        assert [r.name for r in ds] == [r.name for r in start]
        for a, b in zip(start, ds):
            assert (a.width, a.height) == (b.width, b.height) and a.boxes.labels == b.boxes.labels
            np.testing.assert_allclose(b.boxes.xyxy, a.boxes.xyxy, atol=1e-3, rtol=0)


def test_fractional_boxes_survive_yolo_normalisation(tmp_path, make_image):
    make_image(tmp_path / "images" / "big.jpg", 3264, 2448)
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 3000, (50, 2))
    wh = rng.uniform(5, 200, (50, 2))
    rows = "".join(f"big.jpg,{x:.3f},{y:.3f},{x + w:.3f},{min(y + h, 2448):.3f},p,3264,2448\n"
                   for (x, y), (w, h) in zip(xy, wh))
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "annotations_t.csv").write_text(rows)
    start = read_sku110k(tmp_path)
    write_yolo(start, tmp_path / "yolo")
    back = read_yolo(tmp_path / "yolo")
    np.testing.assert_allclose(back.images[0].boxes.xyxy, start.images[0].boxes.xyxy, atol=1e-3, rtol=0)


def test_detect_format_and_load_dataset_dispatch(sku_folder, tmp_path):
    ds = read_sku110k(sku_folder, "train")
    write_coco(ds, tmp_path / "coco", split="train")
    write_yolo(ds, tmp_path / "yolo")
    assert detect_format(sku_folder) == "sku"
    assert detect_format(sku_folder / "annotations" / "annotations_val.csv") == "sku"
    assert detect_format(tmp_path / "coco") == "coco" and detect_format(tmp_path / "yolo") == "yolo"
    for path in (tmp_path / "coco", tmp_path / "yolo", tmp_path / "yolo" / "data.yaml"):
        loaded = load_dataset(path)
        assert loaded.num_boxes == ds.num_boxes and loaded.class_names == ds.class_names
    assert load_dataset(sku_folder, "val").num_boxes == 2
