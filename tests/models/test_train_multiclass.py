"""Multi-class training (the apparel recipe in miniature): a YOLO dataset with several class names, seeded
hold-out validation, class-balanced sampling, per-class validation; the class names reach every output format."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.cli import main
from shelfscan.data import load_dataset, read_predictions_csv, write_yolo
from shelfscan.synth import write_synthetic_dataset

NAMES = ["sunglass", "hat", "jacket"]


@pytest.fixture(scope="module")
def yolo_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mc")
    write_synthetic_dataset(root / "sku", 6, seed=5, split="train", width=224, n_products=(8, 20))
    ds = load_dataset(root / "sku", "train")
    for k, rec in enumerate(ds.images):  # three classes, spread over the products of every photo
        rec.boxes.class_id = (np.arange(len(rec.boxes)) + k) % 3
        rec.boxes.class_names = NAMES
    ds.class_names = NAMES
    write_yolo(ds, root / "yolo")
    return root / "yolo"


def test_multiclass_training_with_holdout_and_balance(yolo_data, tmp_path):
    runs = tmp_path / "runs"
    rc = main(["train", "--data", str(yolo_data), "--holdout", "0.34", "--balance", "--val-max-det", "100",
               "--epochs", "2", "--batch", "2", "--imgsz", "224", "--crop", "160", "--width", "16",
               "--frozen-stages", "5", "--lr", "5e-3", "--project", str(runs), "--name", "mc"])
    assert rc == 0
    history = json.loads((runs / "mc" / "metrics.json").read_text())
    assert history[-1]["val_images"] == 2  # round(0.34 * 6) photos held out
    assert set(history[-1]["val_per_class"]) <= set(NAMES) and "val_ar100" in history[-1]
    cfg = json.loads((runs / "mc" / "config.json").read_text())
    assert cfg["class_names"] == NAMES and cfg["holdout"] == 0.34 and cfg["balance"] is True

    # the trained model's class names come out of every detect format
    image = sorted((yolo_data / "images").iterdir())[0]
    model = str(runs / "mc" / "best.pt")
    for fmt, out in (("csv", tmp_path / "p.csv"), ("coco", tmp_path / "p.json"), ("yolo", tmp_path / "py")):
        assert main(["detect", str(image), "--model", model, "--conf", "0.0", "--max-det", "30", "--format", fmt,
                     "--out", str(out)]) == 0
    csv = read_predictions_csv(tmp_path / "p.csv")
    det = next(iter(csv.values()))
    assert len(det) == 30 and set(det.class_names) <= set(NAMES)
    coco = json.loads((tmp_path / "p.json").read_text())
    assert [c["name"] for c in coco["categories"]] == NAMES
    assert "names:\n  0: sunglass\n  1: hat\n  2: jacket\n" in (tmp_path / "py" / "data.yaml").read_text()


def test_val_runs_a_model_on_the_holdout_per_class(yolo_data, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--data", str(yolo_data), "--holdout", "0.34", "--epochs", "1", "--batch", "2",
                 "--imgsz", "224", "--crop", "160", "--width", "16", "--frozen-stages", "5", "--project", str(runs),
                 "--name", "v"]) == 0
    capsys.readouterr()
    assert main(["val", "--data", str(yolo_data), "--holdout", "0.34", "--model", str(runs / "v" / "best.pt"),
                 "--per-class", "--max-det", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["images"] == 2 and "ar100" in out and set(out["per_class"]) <= set(NAMES)
    # the mean over classes is what COCO reports as mAP
    assert out["ap50"] == pytest.approx(np.mean([m["ap50"] for m in out["per_class"].values()]), abs=1e-9)
