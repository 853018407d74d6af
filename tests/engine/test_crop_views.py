"""Random views of stored crops: the box from its window, moved, relit, blurred or mirrored."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.crop_bank import BankConfig, box_in_window
from shelfscan.engine.crop_views import ViewConfig, jittered_boxes, random_views

STILL = ViewConfig(size=32, shift=0.0, scale=(1.0, 1.0), brightness=(1.0, 1.0), contrast=(1.0, 1.0),
                   channel_gain=0.0, low_res=0.0, flip=0.0)


def _windows():
    cfg = BankConfig(window=48, context=0.25)
    start, end = box_in_window(cfg)  # 8 .. 40
    w = np.zeros((2, 48, 48, 3), np.uint8)
    w[:, int(start):int(end), int(start):int(end)] = (200, 100, 50)
    w[1, int(start):int(end), int(start):24] = (10, 20, 30)  # crop 1: left half of its box another colour
    return torch.from_numpy(w), (start, end)


def test_a_still_view_is_the_box_itself():
    windows, box = _windows()
    out = random_views(windows, box, STILL, torch.Generator().manual_seed(0))
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.float32
    # bilinear sampling blends the outermost pixel row with the context: compare inside it
    assert torch.allclose(out[0, :, 1:-1, 1:-1], torch.tensor([200.0, 100.0, 50.0]).view(3, 1, 1), atol=1e-3)
    assert torch.allclose(out[1, :, 1:-1, 1:14], torch.tensor([10.0, 20.0, 30.0]).view(3, 1, 1), atol=1e-3)
    assert torch.allclose(out[1, :, 1:-1, 18:-1], torch.tensor([200.0, 100.0, 50.0]).view(3, 1, 1), atol=1e-3)


def test_mirror_and_light_change_the_view():
    windows, box = _windows()
    flipped = random_views(windows, box, ViewConfig(**{**STILL.__dict__, "flip": 1.0}), torch.Generator())
    assert torch.allclose(flipped[1, :, 1:-1, -14:-1], torch.tensor([10.0, 20.0, 30.0]).view(3, 1, 1), atol=1e-3)
    lit = random_views(windows, box, ViewConfig(**{**STILL.__dict__, "brightness": (0.5, 0.5)}), torch.Generator())
    assert torch.allclose(lit[0, :, 1:-1, 1:-1], torch.tensor([100.0, 50.0, 25.0]).view(3, 1, 1), atol=1e-3)


def test_views_are_random_but_reproducible_and_in_range():
    windows, box = _windows()
    cfg = ViewConfig(size=32)
    a = random_views(windows, box, cfg, torch.Generator().manual_seed(1))
    b = random_views(windows, box, cfg, torch.Generator().manual_seed(1))
    c = random_views(windows, box, cfg, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= 0 and float(a.max()) <= 255


def test_jittered_boxes_stay_within_their_ranges():
    boxes = jittered_boxes(1000, (10.0, 50.0), ViewConfig(shift=0.05, scale=(0.9, 1.1)), torch.Generator())
    centre, side = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
    assert float((centre - 30).abs().max()) <= 40 * 0.05 + 1e-4
    assert 36 - 1e-4 <= float(side.min()) and float(side.max()) <= 44 + 1e-4
