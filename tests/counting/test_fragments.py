"""Packs cut off by the photo's edge join the type they resemble instead of becoming types of their own."""
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from shelfscan.counting import group_products
from shelfscan.counting.fragments import absorb_edge_fragments, touches_border
from shelfscan.errors import InputError


def test_touches_border():
    boxes = np.array([[0, 10, 20, 30], [10, 10, 20, 20], [90, 10, 99, 20], [10, 1.5, 20, 20], [10, 10, 20, 48.5]])
    assert touches_border(boxes, 100, 50).tolist() == [True, False, True, True, True]


def _dist(groups, n):
    """Distances 0.3 inside each group of indices, 3.0 elsewhere."""
    d = np.full((n, n), 3.0)
    for g in groups:
        d[np.ix_(g, g)] = 0.3
    np.fill_diagonal(d, 0.0)
    return d


def test_border_only_small_types_join_the_nearest_anchored_type():
    # type 0: boxes 0-2 (inside); type 1: box 3 (border, near type 0); type 2: box 4 (border, near nothing);
    # type 3: boxes 5-6 (one inside, one at the border): anchored, left alone; box 7 unassigned at the border
    labels = np.array([0, 0, 0, 1, 2, 3, 3, -1])
    at_border = np.array([False, False, False, True, True, False, True, True])
    d = _dist([[0, 1, 2], [5, 6]], 8)
    d[3, :3] = d[:3, 3] = 1.2   # within 1.5 x the cut of 1.0
    d[7, :3] = d[:3, 7] = 0.5   # unassigned boxes are never moved
    out = absorb_edge_fragments(labels, d, at_border, threshold=1.0)
    assert out.tolist() == [0, 0, 0, 0, 2, 1, 1, -1]
    # a stricter factor keeps box 3 on its own
    kept = absorb_edge_fragments(labels, d, at_border, threshold=1.0, factor=1.1)
    assert len(set(kept.tolist()) - {-1}) == 4
    with pytest.raises(InputError, match="shape"):
        absorb_edge_fragments(labels, d[:3], at_border, threshold=1.0)


def test_nothing_to_absorb_returns_the_labels_unchanged():
    labels = np.array([0, 0, 1])
    out = absorb_edge_fragments(labels, _dist([[0, 1]], 3), np.array([False, False, False]), threshold=1.0)
    assert out is labels


def test_group_products_absorbs_cut_packs_on_a_synthetic_shelf():
    pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra)")
    from shelfscan.synth import render_shelf

    image, truth = render_shelf(1003, width=1024)  # two SKUs have a single pack cut by the photo's edge
    names = truth.labels
    # the cut packs stay apart with the plain distance cut at 1.0 (the shared-neighbour default already joins them)
    grouping = {"neighbours": 0, "distance_threshold": 1.0, "keep_pixels": False}
    plain = group_products(image, truth, absorb_edges=False, **grouping)
    absorbed = group_products(image, truth, **grouping)
    assert absorbed.num_types < plain.num_types
    ari = [adjusted_rand_score(names, r.detections.data["cluster_id"]) for r in (plain, absorbed)]
    assert ari[1] > ari[0], ari
    assert absorbed.total == plain.total == len(truth)
    # a k given by the user is kept as given
    fixed = group_products(image, truth, keep_pixels=False, k=plain.num_types)
    assert fixed.num_types == plain.num_types
