"""Evaluation: COCO box AP/AR, counting error, clustering agreement and per-type count metrics.

The functions are imported on first use (scikit-learn and SciPy load only then), so reading the protocol's
settings (:class:`EvalConfig`, e.g. for ``shelfscan --help``) stays light.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.lazy import lazy_attributes
from shelfscan.metrics.config import EvalConfig

if TYPE_CHECKING:
    from shelfscan.metrics.clustering import clustering_scores, pair_separation
    from shelfscan.metrics.counting import count_errors
    from shelfscan.metrics.detection import DetectionMetrics, evaluate_detections
    from shelfscan.metrics.type_counts import match_clusters, shelf_type_scores, type_count_metrics

_HOMES = {"clustering_scores": "clustering", "pair_separation": "clustering", "count_errors": "counting",
          "DetectionMetrics": "detection", "evaluate_detections": "detection", "match_clusters": "type_counts",
          "shelf_type_scores": "type_counts", "type_count_metrics": "type_counts"}

__all__ = ["DetectionMetrics", "EvalConfig", "clustering_scores", "count_errors", "evaluate_detections",
           "match_clusters", "pair_separation", "shelf_type_scores", "type_count_metrics"]


__getattr__ = lazy_attributes(__name__, _HOMES)
