"""The one score blend of shelfscan: ``score = hard^r · soft^(1 − r)``.

hard = the classification score (sigmoid of the class logit), soft = the predicted IoU of the box with the true
box (SKU-110K's Soft-IoU), r = ``hard_score_rate`` in [0, 1] (1: classification alone, 0: predicted IoU alone).
The predict path (NMS), Soft-IoU NMS and the EM-Merger all rank candidates by this value.
"""
from __future__ import annotations

import numpy as np


def blend_scores(hard: np.ndarray, soft: np.ndarray, hard_score_rate: float) -> np.ndarray:
    """``hard^r · soft^(1 − r)``, elementwise (broadcasting); inputs are probabilities in [0, 1]."""
    r = float(hard_score_rate)
    hard = np.asarray(hard)
    soft = np.asarray(soft)
    if r >= 1.0:
        return np.broadcast_to(hard, np.broadcast_shapes(hard.shape, soft.shape)).copy()
    if r <= 0.0:
        return np.broadcast_to(soft, np.broadcast_shapes(hard.shape, soft.shape)).astype(hard.dtype)
    return np.power(hard, r) * np.power(soft, 1.0 - r)
