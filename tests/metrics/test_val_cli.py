"""`shelfscan val` end to end on the shared grocery-shelves photos (skips when the shared data is absent)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from shelfscan.cli import main
from shelfscan.detections import Detections

data = pytest.importorskip("shelfscan.data")


def val_json(capsys, *argv: str) -> dict:
    assert main(["val", *argv, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # one JSON object, nothing else on stdout
    return json.loads(out[0])


def ground_truth(path) -> dict[str, Detections]:
    return {r.name: r.boxes for r in data.load_dataset(path, check_images=False)}


def test_own_boxes_score_one(shared, tmp_path, capsys):
    path = shared("grocery-shelves")
    gt = ground_truth(path)
    pred_csv = tmp_path / "pred.csv"
    data.write_predictions_csv(pred_csv, gt)
    out = val_json(capsys, "--data", str(path), "--pred", str(pred_csv))
    assert set(out) == {"ap50_95", "ap50", "ap75", "ar300", "count_mae", "count_rmse", "images"}
    assert out["images"] == len(gt) == 11
    for key in ("ap50_95", "ap50", "ap75", "ar300"):
        assert out[key] == pytest.approx(1.0), key
    assert out["count_mae"] == 0 and out["count_rmse"] == 0

    per_class = val_json(capsys, "--data", str(path), "--pred", str(pred_csv), "--per-class", "--max-det", "100")
    assert "ar100" in per_class and "ar300" not in per_class
    assert per_class["per_class"] and all(m["ap50"] == pytest.approx(1.0) for m in per_class["per_class"].values())

    assert main(["val", "--data", str(path), "--pred", str(pred_csv)]) == 0  # readable table
    table = capsys.readouterr().out
    assert "AP50-95" in table and "AR300" in table


def test_shifted_boxes_lose_ap75_not_ap50(shared, tmp_path, capsys):
    path = shared("grocery-shelves")
    gt = ground_truth(path)
    # Shifted right by 10% of the width and down by 10% of the height every box keeps IoU 0.81/1.19 = 0.68 with
    # its true box: above 0.5, below 0.75. (A shift along x alone keeps IoU 0.9/1.1 = 0.82, over 0.75.)
    shifted = {}
    for name, d in gt.items():
        wh = d.xyxy[:, 2:] - d.xyxy[:, :2]
        offset = np.concatenate([wh, wh], 1) * 0.1
        shifted[name] = Detections(d.xyxy + offset, d.scores, d.class_id, d.class_names)
    pred_csv = tmp_path / "shifted.csv"
    data.write_predictions_csv(pred_csv, shifted)
    out = val_json(capsys, "--data", str(path), "--pred", str(pred_csv))
    assert out["ap50"] == pytest.approx(1.0)
    assert out["ap75"] == pytest.approx(0.0)
    assert out["ap50_95"] == pytest.approx(0.4)  # IoU 0.68 passes 0.50, 0.55, 0.60, 0.65
    assert out["count_mae"] == 0


def test_unknown_image_is_a_user_error(shared, tmp_path, capsys):
    path = shared("grocery-shelves")
    pred_csv = tmp_path / "pred.csv"
    data.write_predictions_csv(pred_csv, {"not_a_shelf.jpg": Detections(np.array([[0, 0, 10, 10]]), [0.9])})
    assert main(["val", "--data", str(path), "--pred", str(pred_csv), "--json"]) == 2
    assert "expected image names of the ground truth" in capsys.readouterr().err
