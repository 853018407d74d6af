"""`shelfscan detect` end to end with a small random model: formats, relative names, bad files, exit status."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install
from PIL import Image

from shelfscan.cli import main
from shelfscan.data.predictions import read_predictions_csv
from shelfscan.models.checkpoint import save_checkpoint
from shelfscan.models.detector import DetectorConfig, ShelfDetector


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["object"], width=16, head_depth=1, imgsz=128),
                        pretrained_backbone=False)
    return save_checkpoint(tmp_path_factory.mktemp("m") / "tiny.pt", net, half=True)


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    (root / "aisle2").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(root / "a.jpg")
    Image.fromarray(rng.integers(0, 255, (90, 100, 3), dtype=np.uint8)).save(root / "aisle2" / "b.png")
    return root


def test_csv_with_relative_names(model_path, photos, tmp_path, capsys):
    out = tmp_path / "p.csv"
    rc = main(["detect", str(photos), "--out", str(out), "--model", str(model_path), "--conf", "0.0",
               "--max-det", "7", "--save-images", str(tmp_path / "vis")])
    assert rc == 0
    preds = read_predictions_csv(out)
    assert sorted(preds) == ["a.jpg", "aisle2/b.png"]
    assert all(len(d) == 7 for d in preds.values())
    assert len(list((tmp_path / "vis").glob("*.jpg"))) == 2
    assert "2 images, 14 boxes" in capsys.readouterr().out


def test_coco_and_yolo_formats(model_path, photos, tmp_path):
    out = tmp_path / "p.json"
    assert main(["detect", str(photos / "a.jpg"), "--out", str(out), "--format", "coco", "--model", str(model_path),
                 "--conf", "0.0", "--max-det", "5"]) == 0
    coco = json.loads(out.read_text())
    assert coco["images"][0]["file_name"] == "a.jpg" and len(coco["annotations"]) == 5
    assert all("score" in a and len(a["bbox"]) == 4 for a in coco["annotations"])
    ydir = tmp_path / "yolo"
    assert main(["detect", str(photos), "--out", str(ydir), "--format", "yolo", "--model", str(model_path),
                 "--conf", "0.0", "--max-det", "3"]) == 0
    lines = (ydir / "labels" / "aisle2" / "b.txt").read_text().splitlines()
    assert len(lines) == 3 and all(len(line.split()) == 6 for line in lines)


def test_corrupt_and_missing_inputs_are_reported_and_fail_the_exit_status(model_path, photos, tmp_path, capsys):
    data = (photos / "a.jpg").read_bytes()
    (photos / "cut.jpg").write_bytes(data[: len(data) // 2])
    (photos / "notes.jpg").write_text("not an image")
    out = tmp_path / "p.csv"
    rc = main(["detect", str(photos), str(tmp_path / "nowhere"), "--out", str(out), "--model", str(model_path)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "cut.jpg" in err and "notes.jpg" in err and "nowhere" in err
    assert sorted(read_predictions_csv(out)) == ["a.jpg", "aisle2/b.png"]


def test_missing_model_file_is_a_clear_error(photos, tmp_path, capsys):
    rc = main(["detect", str(photos), "--out", str(tmp_path / "p.csv"), "--model", str(tmp_path / "nope.pt")])
    assert rc == 2
    assert "expected one of" in capsys.readouterr().err
