"""The shipped-model table's words: what each model's boxes are called (models/shipped.py)."""
import pytest

from shelfscan.models.shipped import SHIPPED_MODELS, class_noun, model_noun


def test_table_nouns():
    assert SHIPPED_MODELS["shelf"].noun == "products" and SHIPPED_MODELS["apparel"].noun == "items"
    assert model_noun(None, ["anything", "else"]) == "products"  # None: the default (shelf) model
    assert model_noun("apparel", ["object"]) == "items"  # a shipped name: the table decides


@pytest.mark.parametrize("names,noun", [(["object"], "products"), (["object", "gap"], "products"),
                                        (["gap"], "products"), (["shirt", "shoe", "bag"], "items"),
                                        (["cola", "gap", "water"], "items")])
def test_custom_models_by_their_classes(names, noun):
    assert class_noun(names) == noun
    assert model_noun("runs/train/x/best.pt", names) == noun


def test_detector_noun_and_count_words():
    torch = pytest.importorskip("torch")
    import numpy as np

    from shelfscan.counting import count
    from shelfscan.inference import Detector
    from shelfscan.models.detector import DetectorConfig, ShelfDetector

    torch.manual_seed(0)
    nouns = {}
    for names in (["object", "gap"], ["shirt", "shoe"]):
        net = ShelfDetector(DetectorConfig(class_names=names, width=16, head_depth=1, imgsz=128),
                            pretrained_backbone=False)
        det = Detector(net, conf=0.0, max_det=6)
        sc = count(np.random.default_rng(0).integers(0, 255, (128, 96, 3), dtype=np.uint8), detector=det, conf=0.0,
                   confirm_below=0.0)
        nouns[names[0]] = det.noun
        assert sc.noun == det.noun and sc.table().splitlines()[0].startswith(f"image: {sc.total} {det.noun}")
        assert sc.summary().startswith(f"{sc.total} {det.noun}, ")
    assert nouns == {"object": "products", "shirt": "items"}
