"""`shelfscan detect --classes` with a tiny random two-class (product, gap) model: filtering, CSV class column,
gaps drawn in --save-images."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install
from PIL import Image

from shelfscan.cli import main
from shelfscan.data.predictions import read_predictions_csv
from shelfscan.models.checkpoint import save_checkpoint
from shelfscan.models.detector import DetectorConfig, ShelfDetector


@pytest.fixture(scope="module")
def two_class_model(tmp_path_factory):
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["object", "gap"], width=16, head_depth=1, imgsz=128),
                        pretrained_backbone=False)
    with torch.no_grad():  # both classes score alike, so both appear among the top boxes
        for head in net.heads:
            head.cls_out.bias.fill_(0.0)
    return save_checkpoint(tmp_path_factory.mktemp("m") / "two.pt", net)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "shelf.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
    return path


def _detect(model, photo, out, *extra):
    assert main(["detect", str(photo), "--out", str(out), "--model", str(model), "--conf", "0.0",
                 "--max-det", "60", "--runtime", "torch", *extra]) == 0
    return read_predictions_csv(out)["shelf.jpg"]


def test_classes_filter_and_class_column(two_class_model, photo, tmp_path, capsys):
    both = _detect(two_class_model, photo, tmp_path / "all.csv", "--save-images", str(tmp_path / "vis"))
    assert set(both.labels) == {"object", "gap"}  # default: every class, named in the class column
    out = capsys.readouterr().out
    n_gaps = both.labels.count("gap")
    assert f"shelf.jpg: {len(both) - n_gaps} products, {n_gaps} gap" in out
    assert (tmp_path / "vis" / "shelf.jpg").is_file()
    gaps = _detect(two_class_model, photo, tmp_path / "g.csv", "--classes", "gap")
    assert len(gaps) == n_gaps and set(gaps.labels) == {"gap"}
    products = _detect(two_class_model, photo, tmp_path / "p.csv", "--classes", "product")
    assert len(products) == len(both) - n_gaps and set(products.labels) == {"object"}
    explicit = _detect(two_class_model, photo, tmp_path / "pg.csv", "--classes", "product,gap")
    assert len(explicit) == len(both)


def test_unknown_class_is_an_error(two_class_model, photo, tmp_path, capsys):
    rc = main(["detect", str(photo), "--out", str(tmp_path / "x.csv"), "--model", str(two_class_model),
               "--classes", "shelf", "--runtime", "torch"])
    assert rc != 0
    assert "--classes" in capsys.readouterr().err
