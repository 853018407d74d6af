"""EM-Merger (Goldman et al., "Precise Detection in Densely Packed Scenes", CVPR 2019), vectorised.

Raw candidates (before any NMS) become 2-D Gaussians whose heat map is split into blobs; each blob's mixture is
reduced by hard-assignment EM to as many components as the blob has room for products, and each surviving
component is reported as the best original candidate box near it. See :func:`em_merge`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from shelfscan.errors import expect
from shelfscan.models.config import DetectorConfig
from shelfscan.postprocess.gaussians import agglomerate, blob_neighbours, hard_em
from shelfscan.postprocess.heatmap import blobs, box_gaussians, heat_map, map_scale, pixel_of
from shelfscan.postprocess.inputs import (Candidates, check_candidates, check_centres_inside, check_fraction,
                                          check_image_size, check_max_det, like_input)
from shelfscan.postprocess.scores import blend_scores
from shelfscan.postprocess.suppress import ellipse_overlap_pairs, greedy_keep, intersection_over_min_pairs


def em_merge(boxes: Any, hard_scores: Any, iou_scores: Any = None, *, image_size: tuple[int, int],
             hard_score_rate: float = DetectorConfig.hard_score_rate, class_ids: Any = None, max_det: int | None = None,
             return_index: bool = False, map_px: float = 8.0, blob_threshold: float = 0.016,
             max_iter: int = 20, dedup_threshold: float = 0.3) -> tuple[Any, ...]:
    """Merge raw candidates into one box per product with the EM-Merger.

    1. Confidence ``c = hard^r · soft^(1 − r)`` (the one blend, :mod:`shelfscan.postprocess.scores`) with
       ``r = hard_score_rate`` (soft = ``iou_scores``, or ``hard_scores`` when None). Candidate i is a Gaussian with mean at its box centre and covariance
       ``diag((w / 4)^2, (h / 4)^2)``.
    2. Heat map: sum of the Gaussians, each truncated at 1 sigma and peaking at ``c_i``, at a resolution where
       the median shrunk box is about ``map_px`` pixels wide; blobs are its connected regions above
       ``blob_threshold`` times its maximum.
    3. Per blob: ``K = max(1, round(blob area / median shrunk-box area))``; the Gaussians whose centres fall in
       the blob (weights c) are reduced to K components: agglomerative moment-matching merges of the closest
       means, then hard-assignment EM on KL divergence (at most ``max_iter`` rounds).
    4. Components whose 50%-confidence ellipses overlap are resolved greedily: the one with more heat at its
       mean stays.
    5. Each remaining component yields the candidate of its blob, with its centre inside the component's
       +-2 sigma box, with the highest ``0.5 * c + 0.5 * hard`` (that value is its output score); duplicates are
       removed greedily by intersection over the smaller area above ``dedup_threshold``.

    Candidates with zero confidence add nothing to the heat map; candidates whose centre falls outside every
    blob (isolated ones weaker than ``blob_threshold`` of the peak) cannot be chosen. Deterministic.

    Args:
        boxes: (N, 4) xyxy absolute pixels; numpy array or torch tensor (then the outputs are tensors on its
            device).
        hard_scores: (N,) objectness scores >= 0.
        iou_scores: (N,) predicted-IoU scores >= 0, or None.
        image_size: ``(height, width)`` of the image in pixels.
        hard_score_rate: r in [0, 1].
        class_ids: (N,) ints or None; when given, each class is merged on its own.
        max_det: keep at most this many boxes (highest scores), or None for all.
        return_index: also return the index of each output box among the inputs.

    Returns:
        ``(boxes (M, 4), scores (M,))`` sorted by score descending, plus ``index (M,)`` int64 with
        ``return_index``; ``boxes == input_boxes[index]``.
    """
    cands = check_candidates(boxes, hard_scores, iou_scores, class_ids)
    expect(map_px > 0, "map_px", "a positive number of heat-map pixels", map_px)
    expect(0 < blob_threshold < 1, "blob_threshold", "a fraction in (0, 1)", blob_threshold)
    expect(isinstance(max_iter, int) and max_iter >= 1, "max_iter", "an integer >= 1", max_iter)
    check_fraction(dedup_threshold, "dedup_threshold", low_open=True)
    index, scores = em_merge_index(cands, image_size=check_image_size(image_size),
                                   hard_score_rate=check_fraction(hard_score_rate, "hard_score_rate"),
                                   max_det=check_max_det(max_det), map_px=map_px, blob_threshold=blob_threshold,
                                   max_iter=max_iter, dedup_threshold=dedup_threshold)
    out = like_input(boxes, cands.boxes[index].reshape(-1, 4), scores)
    return (*out, *like_input(boxes, index)) if return_index else out


def em_merge_index(cands: Candidates, *, image_size: tuple[int, int], hard_score_rate: float,
                   max_det: int | None = None, map_px: float = 8.0, blob_threshold: float = 0.016,
                   max_iter: int = 20, dedup_threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """:func:`em_merge` on checked candidates; returns kept indices (M,) int64 and scores (M,) float64,
    sorted by score descending (ties: lower index first). Classes are merged one at a time.

    Raises:
        InputError: a box centre lies outside ``image_size`` (e.g. ``(width, height)`` was passed).
    """
    check_centres_inside(cands.boxes, image_size)
    groups = [np.arange(len(cands))] if cands.class_ids is None else \
        [np.flatnonzero(cands.class_ids == c) for c in np.unique(cands.class_ids)]
    index, scores = [], []
    for members in groups:
        idx, score = _merge_one_class(cands.boxes[members], cands.hard[members], cands.soft[members],
                                      image_size, hard_score_rate, map_px, blob_threshold, max_iter,
                                      dedup_threshold)
        index.append(members[idx])
        scores.append(score)
    index, scores = np.concatenate(index).astype(np.int64), np.concatenate(scores)
    order = np.lexsort((index, -scores))[:max_det]
    return index[order], scores[order]


def _merge_one_class(boxes: np.ndarray, hard: np.ndarray, soft: np.ndarray, image_size: tuple[int, int],
                     rate: float, map_px: float, blob_threshold: float, max_iter: int,
                     dedup_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-5 for candidates of one class; returns (kept indices, scores), unsorted."""
    empty = np.zeros(0, np.int64), np.zeros(0)
    if len(boxes) == 0:
        return empty
    conf = blend_scores(hard, soft, rate)
    scale = map_scale(boxes, map_px)
    mu, var = box_gaussians(boxes, min_sigma=0.5 / scale)
    heat = heat_map(mu, var, conf, scale, image_size)
    labels, areas = blobs(heat, blob_threshold)
    inside = np.flatnonzero(labels[pixel_of(mu, scale, heat.shape)] > 0)
    if len(inside) == 0:
        return empty
    blob_label, blob = np.unique(labels[pixel_of(mu[inside], scale, heat.shape)], return_inverse=True)
    median_area = float(np.median(4.0 * np.sqrt(var[:, 0] * var[:, 1]))) * scale**2
    k = np.maximum(1, np.rint(areas[blob_label] / median_area)).astype(np.int64)
    k = np.minimum(k, np.bincount(blob, minlength=len(blob_label)))
    w = np.maximum(conf[inside], 1e-12)
    mu_in, var_in = mu[inside], var[inside]
    comp = agglomerate(w, mu_in, var_in, blob, k)
    gid, weight, mean, variance = hard_em(w, mu_in, var_in, blob, comp, k, max_iter=max_iter)
    comp_blob = np.repeat(np.arange(len(k)), k)

    live = np.flatnonzero(weight > 0)
    comp_heat = heat[pixel_of(mean[live], scale, heat.shape)]
    kept = live[greedy_keep(comp_heat, ellipse_overlap_pairs(mean[live], variance[live]))]

    select = 0.5 * conf[inside] + 0.5 * hard[inside]
    chosen = _best_candidate(mu_in, blob, gid, select, mean[kept], np.sqrt(variance[kept]), comp_blob[kept], kept)
    keep = greedy_keep(select[chosen], intersection_over_min_pairs(boxes[inside[chosen]], dedup_threshold))
    chosen = chosen[keep]
    return inside[chosen], select[chosen]


