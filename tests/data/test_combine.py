"""Pooling several datasets for training: classes joined by name, ids rewritten, duplicates refused."""
import json

import numpy as np
import pytest

from shelfscan.cli import main
from shelfscan.data.combine import concat_datasets
from shelfscan.data.records import Dataset, ImageRecord
from shelfscan.detections import Detections
from shelfscan.errors import InputError


def _ds(root, names, items):
    recs = [ImageRecord(n, root / n, 100, 100, Detections(np.array(b, np.float32).reshape(-1, 4),
                                                          class_id=np.array(c, np.int64), class_names=names))
            for n, b, c in items]
    return Dataset(root, names, recs)


def test_classes_are_matched_by_name(tmp_path):
    a = _ds(tmp_path / "a", ["hat", "shoe"], [("1.jpg", [[0, 0, 5, 5], [1, 1, 9, 9]], [0, 1])])
    b = _ds(tmp_path / "b", ["shoe", "bag"], [("2.jpg", [[2, 2, 6, 6], [3, 3, 8, 8]], [0, 1]),
                                               ("3.jpg", [], [])])
    pooled = concat_datasets([a, b])
    assert pooled.class_names == ["hat", "shoe", "bag"]
    assert [r.name for r in pooled.images] == ["1.jpg", "2.jpg", "3.jpg"]
    assert pooled.images[0].boxes.labels == ["hat", "shoe"]
    assert pooled.images[1].boxes.labels == ["shoe", "bag"]
    assert len(pooled.images[2].boxes) == 0 and pooled.images[2].boxes.class_names == pooled.class_names
    assert pooled.images[1].path == tmp_path / "b" / "2.jpg"
    # the inputs are left as they were
    assert b.images[0].boxes.class_id.tolist() == [0, 1] and b.class_names == ["shoe", "bag"]


def test_same_file_twice_is_refused_and_same_names_are_made_unique(tmp_path):
    a = _ds(tmp_path / "a", ["object"], [("1.jpg", [[0, 0, 5, 5]], [0])])
    b = _ds(tmp_path / "b", ["object"], [("1.jpg", [[1, 1, 5, 5]], [0])])
    pooled = concat_datasets([a, b])  # two different files that share a name: both kept, names unique
    assert [r.name for r in pooled.images] == ["1.jpg", "b/1.jpg"]
    assert [r.path for r in pooled.images] == [tmp_path / "a" / "1.jpg", tmp_path / "b" / "1.jpg"]
    with pytest.raises(InputError, match="each image file in one dataset only"):
        concat_datasets([a, a])
    with pytest.raises(InputError, match="at least one dataset"):
        concat_datasets([])


@pytest.mark.torch
def test_train_pools_several_data_folders(tmp_path, capsys):
    from shelfscan.synth import write_synthetic_dataset

    write_synthetic_dataset(tmp_path / "one", 2, seed=1, split="train", width=192, n_products=(6, 10))
    write_synthetic_dataset(tmp_path / "two", 3, seed=2, split="train", width=192, n_products=(6, 10))
    runs = tmp_path / "runs"
    args = ["train", "--data", str(tmp_path / "one"), str(tmp_path / "two"), "--holdout", "0.4", "--epochs", "1",
            "--batch", "2", "--imgsz", "192", "--crop", "128", "--width", "16", "--frozen-stages", "5",
            "--project", str(runs), "--name", "pool"]
    # both writers name their photos synth_train_<i>.jpg: different files, so both are kept
    assert main(args) == 0
    cfg = json.loads((runs / "pool" / "config.json").read_text())
    assert cfg["data"] == [str(tmp_path / "one"), str(tmp_path / "two")]
    history = json.loads((runs / "pool" / "metrics.json").read_text())
    assert history[-1]["val_images"] == 2  # round(0.4 * (2 + 3)) of the pooled photos held out
    # `val` pools the same folders and re-creates the held-out split of the pooled run
    assert main(["val", "--data", str(tmp_path / "one"), str(tmp_path / "two"), "--split", "train", "--holdout",
                 "0.4", "--model", str(runs / "pool" / "best.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["images"] == 2
    # the same folder twice would train on every photo twice
    assert main(["train", "--data", str(tmp_path / "one"), str(tmp_path / "one"), "--synthetic", "0",
                 "--project", str(runs), "--name", "twice"]) == 2
