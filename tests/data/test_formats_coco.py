import json

import numpy as np
import pytest

from shelfscan import FormatError, InputError
from shelfscan.data import Dataset, ImageRecord, dataset_to_coco, read_coco, read_sku110k, write_coco
from shelfscan.data.coco import available_splits
from shelfscan.detections import Detections


def _coco_doc(images, annotations, categories):
    return {"images": images, "annotations": annotations, "categories": categories}


def test_dataset_to_coco_golden(tmp_path):
    boxes = Detections([[10, 20, 40, 60], [0, 0, 5, 5]], class_id=[1, 0], class_names=["a", "b"])
    ds = Dataset(tmp_path, ["a", "b"], [ImageRecord("x/p.jpg", tmp_path / "x/p.jpg", 100, 80, boxes),
                                        ImageRecord("q.jpg", tmp_path / "q.jpg", 50, 50, Detections.empty(["a", "b"]))])
    doc = dataset_to_coco(ds)
    assert doc["images"] == [{"id": 1, "file_name": "x/p.jpg", "width": 100, "height": 80},
                             {"id": 2, "file_name": "q.jpg", "width": 50, "height": 50}]
    assert doc["annotations"] == [
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [10.0, 20.0, 30.0, 40.0], "area": 1200.0, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 5.0, 5.0], "area": 25.0, "iscrowd": 0},
    ]
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [(1, "a"), (2, "b")]


def test_written_ground_truth_scores_itself_perfectly_and_a_shift_does_not(sku_folder):
    from faster_coco_eval import COCO, COCOeval_faster

    ds = read_sku110k(sku_folder, "train")
    gt = COCO()
    gt.dataset = dataset_to_coco(ds)
    gt.createIndex()

    def ap(shift: float) -> float:
        results = []
        for image_id, record in enumerate(ds.images, start=1):
            moved = Detections(record.boxes.xyxy + [shift, 0, shift, 0], None, record.boxes.class_id, ds.class_names)
            results += [dict(r, score=0.9) for r in moved.to_coco_results(image_id)]
        ev = COCOeval_faster(gt, gt.loadRes(results), "bbox", print_function=lambda *a, **k: None)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        return float(ev.stats[0])

    assert ap(0.0) == pytest.approx(1.0)
    assert ap(12.0) < 0.5


def test_write_and_read_coco_round_trip(sku_folder, tmp_path):
    ds = read_sku110k(sku_folder, "train")
    json_path = write_coco(ds, tmp_path / "coco", split="val")
    assert json_path == tmp_path / "coco" / "annotations" / "instances_val.json"
    assert (tmp_path / "coco" / "images" / "img_2.jpg").is_file()
    back = read_coco(json_path)
    assert back.report.clean and back.class_names == ds.class_names and back.root == tmp_path / "coco" / "images"
    for a, b in zip(ds, back):
        assert a.name == b.name and (a.width, a.height) == (b.width, b.height)
        np.testing.assert_allclose(a.boxes.xyxy, b.boxes.xyxy, atol=1e-3)
        assert a.boxes.labels == b.boxes.labels
    assert available_splits(tmp_path / "coco") == ["val"]
    assert len(read_coco(tmp_path / "coco")) == 3  # folder with one split


def test_category_ids_need_not_be_contiguous(tmp_path, make_image):
    make_image(tmp_path / "images" / "a.jpg", 100, 50)
    doc = _coco_doc([{"id": 7, "file_name": "a.jpg", "width": 100, "height": 50}],
                    [{"id": 1, "image_id": 7, "category_id": 90, "bbox": [1, 2, 3, 4]},
                     {"id": 2, "image_id": 7, "category_id": 5, "bbox": [10, 10, 5, 5]}],
                    [{"id": 90, "name": "cola"}, {"id": 5, "name": "water"}])
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_x.json").write_text(json.dumps(doc))
    ds = read_coco(tmp_path / "annotations" / "instances_x.json")
    assert ds.class_names == ["water", "cola"] and ds.images[0].boxes.labels == ["cola", "water"]
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[1, 2, 4, 6], [10, 10, 15, 15]])


def test_bad_entries_are_reported_and_good_ones_load(tmp_path, make_image):
    make_image(tmp_path / "a.jpg", 100, 50)
    doc = _coco_doc(
        [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}, {"id": 2}, {"id": 3, "file_name": "gone.jpg"}],
        [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
         {"id": 2, "image_id": 9, "category_id": 1, "bbox": [1, 2, 3, 4]},
         {"id": 3, "image_id": 1, "category_id": 4, "bbox": [1, 2, 3, 4]},
         {"id": 4, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]},
         {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4]},
         {"id": 6, "image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 50], "iscrowd": 1},
         {"id": 7, "image_id": 1, "category_id": 1, "bbox": [90, 40, 30, 30]},
         {"id": 8, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 10]}],
        [{"id": 1, "name": "object"}])
    path = tmp_path / "data.json"
    path.write_text(json.dumps(doc))
    ds = read_coco(path)
    p = ds.report.problems
    assert f"{path}: images[1]: expected an object with 'id' and 'file_name', got {{'id': 2}}" in p
    assert f"{path}: annotations[1]: expected an image_id listed in images, got 9" in p
    assert f"{path}: annotations[2]: expected a category_id in [1], got 4" in p
    assert f"{path}: annotations[3]: expected bbox [x, y, w, h] of 4 finite numbers, got [1, 2, 3]" in p
    assert f"{path}: annotations[4]: expected bbox width and height >= 0, got [1, 2, -3, 4]" in p
    assert f"{path}: expected iscrowd=0 boxes, got 1 iscrowd=1 regions (skipped)" in p
    assert ds.report.missing_images == ["gone.jpg"]
    assert ds.report.clipped_boxes == 1 and ds.report.dropped_zero_area == 1
    assert [r.name for r in ds] == ["a.jpg"]
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[1, 2, 4, 6], [90, 40, 100, 50]])


def test_missing_sizes_are_read_from_the_image_and_boxes_clipped(tmp_path, make_image):
    make_image(tmp_path / "images" / "a.jpg", 100, 50)
    doc = _coco_doc([{"id": 1, "file_name": "a.jpg"}],
                    [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [90, 0, 20, 10]}], [{"id": 1, "name": "o"}])
    (tmp_path / "a.json").write_text(json.dumps(doc))
    ds = read_coco(tmp_path / "a.json")
    assert (ds.images[0].width, ds.images[0].height) == (100, 50) and ds.report.clipped_boxes == 1
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[90, 0, 100, 10]])


def test_broken_json_raises_with_line(tmp_path):
    (tmp_path / "bad.json").write_text('{"images": [\n  {"id": 1,,}\n]}')
    with pytest.raises(FormatError, match=r"bad\.json:2: expected valid JSON"):
        read_coco(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text(json.dumps({"images": []}))
    with pytest.raises(FormatError, match="expected a list under 'annotations'"):
        read_coco(tmp_path / "list.json")
    with pytest.raises(InputError, match="nothing at that path"):
        read_coco(tmp_path / "none")
