"""`shelfscan train-embedder` end to end on a tiny SKU-110K-layout dataset: excluded photos stay out, the weights
load back as a crop network, only the unfrozen stages change."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.cli import main
from shelfscan.drawing import write_image


def _dataset(root):
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3):
        img = np.full((200, 300, 3), 60, np.uint8)
        for j, colour in enumerate([(220, 40, 40)] * 3 + [(40, 40, 220)] * 3):
            x = 20 + j * 45
            img[50:150, x:x + 35] = colour
            img[90:110, x + 5:x + 30] = rng.integers(0, 255, 3)  # a label that differs a little
            rows.append(f"shelf_{i}.jpg,{x},50,{x + 35},150,object,300,200")
        write_image(root / "images" / f"shelf_{i}.jpg", img)
    (root / "annotations" / "annotations_train.csv").write_text("\n".join(rows) + "\n")


def test_train_embedder_writes_weights_a_crop_embedder_reads(tmp_path, capsys):
    from shelfscan.embed import CropEmbedder
    from shelfscan.embed.trunk import FeatureTrunk

    data, labels, out = tmp_path / "shelves", tmp_path / "labels", tmp_path / "run"
    _dataset(data)
    labels.mkdir()
    (labels / "shelf_2.json").write_text(json.dumps({"image": "shelf_2.jpg", "boxes": [], "types": []}))
    rc = main(["train-embedder", "--data", str(data), "--exclude-labels", str(labels), "--max-steps", "2",
               "--photos-per-step", "2", "--crops-per-photo", "4", "--frozen-stages", "5", "--threads", "1",
               "--device", "cpu", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "2 photos, 1 excluded" in text and "photos 2" in text
    config = json.loads((out / "config.json").read_text())
    assert config["bank_summary"]["crops"] == 12 and config["train"]["frozen_stages"] == 5
    assert config["train"]["device"] == "cpu"
    trained, imagenet = FeatureTrunk(out / "last.pt").net.state_dict(), FeatureTrunk().net.state_dict()
    assert torch.equal(trained["conv_stem.weight"], imagenet["conv_stem.weight"])
    assert torch.equal(trained["blocks.4.0.conv_pw.weight"], imagenet["blocks.4.0.conv_pw.weight"])
    assert not torch.equal(trained["blocks.5.0.conv_pw.weight"], imagenet["blocks.5.0.conv_pw.weight"])
    vectors = CropEmbedder(weights=out / "last.pt").embed_boxes(np.full((64, 64, 3), 90, np.uint8),
                                                                np.array([[0, 0, 32, 64]], np.float32))
    assert vectors.shape == (1, 1408) and np.isfinite(vectors).all()


@pytest.mark.parametrize("device, message", [
    ("tpu", "expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    ("cuda:x", "expected 'cpu', 'cuda' or 'cuda:N', got 'cuda:x'"),
    ("cuda:99", "expected a CUDA device this torch can see"),
])
def test_a_device_torch_cannot_use_is_refused_before_any_crop_is_cut(tmp_path, capsys, device, message):
    _dataset(tmp_path / "shelves")
    rc = main(["train-embedder", "--data", str(tmp_path / "shelves"), "--device", device, "--out",
               str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert rc == 2 and message in captured.err and "crop bank" not in captured.out
    assert not (tmp_path / "run").exists()


def test_exclude_labels_without_label_files_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["train-embedder", "--data", str(tmp_path), "--exclude-labels", str(tmp_path / "empty")])
    assert rc == 2 and "expected type-label JSON files" in capsys.readouterr().err


def test_thresholds_in_the_wrong_order_are_refused(tmp_path, capsys):
    rc = main(["train-embedder", "--data", str(tmp_path), "--same-cos", "0.7", "--different-cos", "0.8"])
    assert rc == 2 and "expected 0 < different <= same <= 1, got 0.8 / 0.7" in capsys.readouterr().err


def test_type_labels_relate_their_photo_by_its_types_and_leave_it_out_of_data(tmp_path, capsys):
    data, labels, out = tmp_path / "shelves", tmp_path / "labels", tmp_path / "run"
    _dataset(data)
    labels.mkdir()
    boxes = [[20 + j * 45, 50, 55 + j * 45, 150] for j in range(6)]
    # shelf_0 typed by eye: three red (type 0), two blue (type 1), one blue box not judged
    (labels / "shelf_0.json").write_text(json.dumps({"image": "shelf_0.jpg", "boxes": boxes,
                                                     "types": [0, 0, 0, 1, 1, -1]}))
    (labels / "other.json").write_text(json.dumps({"image": "missing.jpg", "boxes": [], "types": []}))
    rc = main(["train-embedder", "--data", str(data), "--type-labels", str(labels), "--type-label-images",
               str(data / "images"), "--type-label-only", "shelf_0", "--max-steps", "1", "--photos-per-step", "2",
               "--crops-per-photo", "4", "--frozen-stages", "6", "--threads", "1", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "shelf_0.json: 5 typed boxes, 2 types" in text and "2 photos, 1 excluded" in text
    summary = json.loads((out / "config.json").read_text())["bank_summary"]
    assert summary["crops"] == 5 + 2 * 6 and summary["photos"] == 3 and summary["typed_photos"] == 1
    rc = main(["train-embedder", "--type-labels", str(labels), "--type-label-images", str(data / "images"),
               "--type-label-only", "shelf_0", "--max-steps", "1", "--photos-per-step", "1", "--crops-per-photo",
               "4", "--frozen-stages", "6", "--threads", "1", "--out", str(tmp_path / "typed_only")])
    assert rc == 0
    summary = json.loads((tmp_path / "typed_only" / "config.json").read_text())["bank_summary"]
    # the typed photo's 5 x 4 ordered pairs: 3 * 2 + 2 * 1 of one type, the other 12 of two types
    assert summary == {"crops": 5, "photos": 1, "typed_photos": 1, "pairs": 20, "same": 8, "different": 12,
                       "left_out": 0}


@pytest.mark.parametrize("argv, message", [
    ([], "expected --data DIR... or --type-labels DIR (or both), got neither"),
    (["--type-labels", "L"], "expected --type-labels and --type-label-images together, got --type-labels alone"),
    (["--data", "D", "--type-label-only", "a"], "--type-label-only expected --type-labels, got none"),
])
def test_type_label_arguments_are_checked(argv, message, capsys):
    assert main(["train-embedder", *argv]) == 2 and message in capsys.readouterr().err


def test_type_label_only_names_a_missing_file(tmp_path, capsys):
    (tmp_path / "a.json").write_text(json.dumps({"image": "a.jpg", "boxes": [], "types": []}))
    rc = main(["train-embedder", "--type-labels", str(tmp_path), "--type-label-images", str(tmp_path),
               "--type-label-only", "b"])
    assert rc == 2 and "none for ['b']" in capsys.readouterr().err


def test_type_labels_without_label_files_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["train-embedder", "--type-labels", str(tmp_path / "empty"), "--type-label-images", str(tmp_path)])
    assert rc == 2 and "--type-labels: expected type-label JSON files" in capsys.readouterr().err


def test_type_labels_from_two_folders(tmp_path, capsys):
    data, out = tmp_path / "shelves", tmp_path / "run"
    _dataset(data)
    boxes = [[20 + j * 45, 50, 55 + j * 45, 150] for j in range(6)]
    for folder, image in (("dev", "shelf_0.jpg"), ("extra", "shelf_1.jpg")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / image.replace(".jpg", ".json")).write_text(
            json.dumps({"image": image, "boxes": boxes, "types": [0, 0, 0, 1, 1, 1]}))
    rc = main(["train-embedder", "--data", str(data), "--type-labels", str(tmp_path / "dev"), str(tmp_path / "extra"),
               "--type-label-images", str(data / "images"), "--max-steps", "1", "--photos-per-step", "2",
               "--crops-per-photo", "4", "--frozen-stages", "6", "--threads", "1", "--out", str(out)])
    assert rc == 0
    assert "1 photos, 2 excluded" in capsys.readouterr().out
    summary = json.loads((out / "config.json").read_text())["bank_summary"]
    assert summary["photos"] == 3 and summary["typed_photos"] == 2 and summary["crops"] == 18


def test_a_photo_typed_in_two_folders_is_refused(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.json").write_text(json.dumps({"image": "x.jpg", "boxes": [], "types": []}))
    rc = main(["train-embedder", "--type-labels", str(tmp_path / "a"), str(tmp_path / "b"), "--type-label-images",
               str(tmp_path)])
    assert rc == 2 and "each photo's label file in one folder only" in capsys.readouterr().err
