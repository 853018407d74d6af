"""Per-class loss weights: a class with few boxes per photo (gap) can be given a larger share of the gradient."""
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.cli import build_parser
from shelfscan.cli.train import train_config
from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.engine.train import class_weights
from shelfscan.engine.train_config import TrainConfig
from shelfscan.errors import InputError


def _outputs(cls_logits: torch.Tensor, iou_logits: torch.Tensor | None = None) -> dict:
    # 2 images, a 4x4 grid of points 8 px apart, every point predicting the same 12-px box around itself
    ys, xs = torch.meshgrid(torch.arange(4.0), torch.arange(4.0), indexing="ij")
    points = torch.stack([xs.flatten(), ys.flatten()], 1) * 8 + 4
    boxes = torch.cat([points - 6, points + 6], 1)[None].repeat(2, 1, 1)
    iou = torch.zeros(2, 16) if iou_logits is None else iou_logits
    return {"cls_logits": cls_logits, "boxes": boxes, "iou_logits": iou, "points": points}


GT_BOXES = [torch.tensor([[0.0, 0.0, 12.0, 12.0], [16.0, 16.0, 30.0, 30.0]]), torch.tensor([[8.0, 8.0, 20.0, 20.0]])]
GT_LABELS = [torch.tensor([0, 1]), torch.tensor([0])]  # image 0: a product and a gap; image 1: a product


def _logits(seed: int) -> torch.Tensor:
    return torch.randn(2, 16, 2, generator=torch.Generator().manual_seed(seed))


def test_weights_of_one_are_the_unweighted_loss():
    logits = _logits(0)
    plain = DetectionCriterion(2)(_outputs(logits), GT_BOXES, GT_LABELS)
    ones = DetectionCriterion(2, class_weights=[1.0, 1.0])(_outputs(logits), GT_BOXES, GT_LABELS)
    for k in ("loss", "cls", "box", "iou"):
        assert torch.allclose(plain[k], ones[k]), k


def test_a_weight_scales_exactly_its_channels_classification_gradient():
    base = _logits(1)
    grads = []
    for weights in (None, [1.0, 3.0]):
        logits = base.clone().requires_grad_(True)
        DetectionCriterion(2, class_weights=weights)(_outputs(logits), GT_BOXES, GT_LABELS)["loss"].backward()
        grads.append(logits.grad)
    plain, weighted = grads
    assert torch.allclose(weighted[..., 1], 3.0 * plain[..., 1])  # the gap channel, on every point
    assert torch.allclose(weighted[..., 0], plain[..., 0])        # the product channel unchanged


def test_a_weight_scales_the_box_and_iou_losses_of_its_points_only():
    logits, iou = _logits(2), torch.randn(2, 16, generator=torch.Generator().manual_seed(3))
    crit = DetectionCriterion(2)
    plain = crit(_outputs(logits, iou), GT_BOXES, GT_LABELS)
    gap_heavy = DetectionCriterion(2, class_weights=[1.0, 5.0])(_outputs(logits, iou), GT_BOXES, GT_LABELS)
    product_heavy = DetectionCriterion(2, class_weights=[5.0, 1.0])(_outputs(logits, iou), GT_BOXES, GT_LABELS)
    # both classes have assigned points, so each weighting raises the box loss, by different amounts
    assert gap_heavy["box"] > plain["box"] and product_heavy["box"] > plain["box"]
    assert not torch.allclose(gap_heavy["box"], product_heavy["box"])
    # the two parts add up: (1 + 4·gap part) + (1 + 4·product part) = 2·plain + 4·plain
    assert torch.allclose(gap_heavy["box"] + product_heavy["box"], 6 * plain["box"], rtol=1e-5)
    assert torch.allclose(gap_heavy["iou"] + product_heavy["iou"], 6 * plain["iou"], rtol=1e-5)


@pytest.mark.parametrize("weights", [[1.0], [1.0, 0.0], [1.0, -2.0], [1.0, float("nan")]])
def test_bad_weights_are_refused_with_what_was_expected(weights):
    with pytest.raises(InputError, match="2 positive numbers"):
        DetectionCriterion(2, class_weights=weights)


def test_train_maps_weights_by_class_name_and_refuses_unknown_names():
    assert class_weights(TrainConfig(), ["object", "gap"]) is None
    assert class_weights(TrainConfig(class_weights={"gap": 4.0}), ["object", "gap"]) == [1.0, 4.0]
    with pytest.raises(InputError, match=r"unknown \['gaps'\]"):
        class_weights(TrainConfig(class_weights={"gaps": 4.0}), ["object", "gap"])


def test_the_cli_flag_parses_name_weight_pairs():
    args = build_parser().parse_args(["train", "--class-weight", "gap=4", "object=0.5"])
    assert train_config(args).class_weights == {"gap": 4.0, "object": 0.5}
    for bad in ("gap", "gap=", "gap=-1", "=3", "gap=x"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["train", "--class-weight", bad])
    with pytest.raises(InputError, match="more than once"):
        train_config(build_parser().parse_args(["train", "--class-weight", "gap=4", "gap=2"]))
