"""Crop bank: which pairs of one photo's products count as the same type, a different one or neither."""
import numpy as np
import pytest

from shelfscan.engine.crop_bank import (DIFFERENT, LEFT_OUT, SAME, BankConfig, box_in_window, build_bank,
                                        cut_windows, pair_relations, usable_boxes)
from shelfscan.errors import InputError


def _unit(*rows):
    v = np.asarray(rows, np.float64)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_pair_relations_by_cosine():
    # cos(a, a') = 0.95 (same), cos(a, b) = 0 (different), cos(a, c) = 0.8 (left out: between the thresholds)
    a, a2 = [1.0, 0.0, 0.0], [0.95, np.sqrt(1 - 0.95 ** 2), 0.0]
    b, c = [0.0, 0.0, 1.0], [0.8, 0.0, 0.6]
    rel = pair_relations(_unit(a, a2, b, c))
    assert rel.dtype == np.int8 and (rel == rel.T).all()
    assert (np.diag(rel) == SAME).all()
    assert rel[0, 1] == SAME and rel[0, 2] == DIFFERENT and rel[0, 3] == LEFT_OUT
    strict = pair_relations(_unit(a, a2, b, c), BankConfig(same_cos=0.99, different_cos=0.5))
    assert strict[0, 1] == LEFT_OUT and strict[0, 3] == LEFT_OUT and strict[2, 3] == LEFT_OUT


def test_pair_relations_rejects_a_vector():
    with pytest.raises(InputError, match="2-d array"):
        pair_relations(np.ones(3))


def test_usable_boxes_keeps_whole_windows_and_caps_the_count():
    cfg = BankConfig(context=0.25, min_side=10, max_boxes=3)
    boxes = np.array([[20, 20, 60, 60],    # kept
                      [2, 20, 42, 60],     # its context leaves the photo
                      [30, 30, 35, 50],    # 5 px wide: too small
                      [100, 20, 140, 60], [150, 20, 190, 60], [100, 100, 140, 140]], np.float64)
    rng = np.random.default_rng(0)
    idx = usable_boxes(boxes, 200, 200, cfg, rng)
    assert set(idx.tolist()) <= {0, 3, 4, 5} and len(idx) == 3 and (np.diff(idx) > 0).all()
    assert set(usable_boxes(boxes, 200, 200, BankConfig(context=0.25, min_side=10), rng).tolist()) == {0, 3, 4, 5}


def test_windows_hold_the_box_where_box_in_window_says():
    cfg = BankConfig(window=64, context=0.25)
    image = np.zeros((100, 100, 3), np.uint8)
    image[30:70, 20:60] = (200, 50, 10)  # the product, 40 x 40
    win = cut_windows(image, np.array([[20, 30, 60, 70]], np.float64), cfg)
    assert win.shape == (1, 64, 64, 3)
    start, end = box_in_window(cfg)  # the box is the central 1 / 1.5 of the window
    assert (start, end) == pytest.approx((64 / 1.5 * 0.25, 64 / 1.5 * 1.25))
    inner = win[0, int(start) + 2:int(end) - 2, int(start) + 2:int(end) - 2]
    assert (inner == (200, 50, 10)).all()
    assert (win[0, :int(start) - 2] == 0).all()


class _FixedEmbedder:
    """Vectors in the order the boxes come: two look-alikes then one other product, per photo."""

    def embed_boxes(self, image, xyxy):
        base = _unit([1, 0, 0], [0.99, 0.14, 0], [0, 1, 0], [0, 0, 1])
        return base[:len(xyxy)]


