"""CPU training smoke test: a tiny model on a few synthetic shelves; loss goes down; checkpoints reload and predict."""
import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.engine.data import AugmentConfig, ShelfTrainSet, collate
from shelfscan.models.checkpoint import load_detector
from shelfscan.models.detector import DetectorConfig, ShelfDetector


def test_loss_decreases_when_fitting_a_batch():
    torch.manual_seed(0)
    ds = ShelfTrainSet([], AugmentConfig(imgsz=256, crop=160), synthetic=2, seed=0)
    images, boxes, labels = collate([ds[0], ds[1]])
    assert sum(len(b) for b in boxes) > 5
    model = ShelfDetector(DetectorConfig(width=16, head_depth=1, frozen_stages=5), pretrained_backbone=True).train()
    crit = DetectionCriterion(1)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-2)
    losses = []
    for _ in range(10):
        loss = crit(model(images), boxes, labels)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_train_cli_writes_run_and_checkpoint_reloads(tmp_path):
    from shelfscan.cli import main
    from shelfscan.synth import write_synthetic_dataset

    data = tmp_path / "data"
    write_synthetic_dataset(data, 2, seed=1, split="train", width=256)
    write_synthetic_dataset(data, 1, seed=2, split="val", width=256)
    rc = main(["train", "--data", str(data), "--val", str(data), "--epochs", "2", "--batch", "2", "--imgsz", "256",
               "--crop", "128", "--width", "16", "--frozen-stages", "5", "--project", str(tmp_path / "runs"),
               "--name", "t"])
    assert rc == 0
    run = tmp_path / "runs" / "t"
    history = json.loads((run / "metrics.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2] and "val_ap50" in history[-1]
    cfg = json.loads((run / "config.json").read_text())
    from shelfscan.data.formats import load_dataset

    trained_on = load_dataset(data, "train").class_names  # the model's classes are the training split's
    assert cfg["imgsz"] == 256 and cfg["crop"] == 128 and cfg["epochs"] == 2
    assert len(trained_on) >= 1 and cfg["class_names"] == trained_on == cfg["model"]["class_names"]
    model = load_detector(run / "best.pt")
    assert model.config.class_names == trained_on and model.config.width == 16
    from shelfscan.inference import Detector

    d = Detector(model, conf=0.0, max_det=20).predict(np.zeros((100, 120, 3), np.uint8))
    assert len(d) == 20
    # resume continues from the last epoch
    rc = main(["train", "--data", str(data), "--epochs", "3", "--batch", "2", "--imgsz", "256", "--crop", "128",
               "--width", "16", "--frozen-stages", "5", "--project", str(tmp_path / "runs"), "--name", "t",
               "--resume", str(run / "last.pt")])
    assert rc == 0
    assert [h["epoch"] for h in json.loads((run / "metrics.json").read_text())] == [1, 2, 3]


def test_train_cli_lite2_backbone_round_trips_and_init_must_match(tmp_path, capsys):
    """--backbone lite2 builds the larger trunk, the checkpoint remembers it, and --init from it into a Lite0
    model is refused with what was expected and what came."""
    from shelfscan.cli import main
    from shelfscan.synth import write_synthetic_dataset

    data = tmp_path / "data"
    write_synthetic_dataset(data, 2, seed=1, split="train", width=256)
    common = ["--data", str(data), "--epochs", "1", "--batch", "2", "--imgsz", "256", "--crop", "128", "--width",
              "16", "--frozen-stages", "6", "--no-pretrained", "--project", str(tmp_path / "runs")]
    assert main(["train", *common, "--backbone", "lite2", "--name", "l2"]) == 0
    model = load_detector(tmp_path / "runs" / "l2" / "best.pt")
    assert model.config.backbone == "lite2" and model.backbone.out_channels == (48, 120, 352)
    assert main(["train", *common, "--name", "l0", "--init", str(tmp_path / "runs" / "l2" / "best.pt")]) == 2
    assert re.search("expected a checkpoint with the lite0 backbone, got .*best.pt with lite2", capsys.readouterr().err)
