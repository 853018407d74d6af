"""Loaders on the real data sets in ../shared/data (skipped when absent). Counts are the data sets' own."""
import numpy as np
import pytest

from shelfscan.data import detect_format, list_splits, load_dataset, read_sku110k


@pytest.mark.parametrize("split, images, boxes", [("train", 170, 23716), ("val", 30, 4131)])
def test_sku110k_sample(shared, split, images, boxes):
    path = shared("sku110k-sample")
    assert detect_format(path) == "sku" and list_splits(path) == ["train", "val"]
    ds = load_dataset(path, split)
    print(ds.report.summary())
    assert (len(ds), ds.num_boxes, ds.class_names) == (images, boxes, ["object"])
    assert ds.report.clean  # no box past the edge, none empty, no corrupt image in the sample
    for r in ds.images[:5]:
        assert r.boxes.xyxy[:, 2].max() <= r.width and r.boxes.xyxy[:, 3].max() <= r.height


def test_grocery_shelves_brands(shared):
    ds = load_dataset(shared("grocery-shelves"))  # the only split, "test"
    print(ds.report.summary())
    assert (len(ds), ds.num_boxes) == (11, 155) and ds.report.clean
    assert ds.class_names == sorted(ds.class_names, key=lambda s: int(s.split("_")[1]))
    assert all(c.startswith("brand_") for c in ds.class_names) and "brand_0" in ds.class_names
    assert all(r.name.endswith(".JPG") for r in ds)


@pytest.mark.parametrize("split", ["train", "val"])
def test_shelf_photos_products_and_gaps(shared, split):
    root = shared("shelf-photos-640")
    products = load_dataset(root, split)
    gaps = read_sku110k(root / "gaps" / f"annotations_{split}.csv")
    print(products.report.summary(), gaps.report.summary(), sep="\n")
    assert len(products) == {"train": 156, "val": 127}[split] and products.class_names == ["object"]
    assert gaps.class_names == ["gap"] and gaps.root == products.root
    assert all((r.width, r.height) == (640, 640) for r in products)


def test_apparel_yolo(shared):
    ds = load_dataset(shared("apparel"))
    print(ds.report.summary())
    assert detect_format(shared("apparel")) == "yolo" and len(ds) == 1000
    assert ds.class_names == ["sunglass", "hat", "jacket", "shirt", "pants", "shorts", "skirt", "dress", "bag",
                              "shoe"]
    per_image = ds.num_boxes / len(ds)
    assert 3.5 < per_image < 4.3 and all((r.width, r.height) == (400, 600) for r in ds.images[:20])
    counts = np.bincount(np.concatenate([r.boxes.class_id for r in ds]), minlength=10)
    assert counts.min() > 0
