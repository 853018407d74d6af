"""The embedder's within-photo contrastive loss, against values worked out by hand."""
import math

import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.crop_bank import DIFFERENT, LEFT_OUT, SAME
from shelfscan.engine.shelf_contrast import batch_relations, shelf_contrastive_loss
from shelfscan.errors import InputError


def _rel(rows):
    return torch.tensor(rows, dtype=torch.int8)


def test_two_different_crops_by_hand():
    z = torch.eye(2, dtype=torch.float64)  # two orthogonal crops, both views identical
    rel = _rel([[SAME, DIFFERENT], [DIFFERENT, SAME]])
    # anchor view 0: positive its other view (cos 1), negatives both views of crop 1 (cos 0)
    expected = -math.log(math.exp(10) / (math.exp(10) + 2))
    assert float(shelf_contrastive_loss(z, z, rel, 0.1)) == pytest.approx(expected, rel=1e-5)


def test_a_same_pair_is_a_positive_and_left_out_pairs_count_for_nothing():
    z = torch.eye(3, dtype=torch.float64)
    rel = _rel([[SAME, SAME, DIFFERENT], [SAME, SAME, DIFFERENT], [DIFFERENT, DIFFERENT, SAME]])
    # anchor view 0: positives views 3 (cos 1), 1 and 4 (crop 1, cos 0); negatives views 2 and 5 (cos 0)
    denom = math.exp(10) + 4
    crop01 = -(math.log(math.exp(10) / denom) + 2 * math.log(1 / denom)) / 3
    crop2 = -math.log(math.exp(10) / denom)  # positive: its own other view; negatives: crops 0 and 1
    expected = (4 * crop01 + 2 * crop2) / 6
    assert float(shelf_contrastive_loss(z, z, rel, 0.1)) == pytest.approx(expected, rel=1e-5)
    # crop 2 left out against crop 1: crop 1's anchors lose two negatives, crop 2's two
    rel2 = rel.clone()
    rel2[1, 2] = rel2[2, 1] = LEFT_OUT
    assert float(shelf_contrastive_loss(z, z, rel2, 0.1)) != pytest.approx(expected, rel=1e-5)


def test_no_different_pair_gives_zero_and_a_gradient():
    z1 = torch.nn.functional.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    loss = shelf_contrastive_loss(z1, z1.detach(), _rel([[SAME, LEFT_OUT, LEFT_OUT]] * 3), 0.1)
    loss.backward()
    assert float(loss.detach()) == 0.0 and z1.grad is not None


def test_lowering_the_loss_pulls_same_together_and_pushes_different_apart():
    torch.manual_seed(0)
    x = torch.randn(4, 8, requires_grad=True)
    rel = _rel([[SAME, SAME, DIFFERENT, DIFFERENT], [SAME, SAME, DIFFERENT, DIFFERENT],
                [DIFFERENT, DIFFERENT, SAME, LEFT_OUT], [DIFFERENT, DIFFERENT, LEFT_OUT, SAME]])
    opt = torch.optim.SGD([x], lr=0.5)
    for _ in range(50):
        z = torch.nn.functional.normalize(x, dim=1)
        loss = shelf_contrastive_loss(z, z, rel, 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
    z = torch.nn.functional.normalize(x.detach(), dim=1)
    cos = z @ z.T
    assert cos[0, 1] > 0.9 and cos[0, 2] < 0 and cos[1, 3] < 0


def test_batch_relations_keeps_photos_apart():
    a, b = _rel([[SAME, DIFFERENT], [DIFFERENT, SAME]]), _rel([[SAME, SAME, SAME]] * 3)
    rel = batch_relations([a, b], [2, 2])  # the second photo: its first two crops only
    assert rel.shape == (4, 4) and rel.dtype == torch.int8
    assert (rel[:2, :2] == a).all() and (rel[2:, 2:] == SAME).all() and (rel[:2, 2:] == LEFT_OUT).all()


def test_shape_mismatch_is_an_input_error():
    with pytest.raises(InputError, match="relation"):
        shelf_contrastive_loss(torch.eye(2), torch.eye(2), _rel([[SAME]]))
