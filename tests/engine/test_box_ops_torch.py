"""shelfscan.engine.box_ops_torch agrees with torchvision and with the numpy box_ops."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from shelfscan.box_ops import box_centres as np_box_centres  # noqa: E402
from shelfscan.box_ops import box_area, paired_intersection  # noqa: E402
from shelfscan.engine.box_ops_torch import box_centres, box_iou, paired_iou  # noqa: E402


def _boxes(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 100
    return torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 30], 1)


def test_paired_iou_is_the_diagonal_of_box_iou():
    a, b = _boxes(64, 0), _boxes(64, 1)
    b[:8] = a[:8]  # some identical pairs
    got = paired_iou(a, b)
    assert torch.allclose(got, box_iou(a, b).diagonal(), atol=1e-6)
    assert torch.allclose(got[:8], torch.ones(8))
    assert ((got >= 0) & (got <= 1)).all()


def test_known_values_and_the_numpy_twins():
    a = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10]])
    assert torch.allclose(paired_iou(a, b), torch.tensor([1.0, 1 / 3]))
    assert torch.equal(box_centres(b), torch.tensor([[5.0, 5], [10, 5]]))
    x, y = _boxes(40, 2), _boxes(40, 3)
    np.testing.assert_array_equal(box_centres(x).numpy(), np_box_centres(x.numpy()))
    inter = paired_intersection(x.numpy(), y.numpy())
    iou = inter / (box_area(x.numpy()) + box_area(y.numpy()) - inter)
    np.testing.assert_allclose(paired_iou(x, y).numpy(), iou, atol=1e-6)
