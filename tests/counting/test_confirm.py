"""Weak detections are counted only when they look like a type formed by the well-scored boxes."""
import numpy as np
import pytest

from shelfscan.counting.confirm import DROPPED, confirm_weak
from shelfscan.errors import InputError


def _dist(groups, n, inside=0.3, outside=3.0):
    d = np.full((n, n), outside)
    for g in groups:
        d[np.ix_(g, g)] = inside
    np.fill_diagonal(d, 0.0)
    return d


def test_weak_boxes_join_the_type_they_resemble_or_are_dropped():
    # strong: boxes 0-1 (type 0), 2-4 (type 1), 5 unassigned; weak: 6 looks like type 0, 7 like nothing
    strong = np.array([True] * 6 + [False] * 2)
    labels = np.array([0, 0, 1, 1, 1, -1, 99, 99])
    d = _dist([[0, 1, 6], [2, 3, 4]], 8)
    out = confirm_weak(labels, d, strong, threshold=1.0)
    # type of boxes 0, 1, 6 grows to 3 and ties with 2-4; ties keep first appearance: it stays type 0
    assert out.tolist() == [0, 0, 1, 1, 1, -1, 0, DROPPED]
    # a weak box two types away on average is dropped, not forced into one
    d2 = _dist([[0, 1], [2, 3, 4]], 8)
    d2[6, :2] = d2[:2, 6] = 1.2
    assert confirm_weak(labels, d2, strong, threshold=1.0)[6] == DROPPED
    assert confirm_weak(labels, d2, strong, threshold=1.5)[6] == 0


def test_types_are_renumbered_by_size_after_weak_boxes_join():
    strong = np.array([True, True, True, False, False])
    labels = np.array([0, 0, 1, 0, 0])
    out = confirm_weak(labels, _dist([[0, 1], [2, 3, 4]], 5), strong, 1.0)
    assert out.tolist() == [1, 1, 0, 0, 0]


def test_no_strong_type_drops_every_weak_box():
    out = confirm_weak(np.zeros(3, np.int64), _dist([[0, 1, 2]], 3), np.zeros(3, bool), 1.0)
    assert (out == DROPPED).all()


def test_confirm_weak_checks_shapes():
    with pytest.raises(InputError, match="expected shape"):
        confirm_weak(np.zeros(3), np.zeros((2, 2)), np.ones(3, bool), 1.0)
