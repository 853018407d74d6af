"""Greedy non-maximum suppression on raw candidates, plain or scored by the Soft-IoU blend (vectorised numpy).

Boxes are decided in score order, ``RANK_BLOCK`` at a time: a block's boxes are first compared with the boxes
already kept (a suppressed box suppresses nothing, so it is never compared again), then with each other. The
pairs compared are the ones whose intervals overlap on one axis (a sort-and-sweep, no N x N matrix), and the
greedy rule is resolved on them in waves (:func:`_greedy`). The result is ``cv2.dnn.NMSBoxesBatched``'s, box
for box, and a ``max_det`` stops the work once that many boxes are kept.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from shelfscan.box_ops import box_area
from shelfscan.inference.config import InferenceConfig
from shelfscan.models.config import DetectorConfig
from shelfscan.postprocess.inputs import (Candidates, check_candidates, check_fraction, check_max_det,
                                          like_input)

PAIR_CHUNK = 1 << 20  # candidate pairs whose IoU is computed at a time (bounded memory)
RANK_BLOCK = 512      # boxes decided at a time in score order: later boxes are compared with kept ones only
_SLOW_WAVE = 32       # a resolving wave that decides fewer boxes hands the rest to the sequential loop


def _expand(query: np.ndarray, ref: np.ndarray, starts: np.ndarray, counts: np.ndarray):
    """Chunks of (query item, ref item) pairs: each query[k] with ref[starts[k]:starts[k] + counts[k]]."""
    cum = np.concatenate([[0], np.cumsum(counts)])
    k = 0
    while k < len(query):
        stop = min(len(query), max(k + 1, int(np.searchsorted(cum, cum[k] + PAIR_CHUNK, side="right")) - 1))
        reps = counts[k:stop]
        total = int(cum[stop] - cum[k])
        if total:
            first = np.repeat(np.arange(k, stop), reps)
            offset = np.arange(total) - np.repeat(cum[k:stop] - cum[k], reps)
            yield query[first], ref[starts[first] + offset]
        k = stop


def _overlap_candidates(qa: np.ndarray, qb: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Chunks of pairs (i from qa, j from qb) whose intervals [lo, hi) overlap on the sweep axis: every pair whose
    boxes intersect, found as "j starts inside i" or "i starts strictly inside j" (each pair once)."""
    for query, ref, open_left, flip in ((qb, qa, False, True), (qa, qb, True, False)):
        ref = ref[np.argsort(lo[ref], kind="stable")]
        starts = np.searchsorted(lo[ref], lo[query], side="right" if open_left else "left")
        counts = np.maximum(np.searchsorted(lo[ref], hi[query], side="left") - starts, 0)
        for q, r in _expand(query, ref, starts, counts):
            yield (r, q) if flip else (q, r)


