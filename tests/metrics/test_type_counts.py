"""RPC per-type count metrics and cluster-to-label matching on hand-made tables."""
from __future__ import annotations

import pytest

from shelfscan.errors import InputError
from shelfscan.metrics import match_clusters, type_count_metrics


def test_rpc_metrics_by_hand():
    true = [{"cola": 2, "chips": 1}, {"cola": 1}, {"chips": 3}]
    pred = [{"cola": 2, "chips": 1}, {"cola": 2, "gum": 1}, {"chips": 1}]
    out = type_count_metrics(true, pred)
    # |P-G| per image: 0; 1 (cola) + 1 (gum); 2 (chips)
    assert out["cacc"] == pytest.approx(1 / 3)
    assert out["acd"] == pytest.approx((0 + 2 + 2) / 3)
    # cola: sum|P-G| 1 / sum G 3; chips: 2 / 4; gum has no true item: left out
    assert out["mccd"] == pytest.approx((1 / 3 + 2 / 4) / 2)
    # cola: min 3 / max 4; chips: min 2 / max 4; gum: 0 / 1
    assert out["mciou"] == pytest.approx((3 / 4 + 2 / 4 + 0) / 3)
    assert out["images"] == 3 and out["types"] == 3


def test_perfect_counts():
    tables = [{"a": 1, "b": 4}, {}, {"c": 2}]
    out = type_count_metrics(tables, [dict(t) for t in tables])
    assert (out["cacc"], out["acd"], out["mccd"], out["mciou"]) == (1.0, 0.0, 0.0, 1.0)


def test_bad_tables():
    with pytest.raises(InputError, match="as many"):
        type_count_metrics([{"a": 1}], [])
    with pytest.raises(InputError, match="integer >= 0"):
        type_count_metrics([{"a": 1}], [{"a": -2}])


def test_match_clusters_hungarian():
    true = ["cola"] * 4 + ["chips"] * 3 + ["gum"] * 2
    # cluster 5 is mostly cola, 8 is chips, 9 one more cola; -1 is noise (gum appears only there)
    clusters = [5, 5, 5, 9, 8, 8, 5, -1, -1]
    assert match_clusters(true, clusters) == {5: "cola", 8: "chips", 9: None, -1: None}
    # cluster 0 holds a,a,a,b,b and cluster 1 a,a. Greedy would give 0 -> a (3) and 1 -> b (0 shared);
    # the assignment maximising the total is 0 -> b (2) and 1 -> a (2)
    assert match_clusters(list("aaabbaa"), [0, 0, 0, 0, 0, 1, 1]) == {0: "b", 1: "a"}


def test_more_clusters_than_labels():
    m = match_clusters([0, 0, 1, 1, 1], [10, 11, 12, 12, 13])
    assert m[12] == 1 and list(m.values()).count(None) == 2 and sorted(m) == [10, 11, 12, 13]
