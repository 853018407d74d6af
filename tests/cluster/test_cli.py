"""``shelfscan cluster CROPS_DIR --out clusters.csv``: folder in, image,cluster CSV out."""
from __future__ import annotations

import csv
import functools

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from shelfscan.cli import main


@pytest.fixture
def crops_dir(tmp_path):
    """12 product photos of 3 synthetic SKUs in nested folders, a broken file, and a labels CSV."""
    cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra)")
    from shelfscan.annotate import save_rgb
    from shelfscan.synth import Catalog

    rng = np.random.default_rng(0)
    fronts = Catalog.random(21, n_skus=3).textures
    root = tmp_path / "crops"
    labels = [("image", "product")]
    for sku, front in enumerate(fronts):
        for v in range(4):
            scale = rng.uniform(0.5, 1.0)
            img = cv2.resize(front, (int(front.shape[1] * scale), int(front.shape[0] * scale)))
            img = np.clip(img * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)
            rel = f"{'ab'[v % 2]}/{'deep/' if v == 3 else ''}sku{sku}_{v}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            save_rgb(root / rel, img)
            labels.append((rel, f"sku{sku}"))
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows(labels)
    return root


@pytest.fixture
def torch_embedder(monkeypatch):
    """The CLI's embedder on the PyTorch backend where torch is installed; the core install keeps its own (ONNX)."""
    import importlib.util

    import shelfscan.embed

    if importlib.util.find_spec("torch") is None:
        return

    monkeypatch.setattr(shelfscan.embed, "CropEmbedder",
                        functools.partial(shelfscan.embed.CropEmbedder, backend="torch"))


def test_cluster_writes_relative_paths_and_finds_the_products(crops_dir, tmp_path, capsys, torch_embedder):
    out = tmp_path / "clusters.csv"
    rc = main(["cluster", str(crops_dir), "--out", str(out), "--input-size", "96",
               "--labels", str(tmp_path / "labels.csv")])
    assert rc == 0
    rows = list(csv.reader(open(out)))
    assert rows[0] == ["image", "cluster"]
    truth = dict(list(csv.reader(open(tmp_path / "labels.csv")))[1:])
    got = {image: int(c) for image, c in rows[1:]}
    assert sorted(got) == sorted(truth)  # every readable photo, relative to CROPS_DIR; broken.jpg left out
    assert adjusted_rand_score([truth[k] for k in got], list(got.values())) == pytest.approx(1.0)
    captured = capsys.readouterr()
    assert "12 crops -> 3 types" in captured.out and "ARI 1.000" in captured.out
    assert "broken.jpg" in captured.err


def test_cluster_kmeans_with_k(crops_dir, tmp_path, torch_embedder):
    out = tmp_path / "k.csv"
    assert main(["cluster", str(crops_dir), "--out", str(out), "--method", "kmeans", "--k", "2",
                 "--input-size", "64"]) == 0
    assert {r[1] for r in list(csv.reader(open(out)))[1:]} == {"0", "1"}


def test_cluster_missing_folder_is_a_user_error(tmp_path, capsys, torch_embedder):
    assert main(["cluster", str(tmp_path / "nope"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "expected a folder of product photos" in capsys.readouterr().err
