"""keep_classes: a detector narrowed to some classes predicts exactly what the full one predicts for them."""
import copy
import re

import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.train import export_shipped
from shelfscan.errors import InputError
from shelfscan.models.checkpoint import load_checkpoint, load_detector, save_checkpoint
from shelfscan.models.class_subset import keep_classes
from shelfscan.models.detector import DetectorConfig, ShelfDetector


@pytest.fixture(scope="module")
def three():
    torch.manual_seed(0)
    model = ShelfDetector(DetectorConfig(class_names=["object", "gap", "tag"], width=16, head_depth=1),
                          pretrained_backbone=False).eval()
    with torch.no_grad():  # distinct, non-trivial class channels (the init makes them all nearly equal)
        for head in model.heads:
            head.cls_out.weight.normal_()
            head.cls_out.bias.uniform_(-2, 2)
    return model


def test_kept_classes_give_the_same_outputs(three):
    x = torch.randint(0, 256, (2, 3, 96, 128), dtype=torch.uint8)
    narrowed = keep_classes(three, ["tag", "object"])
    with torch.no_grad():
        full, part = three(x), narrowed(x)
    assert narrowed.config.class_names == ["tag", "object"] and narrowed.num_classes == 2
    assert torch.equal(part["cls_logits"], full["cls_logits"][..., [2, 0]])
    assert torch.equal(part["boxes"], full["boxes"]) and torch.equal(part["iou_logits"], full["iou_logits"])
    assert three.config.class_names == ["object", "gap", "tag"] and three.heads[0].cls_out.out_channels == 3


@pytest.mark.parametrize("names, message", [([], "at least one"), (["shelf"], "unknown ['shelf']"),
                                             (["gap", "gap"], "each class once"),
                                             ("gap", "a list of class names, got the string 'gap'")])
def test_bad_class_lists_say_what_was_expected(three, names, message):
    with pytest.raises(InputError, match=re.escape(message)):
        keep_classes(three, names)


def test_export_shipped_narrows_and_records_the_trained_classes(three, tmp_path):
    best = save_checkpoint(tmp_path / "best.pt", three, history=[{"epoch": 1}])
    out = export_shipped(best, tmp_path / "shipped.pt", classes=["object"], provenance={"commit": "abc"})
    ckpt = load_checkpoint(out)
    assert ckpt["config"]["class_names"] == ["object"] and ckpt["trained_classes"] == ["object", "gap", "tag"]
    assert ckpt["model"]["heads.0.cls_out.weight"].shape[0] == 1 and ckpt["provenance"] == {"commit": "abc"}
    x = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        want = copy.deepcopy(three).half().float()(x)["cls_logits"][..., :1]  # shipped weights are fp16
        got = load_detector(out)(x)["cls_logits"]
    assert torch.allclose(got, want, atol=1e-5)