def _best_candidate(mu: np.ndarray, blob: np.ndarray, gid: np.ndarray, select: np.ndarray, comp_mean: np.ndarray,
                    comp_sigma: np.ndarray, comp_blob: np.ndarray, comp_gid: np.ndarray) -> np.ndarray:
    """Per component (C,), the candidate of its blob with the highest ``select`` among those whose centre lies
    in the component's +-2 sigma box, falling back to the component's own members when none does.

    Args:
        mu: (N, 2) candidate centres. blob: (N,). gid: (N,) component of each candidate. select: (N,).
        comp_mean, comp_sigma: (C, 2). comp_blob: (C,). comp_gid: (C,) global ids of the components.

    Returns:
        int64 (C',) index into the candidates of the chosen one per component (components with no eligible
        candidate are left out).
    """
    if len(comp_mean) == 0:
        return np.zeros(0, np.int64)
    nb, valid = blob_neighbours(mu, blob, comp_mean, comp_blob)
    in_box = (np.abs(mu[:, None] - comp_mean[nb]) <= 2.0 * comp_sigma[nb]).all(2)
    eligible = valid & (in_box | (comp_gid[nb] == gid[:, None]))
    cand, slot = np.nonzero(eligible)
    comp = nb[cand, slot]
    order = np.lexsort((cand, -select[cand], ~in_box[cand, slot], comp))
    comp, cand = comp[order], cand[order]
    first = np.concatenate([[True], comp[1:] != comp[:-1]])
    return cand[first]
