"""Seeded held-out splits and class-balanced repeat factors."""
import numpy as np
import pytest

from shelfscan.data import Dataset, ImageRecord, holdout_split, repeat_factors
from shelfscan.detections import Detections
from shelfscan.errors import InputError


def _dataset(n: int, labels_of=lambda i: [i % 3]) -> Dataset:
    names = ["a", "b", "c"]
    recs = []
    for i in range(n):
        lab = np.array(labels_of(i), np.int64)
        boxes = Detections(xyxy=np.tile(np.array([[0, 0, 10, 10]], np.float32), (len(lab), 1)), class_id=lab,
                           class_names=names)
        recs.append(ImageRecord(f"img_{i:03d}.jpg", None, 20, 20, boxes))
    return Dataset(None, names, recs)


def test_holdout_is_disjoint_complete_and_sized():
    train, held = holdout_split(_dataset(100), 0.15, seed=0)
    assert len(held) == 15 and len(train) == 85
    assert not {r.name for r in train} & {r.name for r in held}
    assert {r.name for r in train} | {r.name for r in held} == {f"img_{i:03d}.jpg" for i in range(100)}
    assert held.class_names == ["a", "b", "c"]


def test_holdout_depends_on_names_and_seed_not_on_listing_order():
    ds = _dataset(50)
    _, held = holdout_split(ds, 0.2, seed=3)
    ds.images.reverse()
    _, held_rev = holdout_split(ds, 0.2, seed=3)
    assert [r.name for r in held] == [r.name for r in held_rev]
    _, other = holdout_split(ds, 0.2, seed=4)
    assert {r.name for r in other} != {r.name for r in held}


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 0.001])
def test_holdout_rejects_fractions_that_leave_a_side_empty(fraction):
    with pytest.raises(InputError, match="holdout fraction"):
        holdout_split(_dataset(10), fraction)


def test_repeat_factors_favour_rare_classes():
    # class 2 in 1 image of 20, class 0 in all: threshold 0.3 -> r(2) = sqrt(0.3 / 0.05) = 2.449
    ds = _dataset(20, labels_of=lambda i: [0, 2] if i == 0 else [0])
    r = repeat_factors(ds, threshold=0.3)
    assert r.shape == (20,)
    assert r[0] == pytest.approx(np.sqrt(6.0)) and np.all(r[1:] == 1.0)
