"""COCO-style box AP and AR with a configurable detection cap, computed with faster-coco-eval.

The SKU-110K protocol is class-agnostic COCO evaluation with ``maxDets = 300`` and the single area range "all".
AP and AR are read from the accumulated ``precision`` / ``recall`` arrays at the index of ``max_det``, never from
``COCOeval.stats`` (pycocotools' ``stats[0]`` is AP at 100 detections whatever ``maxDets`` says).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from shelfscan.box_ops import xyxy_to_xywh
from shelfscan.detections import Detections
from shelfscan.errors import InputError
from shelfscan.metrics.config import EvalConfig

IOU_TYPES = ("bbox",)


@dataclass
class DetectionMetrics:
    """COCO box metrics at one detection cap, area range "all".

    Attributes:
        ap50_95: AP averaged over IoU 0.50:0.05:0.95 (101-point interpolated, mean over categories).
        ap50, ap75: AP at IoU 0.50 and 0.75.
        ar: recall averaged over IoU 0.50:0.95 with at most ``max_det`` detections per image.
        max_det: the detection cap per image (highest scores kept).
        images: number of ground-truth images evaluated.
        per_class: class name -> ``{"ap50_95", "ap50", "ap75", "ar"}`` when evaluated per class, else empty.

    Every value is ``nan`` when the ground truth has no box at all (nothing to find: COCO itself returns -1).
    """

    ap50_95: float
    ap50: float
    ap75: float
    ar: float
    max_det: int
    images: int
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"ap50_95", "ap50", "ap75", "ar<max_det>", "max_det", "images"}`` plus ``"per_class"`` when set.

        The recall key is named after the cap actually used: ``ar300`` for ``max_det=300``, ``ar100`` for 100.
        """
        out = {"ap50_95": self.ap50_95, "ap50": self.ap50, "ap75": self.ap75, f"ar{self.max_det}": self.ar,
               "max_det": self.max_det, "images": self.images}
        if self.per_class:
            out["per_class"] = {k: dict(v) for k, v in self.per_class.items()}
        return out


def check_image_names(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections]) -> None:
    """Raise :class:`InputError` when ``predictions`` names an image that is not in ``ground_truth``."""
    unknown = [name for name in predictions if name not in ground_truth]
    if unknown:
        known = list(ground_truth)
        raise InputError(
            f"predictions: expected image names of the ground truth (e.g. {known[:3]}, {len(known)} in all), "
            f"got {len(unknown)} unknown: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")


def _coco_boxes(boxes: Detections) -> tuple[np.ndarray, np.ndarray]:
    """COCO ``bbox`` rows and areas of ``boxes``.

    Returns:
        xywh: float64 (N, 4) ``[x1, y1, x2 - x1, y2 - y1]``; area: float64 (N,) ``w * h``.
    """
    xywh = xyxy_to_xywh(boxes.xyxy.astype(np.float64))
    return xywh, xywh[:, 2] * xywh[:, 3]


def _category_ids(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections],
                  class_agnostic: bool) -> list[str]:
    """The evaluated category names (COCO id = index + 1); one category ``object`` when class-agnostic."""
    if class_agnostic:
        return ["object"]
    names: dict[str, None] = {}
    for d in ground_truth.values():
        names.update(dict.fromkeys(d.class_names))
    unknown: dict[str, None] = {}
    for d in predictions.values():
        for name in d.labels:
            if name not in names:
                unknown[name] = None
    if unknown:
        raise InputError(f"predictions: expected class names of the ground truth {list(names)[:10]}, "
                         f"got unknown {list(unknown)[:10]} (use the class-agnostic evaluation instead)")
    return list(names)


def to_coco(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections],
            class_agnostic: bool = True) -> tuple[dict, dict, list[str]]:
    """Build in-memory COCO ground-truth and detection datasets.

    Image ids are 1.. in the order of ``ground_truth``; annotation ids are 1.. (0 is COCO's "unmatched" marker);
    ground truth gets ``area = w * h`` and ``iscrowd = 0``. Class-agnostic: every box gets category 1.

    Returns:
        (gt_dataset, dt_dataset, category_names): the two COCO dicts and the names of categories 1..K.
    """
    check_image_names(ground_truth, predictions)
    cat_names = _category_ids(ground_truth, predictions, class_agnostic)
    cat_of = {name: i + 1 for i, name in enumerate(cat_names)}
    images, gt_anns, dt_anns = [], [], []
    for image_id, (name, gt) in enumerate(ground_truth.items(), start=1):
        images.append({"id": image_id, "file_name": name})
        for boxes, anns, is_gt in ((gt, gt_anns, True), (predictions.get(name), dt_anns, False)):
            if boxes is None or len(boxes) == 0:
                continue
            xywh, area = _coco_boxes(boxes)
            cats = [1] * len(boxes) if class_agnostic else [cat_of[c] for c in boxes.labels]
            scores = boxes.scores.astype(np.float64).tolist()
            for row, a, c, s in zip(xywh.tolist(), area.tolist(), cats, scores):
                ann = {"id": len(anns) + 1, "image_id": image_id, "category_id": c, "bbox": row, "area": a,
                       "iscrowd": 0}
                if not is_gt:
                    ann["score"] = s
                anns.append(ann)
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(cat_names)]
    return ({"images": images, "categories": categories, "annotations": gt_anns},
            {"images": images, "categories": categories, "annotations": dt_anns}, cat_names)


