"""Counting error per image: how far the number of predicted boxes is from the number of true boxes."""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from shelfscan.detections import Detections
from shelfscan.metrics.config import EvalConfig
from shelfscan.metrics.detection import check_image_names


def count_errors(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections],
                 score_threshold: float = EvalConfig.count_threshold) -> dict:
    """MAE and RMSE of per-image object counts (the SKU-110K counting protocol).

    Args:
        ground_truth: image name -> true boxes; the true count is the number of boxes (scores ignored).
        predictions: image name -> predicted boxes; the predicted count is the number with
            ``score >= score_threshold``. An image missing here counts 0; a name not in ``ground_truth``
            raises InputError.
        score_threshold: score a prediction needs to be counted.

    Returns:
        ``{"mae", "rmse", "images", "per_image"}`` with ``per_image`` name -> ``(true, predicted)``;
        ``mae`` and ``rmse`` are ``nan`` when ``ground_truth`` is empty.
    """
    check_image_names(ground_truth, predictions)
    per_image: dict[str, tuple[int, int]] = {}
    for name, gt in ground_truth.items():
        pred = predictions.get(name)
        n_pred = 0 if pred is None else int(np.count_nonzero(pred.scores >= score_threshold))
        per_image[name] = (len(gt), n_pred)
    if not per_image:
        return {"mae": math.nan, "rmse": math.nan, "images": 0, "per_image": per_image}
    diff = np.array([p - t for t, p in per_image.values()], dtype=np.float64)
    return {"mae": float(np.abs(diff).mean()), "rmse": float(np.sqrt((diff ** 2).mean())),
            "images": len(per_image), "per_image": per_image}
