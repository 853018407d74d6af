"""``EvalConfig``: the evaluation protocol's settings, and the one place their defaults live (``shelfscan val``,
validation during ``shelfscan train``, :func:`~shelfscan.metrics.evaluate_detections`,
:func:`~shelfscan.metrics.count_errors`, :mod:`shelfscan.engine.evaluate`)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from shelfscan.errors import expect


@dataclass(frozen=True)
class EvalConfig:
    """How predictions are scored against ground truth.

    Attributes:
        max_det: most detections per image scored, by score: the SKU-110K protocol's COCO ``maxDets`` (300);
            the recall is reported as ``ar<max_det>``.
        count_threshold: score a prediction needs to be counted in the per-image count error (MAE / RMSE).
        conf: score threshold of a model run for evaluation (``shelfscan val --model``): near 0, so AP sees the
            whole precision-recall curve.
    """

    max_det: int = 300
    count_threshold: float = 0.5
    conf: float = 0.01

    def __post_init__(self) -> None:
        expect(isinstance(self.max_det, int) and not isinstance(self.max_det, bool) and self.max_det >= 1,
               "max_det", "an integer >= 1", self.max_det)
        for name in ("count_threshold", "conf"):
            value = getattr(self, name)
            expect(isinstance(value, numbers.Real) and 0.0 <= value <= 1.0, name, "a score in [0, 1]", value)
