"""Weighted box fusion: one set of boxes from several passes over the same photo (sizes, mirror, networks).

Each pass is first merged on its own (NMS); fusion then clusters the passes' boxes of one class greedily by score:
a box joins the cluster whose fused box it overlaps most if that IoU exceeds ``iou``, else it starts one. A
cluster's box is the score-weighted mean of its members' corners; its score is the sum of its members' scores
divided by the number of passes, so a box every pass finds keeps its score and a box one pass in four finds
scores a quarter of it (Solovyev et al., "Weighted boxes fusion", 2021). NMS keeps one pass's box; fusion
averages the passes' boxes, which is where the tighter boxes come from.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from shelfscan.box_ops import box_iou
from shelfscan.errors import expect

FIELDS = ("boxes", "scores", "labels", "iou_scores")


def fuse_passes(parts: Sequence[dict[str, np.ndarray]], *, iou: float, max_det: int) -> dict[str, np.ndarray]:
    """Weighted box fusion of several passes' boxes in one photo's pixels.

    Args:
        parts: per pass a dict ``boxes`` (N, 4) xyxy, ``scores`` (N,), ``labels`` (N,) int, ``iou_scores`` (N,)
            (the predicted IoU of each box), already merged within the pass. An empty pass counts as a pass.
        iou: a box joins a cluster of its class when its IoU with the cluster's fused box exceeds this.
        max_det: most fused boxes returned.

    Returns:
        dict ``boxes`` (K, 4) float32, ``scores`` (K,) float32 (sum of the members' scores / ``len(parts)``),
        ``labels`` (K,) int64, ``iou_scores`` (K,) float32 (score-weighted mean of the members'), K ≤ max_det,
        sorted by score descending (ties: the cluster started first).
    """
    expect(len(parts) > 0, "fuse_passes parts", "at least one pass", 0)
    expect(0.0 < iou <= 1.0, "fuse_passes iou", "a number in (0, 1]", iou)
    expect(isinstance(max_det, (int, np.integer)) and max_det > 0, "fuse_passes max_det", "a positive integer",
           max_det)
    for i, part in enumerate(parts):
        missing = [k for k in FIELDS if k not in part]
        expect(not missing, f"fuse_passes parts[{i}]", f"a dict with {', '.join(FIELDS)}",
               f"one without {', '.join(missing)}")
    boxes = np.concatenate([np.asarray(p["boxes"], np.float64).reshape(-1, 4) for p in parts])
    scores = np.concatenate([np.asarray(p["scores"], np.float64).reshape(-1) for p in parts])
    labels = np.concatenate([np.asarray(p["labels"], np.int64).reshape(-1) for p in parts])
    quality = np.concatenate([np.asarray(p["iou_scores"], np.float64).reshape(-1) for p in parts])
    fused = [_fuse_class(boxes[m], scores[m], quality[m], iou) + (c,)
             for c in np.unique(labels) for m in [labels == c]]
    out_boxes = np.concatenate([f[0] for f in fused]) if fused else np.zeros((0, 4))
    out_scores = np.concatenate([f[1] for f in fused]) / len(parts) if fused else np.zeros(0)
    out_quality = np.concatenate([f[2] for f in fused]) if fused else np.zeros(0)
    out_labels = np.concatenate([np.full(len(f[1]), f[3]) for f in fused]) if fused else np.zeros(0, np.int64)
    order = np.argsort(-out_scores, kind="stable")[:max_det]
    return {"boxes": out_boxes[order].astype(np.float32), "scores": out_scores[order].astype(np.float32),
            "labels": out_labels[order].astype(np.int64), "iou_scores": out_quality[order].astype(np.float32)}


def _fuse_class(boxes: np.ndarray, scores: np.ndarray, quality: np.ndarray,
                iou: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One class's boxes (N, 4) -> fused boxes (K, 4), summed scores (K,), weighted predicted IoU (K,)."""
    order = np.argsort(-scores, kind="stable")
    fused = np.zeros((0, 4))
    corner_sums, weight_sums, quality_sums = [], [], []
    for i in order:
        box, w = boxes[i], max(float(scores[i]), 1e-12)
        overlaps = box_iou(box[None], fused)[0] if len(fused) else np.zeros(0)
        j = int(np.argmax(overlaps)) if len(overlaps) else -1
        if j >= 0 and overlaps[j] > iou:
            corner_sums[j] += w * box
            weight_sums[j] += w
            quality_sums[j] += w * quality[i]
            fused[j] = corner_sums[j] / weight_sums[j]
        else:
            corner_sums.append(w * box)
            weight_sums.append(w)
            quality_sums.append(w * quality[i])
            fused = np.vstack([fused, box[None]])
    weights = np.asarray(weight_sums)  # each cluster's summed score (scores floored at 1e-12 as weights)
    return fused, weights, np.asarray(quality_sums) / weights