def _mean_valid(values: np.ndarray) -> float:
    """Mean of entries > -1 (COCO marks "no ground truth" with -1); ``nan`` when there are none."""
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else math.nan


def _read_metrics(precision: np.ndarray, recall: np.ndarray, iou_thrs: np.ndarray) -> dict[str, float]:
    """AP/AR from COCO arrays already indexed at one area range and one maxDets.

    Args:
        precision: (T, R, K) precision per IoU threshold, recall threshold, category.
        recall: (T, K) recall per IoU threshold and category.
        iou_thrs: (T,) IoU thresholds.
    """
    t50 = int(np.argmin(np.abs(iou_thrs - 0.5)))
    t75 = int(np.argmin(np.abs(iou_thrs - 0.75)))
    return {"ap50_95": _mean_valid(precision), "ap50": _mean_valid(precision[t50]),
            "ap75": _mean_valid(precision[t75]), "ar": _mean_valid(recall)}


def evaluate_detections(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections], *,
                        max_det: int = EvalConfig.max_det, class_agnostic: bool = True,
                        iou_type: str = "bbox") -> DetectionMetrics:
    """COCO AP@[.5:.95], AP50, AP75 and AR@max_det of ``predictions`` against ``ground_truth``.

    Args:
        ground_truth: image name -> true boxes (scores ignored). Every image listed is evaluated.
        predictions: image name -> predicted boxes with scores. An image of the ground truth that is missing
            here has no detections (its boxes are misses). A name not in ``ground_truth`` raises InputError.
        max_det: most detections per image kept, by score (SKU-110K: 300). ``maxDets = [1, 10, max_det]``
            (the ones below ``max_det``) and metrics are read at ``max_det``.
        class_agnostic: match boxes regardless of class (the SKU-110K protocol). Otherwise predicted class
            names must be ground-truth class names; AP is averaged over categories with at least one true box
            and ``per_class`` holds each such category's metrics.
        iou_type: only ``"bbox"``.

    Returns:
        DetectionMetrics; 0.0 everywhere when there are true boxes but no predictions, ``nan`` everywhere when
        the ground truth has no box at all.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if iou_type not in IOU_TYPES:
        raise InputError(f"evaluate_detections iou_type: expected one of {list(IOU_TYPES)}, got {iou_type!r}")
    if isinstance(max_det, bool) or not isinstance(max_det, (int, np.integer)) or max_det < 1:
        raise InputError(f"evaluate_detections max_det: expected an integer >= 1, got {max_det!r}")
    max_det = int(max_det)
    gt_dataset, dt_dataset, cat_names = to_coco(ground_truth, predictions, class_agnostic)
    nan = {"ap50_95": math.nan, "ap50": math.nan, "ap75": math.nan, "ar": math.nan}
    if not gt_dataset["annotations"]:
        return DetectionMetrics(**nan, max_det=max_det, images=len(ground_truth))

    coco_gt, coco_dt = COCO(), COCO()
    coco_gt.dataset, coco_dt.dataset = gt_dataset, dt_dataset
    coco_gt.createIndex()
    coco_dt.createIndex()
    evaluator = COCOeval_faster(coco_gt, coco_dt, iou_type, print_function=lambda *a, **k: None)
    evaluator.params.maxDets = [m for m in (1, 10) if m < max_det] + [max_det]
    evaluator.params.areaRng = [[0.0, 1e5 ** 2]]
    evaluator.params.areaRngLbl = ["all"]
    evaluator.evaluate()
    evaluator.accumulate()

    precision = np.asarray(evaluator.eval["precision"])[:, :, :, 0, -1]  # (T, R, K)
    recall = np.asarray(evaluator.eval["recall"])[:, :, 0, -1]  # (T, K)
    iou_thrs = np.asarray(evaluator.params.iouThrs)
    overall = _read_metrics(precision, recall, iou_thrs)
    per_class: dict[str, dict[str, float]] = {}
    if not class_agnostic:
        cat_ids = list(evaluator.params.catIds)  # sorted ids, the K axis
        has_gt = {a["category_id"] for a in gt_dataset["annotations"]}
        for k, cat_id in enumerate(cat_ids):
            if cat_id in has_gt:
                per_class[cat_names[cat_id - 1]] = _read_metrics(precision[:, :, k], recall[:, k], iou_thrs)
    return DetectionMetrics(**overall, max_det=max_det, images=len(ground_truth), per_class=per_class)
