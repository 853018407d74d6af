"""Class-masked classification loss: a class a photo's dataset does not label teaches nothing on that photo."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.data.combine import concat_datasets
from shelfscan.data.records import Dataset, ImageRecord
from shelfscan.detections import Detections
from shelfscan.engine.augment import PAD_VALUE
from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.engine.data import AugmentConfig, ShelfTrainSet, collate
from shelfscan.engine.train import _load_init
from shelfscan.models.detector import DetectorConfig, ShelfDetector


def _outputs(cls_logits: torch.Tensor) -> dict:
    # 2 images, a 4x4 grid of points 8 px apart, every point predicting the same 12-px box around itself
    ys, xs = torch.meshgrid(torch.arange(4.0), torch.arange(4.0), indexing="ij")
    points = torch.stack([xs.flatten(), ys.flatten()], 1) * 8 + 4
    boxes = torch.cat([points - 6, points + 6], 1)[None].repeat(2, 1, 1)
    return {"cls_logits": cls_logits, "boxes": boxes, "iou_logits": torch.zeros(2, 16), "points": points}


def _targets():
    gt_boxes = [torch.tensor([[0.0, 0.0, 12.0, 12.0], [16.0, 16.0, 30.0, 30.0]]), torch.tensor([[8.0, 8.0, 20.0, 20.0]])]
    gt_labels = [torch.tensor([0, 1]), torch.tensor([0])]  # image 0: a product and a gap; image 1: a product
    return gt_boxes, gt_labels


def test_a_masked_class_loss_does_not_depend_on_its_logits():
    crit = DetectionCriterion(2)
    gt_boxes, gt_labels = _targets()
    mask = torch.tensor([[True, True], [True, False]])  # image 1 comes from a dataset without gap labels
    base = torch.randn(2, 16, 2, generator=torch.Generator().manual_seed(0))
    ref = crit(_outputs(base.clone()), gt_boxes, gt_labels, mask)
    for scale in (-20.0, 0.0, 20.0):
        other = base.clone()
        other[1, :, 1] = scale + torch.randn(16)  # anything at all in the masked class
        got = crit(_outputs(other), gt_boxes, gt_labels, mask)
        for k in ("loss", "cls", "box", "iou"):
            assert torch.allclose(got[k], ref[k]), k
    # and it gets no gradient, while the labelled classes do
    logits = base.clone().requires_grad_(True)
    crit(_outputs(logits), gt_boxes, gt_labels, mask)["loss"].backward()
    assert torch.all(logits.grad[1, :, 1] == 0)
    assert logits.grad[1, :, 0].abs().sum() > 0 and logits.grad[0].abs().sum() > 0


def test_an_all_true_mask_is_the_unmasked_loss_and_a_mask_lowers_only_the_masked_part():
    crit = DetectionCriterion(2)
    gt_boxes, gt_labels = _targets()
    logits = torch.randn(2, 16, 2, generator=torch.Generator().manual_seed(1))
    plain = crit(_outputs(logits), gt_boxes, gt_labels)
    full = crit(_outputs(logits), gt_boxes, gt_labels, torch.ones(2, 2, dtype=torch.bool))
    for k in ("loss", "cls", "box", "iou"):
        assert torch.allclose(plain[k], full[k]), k
    # masking gap on image 1 removes exactly that image's gap-channel BCE (gap is background there)
    masked = crit(_outputs(logits), gt_boxes, gt_labels, torch.tensor([[True, True], [True, False]]))
    removed = torch.nn.functional.binary_cross_entropy_with_logits(logits[1, :, 1], torch.zeros(16), reduction="sum")
    ratio = float((plain["cls"] - masked["cls"]) / removed)  # = 1 / norm, the assigner's score sum clamped to >= 1
    assert 0 < ratio <= 1.0
    assert torch.allclose(plain["box"], masked["box"]) and torch.allclose(plain["iou"], masked["iou"])


def _ds(root, names, items):
    recs = [ImageRecord(n, root / n, 64, 64, Detections(np.array(b, np.float32).reshape(-1, 4),
                                                        class_id=np.array(c, np.int64), class_names=names))
            for n, b, c in items]
    return Dataset(root, names, recs)


def test_pooling_merges_products_and_gaps_of_one_photo_and_records_what_each_labels(tmp_path):
    products = _ds(tmp_path, ["object"], [("a.jpg", [[0, 0, 10, 10]], [0]), ("b.jpg", [[5, 5, 9, 9]], [0])])
    gaps = _ds(tmp_path, ["gap"], [("a.jpg", [[20, 20, 30, 30], [40, 0, 50, 9]], [0, 0])])
    shelf_only = _ds(tmp_path / "sku", ["object"], [("c.jpg", [[1, 1, 4, 4]], [0])])
    pooled = concat_datasets([shelf_only, products, gaps])
    assert pooled.class_names == ["object", "gap"]
    by = pooled.by_name()
    assert sorted(by) == ["a.jpg", "b.jpg", "c.jpg"]
    assert by["a.jpg"].boxes.labels == ["object", "gap", "gap"] and by["a.jpg"].labelled == ("object", "gap")
    assert by["b.jpg"].labelled == ("object",) and by["c.jpg"].labelled == ("object",)
    # the item masks follow: synthetic shelves label the product class only
    ts = ShelfTrainSet(pooled.images, AugmentConfig(imgsz=64, crop=64, color=False, hflip=0.0), synthetic=0,
                       class_names=pooled.class_names)
    for k in range(len(pooled.images)):  # no image files: a blank picture each, through the cache
        ts._cache[k] = np.full((64, 64, 3), PAD_VALUE, np.uint8)
    items = [ts[k] for k in range(len(ts))]
    masks = {pooled.images[k].name: items[k][3].tolist() for k in range(len(ts))}
    assert masks == {"a.jpg": [True, True], "b.jpg": [True, False], "c.jpg": [True, False]}
    images, boxes, labels, mask = collate(items)
    assert mask.shape == (3, 2) and mask.dtype == torch.bool
    synth = ShelfTrainSet([], AugmentConfig(), synthetic=2, class_names=["object", "gap"])
    assert synth.class_masks.tolist() == [[True, False], [True, False]]


def test_init_grows_a_one_class_head_keeping_the_product_channel():
    torch.manual_seed(0)
    old = ShelfDetector(DetectorConfig(class_names=["object"], width=16), pretrained_backbone=False)
    new = ShelfDetector(DetectorConfig(class_names=["object", "gap"], width=16), pretrained_backbone=False)
    fresh_bias = new.heads[0].cls_out.bias.detach().clone()
    ckpt = {"config": old.config.to_dict(), "model": old.state_dict()}
    _load_init(new, ckpt, "old.pt")
    for h_old, h_new in zip(old.heads, new.heads):
        assert torch.equal(h_new.cls_out.weight[0], h_old.cls_out.weight[0])
        assert torch.equal(h_new.cls_out.bias[0], h_old.cls_out.bias[0])
        assert torch.equal(h_new.reg_out.weight, h_old.reg_out.weight)
    assert torch.isclose(new.heads[0].cls_out.bias[1], fresh_bias[1])  # the prior-probability bias
    assert abs(float(fresh_bias[1]) - float(-np.log(99))) < 1e-5