def _suppressions(b, area, ids, thr, qa, qb, axis, ordered):
    """Pairs (src, dst) of ranks, src from qa and dst from qb, same class and IoU > thr; ``ordered``: only src <
    dst (qa and qb one set)."""
    src, dst = [], []
    for i, j in _overlap_candidates(qa, qb, b[:, axis], b[:, axis + 2]):
        if ordered:  # one set: each pair came in both orientations
            keep = i < j
            i, j = i[keep], j[keep]
        w = np.minimum(b[i, 2], b[j, 2]) - np.maximum(b[i, 0], b[j, 0])
        h = np.minimum(b[i, 3], b[j, 3]) - np.maximum(b[i, 1], b[j, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        hit = (inter > 0) & (inter > thr * (area[i] + area[j] - inter))
        if ids is not None:
            hit &= ids[i] == ids[j]
        src.append(i[hit])
        dst.append(j[hit])
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(src), np.concatenate(dst)


def _sequential(status, src, dst):
    """Finish greedy NMS in rank order over the undecided boxes (``status`` 0), in place: plain Python over the
    few pairs the resolving waves left (long chains of boxes that suppress each other)."""
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    nodes = np.flatnonzero(status == 0)
    starts = np.searchsorted(src, nodes, side="left").tolist()
    ends = np.searchsorted(src, nodes, side="right").tolist()
    st, targets = status.tolist(), dst.tolist()
    for node, s0, e0 in zip(nodes.tolist(), starts, ends):
        if st[node] == 0:
            st[node] = 1
            for t in targets[s0:e0]:
                st[t] = -1
    status[:] = st


def _greedy(src, dst, n):
    """Greedy NMS on local ranks 0..n-1 given the suppressing pairs (src < dst): bool (n,) kept.

    Resolving waves: a box that no undecided or kept box suppresses is kept, one that a kept box suppresses goes;
    pairs from suppressed boxes are dropped. Each wave decides at least the best undecided box."""
    status = np.zeros(n, np.int8)  # 0 undecided, 1 kept, -1 suppressed
    blocked = np.zeros(n, bool)
    while True:
        blocked[:] = False
        blocked[dst] = True
        fresh = (status == 0) & ~blocked
        status[fresh] = 1
        if not src.size:
            break
        from_kept = status[src] == 1
        status[dst[from_kept]] = -1
        live = (status[src] == 0) & (status[dst] == 0)
        src, dst = src[live], dst[live]
        if fresh.sum() < _SLOW_WAVE and src.size:
            _sequential(status, src, dst)
            break
    return status >= 0


def _sweep_axis(b):
    """0 (x) or 1 (y): the axis whose interval sweep yields fewer candidate pairs."""
    pairs = []
    for axis in (0, 1):
        lo = np.sort(b[:, axis])
        pairs.append(int(np.maximum(np.searchsorted(lo, b[:, axis + 2], side="left")
                                    - np.searchsorted(lo, b[:, axis], side="left"), 0).sum()))
    return int(np.argmin(pairs))


def nms_index(boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float, class_ids: np.ndarray | None = None,
              max_det: int | None = None) -> np.ndarray:
    """Indices (M,) int64 kept by greedy NMS, sorted by score descending (ties: lower index first).

    A box is suppressed by a higher-scored box of its class whose IoU with it is above ``iou_threshold``
    (the rule of ``cv2.dnn.NMSBoxesBatched`` and ``torchvision.ops.batched_nms``; boxes that do not intersect
    never suppress each other).

    Args:
        boxes: (N, 4) xyxy. scores: (N,). class_ids: (N,) or None (all one class).
        iou_threshold: IoU above which the lower-scored box goes.
        max_det: keep at most this many (None: all).
    """
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    s = np.asarray(scores, np.float32).ravel()
    order = np.argsort(-s, kind="stable")  # rank -> index; ties: lower index first
    b = np.asarray(boxes, np.float64).reshape(-1, 4)[order]
    ids = None if class_ids is None else np.asarray(class_ids).ravel()[order]
    area, thr, axis, n = box_area(b), float(iou_threshold), _sweep_axis(b), len(b)
    kept = [np.zeros(0, np.int64)]
    for r0 in range(0, n, RANK_BLOCK):
        block = np.arange(r0, min(n, r0 + RANK_BLOCK))
        done = np.concatenate(kept)
        if done.size:  # boxes of this block that an already kept box suppresses
            _, hit = _suppressions(b, area, ids, thr, done, block, axis, ordered=False)
            block = block[~np.isin(block, hit)]
        src, dst = _suppressions(b, area, ids, thr, block, block, axis, ordered=True)
        kept.append(block[_greedy(np.searchsorted(block, src), np.searchsorted(block, dst), len(block))])
        if max_det is not None and sum(len(k) for k in kept) >= max_det:
            break
    return order[np.concatenate(kept)][:max_det]


def _outputs(template: Any, cands: Candidates, keep: np.ndarray, scores: np.ndarray,
             return_index: bool) -> tuple[Any, ...]:
    out = like_input(template, cands.boxes[keep].reshape(-1, 4), scores[keep])
    return (*out, *like_input(template, keep)) if return_index else out


def nms(boxes: Any, scores: Any, *, iou_threshold: float = InferenceConfig.iou, class_ids: Any = None, max_det: int | None = None,
        return_index: bool = False) -> tuple[Any, ...]:
    """Plain greedy NMS, per class when ``class_ids`` is given.

    Args:
        boxes: (N, 4) xyxy absolute pixels; numpy array or torch tensor (outputs follow the input's kind and
            device; the work itself runs on the CPU).
        scores: (N,) >= 0.
        iou_threshold: in (0, 1].
        class_ids: (N,) ints or None.
        max_det: keep at most this many boxes, or None.
        return_index: also return the kept input indices.

    Returns:
        ``(boxes (M, 4), scores (M,))`` sorted by score descending, plus ``index (M,)`` with ``return_index``.
    """
    cands = check_candidates(boxes, scores, None, class_ids)
    keep = nms_index(cands.boxes, cands.hard, iou_threshold=check_fraction(iou_threshold, "iou_threshold",
                                                                           low_open=True),
                     class_ids=cands.class_ids, max_det=check_max_det(max_det))
    return _outputs(boxes, cands, keep, cands.hard, return_index)


def soft_iou_nms(boxes: Any, hard_scores: Any, iou_scores: Any, *, hard_score_rate: float = DetectorConfig.hard_score_rate,
                 iou_threshold: float = InferenceConfig.iou, class_ids: Any = None, max_det: int | None = None,
                 return_index: bool = False) -> tuple[Any, ...]:
    """Greedy NMS ranked by the blended confidence ``hard^r · iou^(1 − r)`` (Soft-IoU, Goldman et al.).

    Arguments as :func:`nms`, plus ``hard_scores`` (N,) objectness, ``iou_scores`` (N,) predicted IoU (None:
    the hard score alone) and ``hard_score_rate`` r in [0, 1]. The returned scores are the blended confidences.
    """
    cands = check_candidates(boxes, hard_scores, iou_scores, class_ids)
    conf = cands.confidence(check_fraction(hard_score_rate, "hard_score_rate"))
    keep = nms_index(cands.boxes, conf, iou_threshold=check_fraction(iou_threshold, "iou_threshold", low_open=True),
                     class_ids=cands.class_ids, max_det=check_max_det(max_det))
    return _outputs(boxes, cands, keep, conf, return_index)