def test_build_bank_skips_photos_without_two_boxes():
    image = np.full((120, 200, 3), (90, 120, 60), np.uint8)
    three = np.array([[20, 20, 50, 80], [60, 20, 90, 80], [100, 20, 130, 80]], np.float64)
    seen = []
    bank = build_bank([("a.jpg", image, three), ("b.jpg", image, three[:1]), ("c.jpg", image, three[:2])],
                      _FixedEmbedder(), BankConfig(window=32, min_side=8), progress=lambda n, k: seen.append((n, k)))
    assert seen == [("a.jpg", 3), ("b.jpg", 1), ("c.jpg", 2)]
    assert bank.names == ["a.jpg", "c.jpg"] and len(bank) == 5 and bank.windows.shape == (5, 32, 32, 3)
    assert [s.stop - s.start for s in bank.photo_slices()] == [3, 2]
    assert bank.relations[0][0, 1] == SAME and bank.relations[0][0, 2] == DIFFERENT
    assert bank.summary() == {"crops": 5, "photos": 2, "typed_photos": 0, "pairs": 8, "same": 4, "different": 4,
                              "left_out": 0}
    with pytest.raises(InputError, match="at least one photo"):
        build_bank([("b.jpg", image, three[:1])], _FixedEmbedder(), BankConfig(window=32, min_side=8))


def test_grey_photos_are_skipped_and_reported():
    from shelfscan.engine.crop_bank import is_grey

    colour = np.full((120, 200, 3), 90, np.uint8)
    colour[20:80, 20:130] = (200, 40, 40)
    grey = np.repeat(colour.mean(2, keepdims=True).astype(np.uint8), 3, 2)
    assert not is_grey(colour) and is_grey(grey)
    boxes = np.array([[20, 20, 50, 80], [60, 20, 90, 80], [100, 20, 130, 80]], np.float64)
    seen = []
    bank = build_bank([("grey.jpg", grey, boxes), ("colour.jpg", colour, boxes)], _FixedEmbedder(),
                      BankConfig(window=32, min_side=8), progress=lambda n, k: seen.append((n, k)))
    assert bank.names == ["colour.jpg"] and seen == [("grey.jpg", 0), ("colour.jpg", 3)]


def test_label_relations_from_types():
    from shelfscan.engine.crop_bank import label_relations

    rel = label_relations(np.array([0, 0, 1, -1]))
    expected = np.array([[SAME, SAME, DIFFERENT, LEFT_OUT],
                         [SAME, SAME, DIFFERENT, LEFT_OUT],
                         [DIFFERENT, DIFFERENT, SAME, LEFT_OUT],
                         [LEFT_OUT, LEFT_OUT, LEFT_OUT, SAME]], np.int8)
    assert rel.dtype == np.int8 and (rel == expected).all()
    with pytest.raises(InputError, match="1-d integer array"):
        label_relations(np.array([0.0, 1.0]))


def test_build_bank_relates_a_typed_photo_by_its_types_without_the_embedder():
    image = np.full((120, 240, 3), (90, 120, 60), np.uint8)
    four = np.array([[20, 20, 50, 80], [60, 20, 90, 80], [100, 20, 130, 80], [140, 20, 170, 80]], np.float64)
    seen = []
    # the embedder would call boxes 0 and 1 the same (cosine 0.99); the types say different, and box 2 is not judged
    bank = build_bank([("typed.jpg", image, four, np.array([0, 1, -1, 0]))], None,
                      BankConfig(window=32, min_side=8), progress=lambda n, k: seen.append((n, k)))
    assert seen == [("typed.jpg", 3)] and len(bank) == 3
    assert (bank.relations[0] == np.array([[SAME, DIFFERENT, SAME], [DIFFERENT, SAME, DIFFERENT],
                                           [SAME, DIFFERENT, SAME]], np.int8)).all()
    assert (bank.windows[2] == cut_windows(image, four[3:], BankConfig(window=32, min_side=8))[0]).all()
    mixed = build_bank([("typed.jpg", image, four, np.array([0, 1, -1, 0])), ("plain.jpg", image, four[:2])],
                       _FixedEmbedder(), BankConfig(window=32, min_side=8))
    assert mixed.names == ["typed.jpg", "plain.jpg"] and mixed.relations[1][0, 1] == SAME
    with pytest.raises(InputError, match="one type per box"):
        build_bank([("typed.jpg", image, four, np.array([0, 1]))], None, BankConfig(window=32, min_side=8))
