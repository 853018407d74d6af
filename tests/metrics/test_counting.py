"""count_errors on hand-made images."""
from __future__ import annotations

import math

import numpy as np
import pytest

from shelfscan.detections import Detections
from shelfscan.errors import InputError
from shelfscan.metrics import count_errors


def boxes(n: int, scores=None) -> Detections:
    xy = np.arange(n, dtype=np.float32)[:, None] * 20
    return Detections(np.concatenate([xy, xy * 0, xy + 10, xy * 0 + 10], 1), scores)


def test_mae_rmse_and_threshold():
    gt = {"a": boxes(3), "b": boxes(5), "c": boxes(2)}
    pred = {"a": boxes(4, [0.9, 0.6, 0.5, 0.4]),  # 3 at >= 0.5: exact
            "b": boxes(2, [0.9, 0.8])}  # 2 of 5; "c" missing: 0 of 2
    out = count_errors(gt, pred, score_threshold=0.5)
    assert out["per_image"] == {"a": (3, 3), "b": (5, 2), "c": (2, 0)}
    assert out["mae"] == pytest.approx((0 + 3 + 2) / 3)
    assert out["rmse"] == pytest.approx(math.sqrt((0 + 9 + 4) / 3))
    assert out["images"] == 3
    assert count_errors(gt, pred, score_threshold=0.45)["per_image"]["a"] == (3, 3)
    assert count_errors(gt, pred, score_threshold=0.3)["per_image"]["a"] == (3, 4)


def test_empty_and_unknown():
    out = count_errors({}, {})
    assert math.isnan(out["mae"]) and math.isnan(out["rmse"]) and out["per_image"] == {}
    with pytest.raises(InputError, match="unknown"):
        count_errors({"a": boxes(1)}, {"b": boxes(1)})
