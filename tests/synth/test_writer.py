"""write_synthetic_dataset and `shelfscan synth`: SKU-110K layout on disk."""
from __future__ import annotations

import csv
import re

import pytest

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")

from shelfscan.cli import main  # noqa: E402
from shelfscan.synth import Catalog, image_seed, write_synthetic_dataset  # noqa: E402


def _read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_is_sku110k_layout(tmp_path, small_catalog: Catalog) -> None:
    csv_path = write_synthetic_dataset(tmp_path, 2, seed=4, split="val", width=256, catalog=small_catalog)
    assert csv_path == tmp_path / "annotations" / "annotations_val.csv"
    rows = _read_rows(csv_path)
    names = {p.name for p in (tmp_path / "images").iterdir()}
    assert names == {"synth_val_0.jpg", "synth_val_1.jpg"}
    per_image = {}
    for row in rows:
        assert len(row) == 8
        name, x1, y1, x2, y2, cls, w, h = row
        x1, y1, x2, y2, w, h = map(int, (x1, y1, x2, y2, w, h))
        assert re.fullmatch(r"sku_\d+", cls) and int(cls[4:]) < len(small_catalog)
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        per_image[name] = per_image.get(name, 0) + 1
        img = cv2.imread(str(tmp_path / "images" / name))
        assert img.shape[:2] == (h, w)
    assert set(per_image) == names
    assert all(50 <= n <= 300 for n in per_image.values())


def test_splits_get_different_seeds() -> None:
    assert image_seed(0, "train", 0) != image_seed(0, "val", 0)
    assert image_seed(0, "train", 0) != image_seed(0, "train", 1)
    assert image_seed(3, "test", 2) == image_seed(3, "test", 2)


def test_cli_writes_n_images(tmp_path, capsys) -> None:
    out = tmp_path / "synth"
    rc = main(["synth", "--out", str(out), "--images", "3", "--seed", "1", "--imgsz", "192", "--skus", "30"])
    assert rc == 0
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"synth_train_{i}.jpg" for i in range(3)]
    rows = _read_rows(out / "annotations" / "annotations_train.csv")
    assert {r[0] for r in rows} == {f"synth_train_{i}.jpg" for i in range(3)}
    printed = capsys.readouterr().out
    assert f"{len(rows)} boxes" in printed and str(out) in printed


def test_cli_default_skus_matches_catalog() -> None:
    from shelfscan.cli import synth as synth_cli
    from shelfscan.synth import catalog

    assert synth_cli.DEFAULT_SKUS == catalog.DEFAULT_SKUS


@pytest.mark.parametrize("argv", [["--images", "0", "--seed", "1"], ["--images", "2", "--seed", "1",
                                                                         "--imgsz", "32"]])
def test_cli_rejects_bad_numbers(tmp_path, capsys, argv) -> None:
    assert main(["synth", "--out", str(tmp_path / "x"), *argv]) == 2
    assert "expected" in capsys.readouterr().err
