"""Evaluation: COCO box AP/AR, counting error, clustering agreement and per-type count metrics."""
from __future__ import annotations

from shelfscan.metrics.clustering import clustering_scores
from shelfscan.metrics.counting import count_errors
from shelfscan.metrics.detection import DetectionMetrics, evaluate_detections
from shelfscan.metrics.type_counts import match_clusters, shelf_type_scores, type_count_metrics

__all__ = ["DetectionMetrics", "clustering_scores", "count_errors", "evaluate_detections", "match_clusters",
           "shelf_type_scores", "type_count_metrics"]
