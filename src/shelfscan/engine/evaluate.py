"""Validation during and after training: run a :class:`Detector` over a dataset and score it."""
from __future__ import annotations

import numpy as np

from shelfscan.data.records import Dataset, ImageRecord
from shelfscan.detections import Detections
from shelfscan.metrics.config import EvalConfig


def predict_dataset(detector, dataset: Dataset, *, progress: bool = False) -> dict[str, Detections]:
    """image name -> predictions for every image of ``dataset``."""
    from tqdm import tqdm

    out = {}
    for rec in tqdm(dataset.images, desc="val", disable=not progress, leave=False):
        out[rec.name] = detector.predict(rec.path)
    return out


def _of_class(boxes: Detections, name: str) -> Detections:
    """The boxes of ``boxes`` of class ``name``, as a one-class ``Detections``."""
    keep = np.array([label == name for label in boxes.labels], dtype=bool)
    picked = boxes[keep]
    return Detections(picked.xyxy, picked.scores, np.zeros(len(picked), np.int64), [name])


def labels_class(rec: ImageRecord, name: str) -> bool:
    """Whether the dataset of ``rec`` annotates class ``name`` (a photo without gap labels does not)."""
    return name in (rec.labelled if rec.labelled is not None else rec.boxes.class_names)


def _score(gt: dict, preds: dict, max_det: int, count_threshold: float) -> dict:
    from shelfscan.metrics.counting import count_errors
    from shelfscan.metrics.detection import evaluate_detections

    m = evaluate_detections(gt, preds, max_det=max_det, class_agnostic=True)
    c = count_errors(gt, preds, score_threshold=count_threshold)
    return {"ap50_95": m.ap50_95, "ap50": m.ap50, "ap75": m.ap75, f"ar{max_det}": m.ar,
            "count_mae": c["mae"], "count_rmse": c["rmse"], "images": len(gt)}


def _mean_of_defined(values: list[float]) -> float:
    """Mean of the values that are not NaN (NaN when none is)."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def per_class_scores(dataset: Dataset, preds: dict[str, Detections], class_names: list[str], *,
                     max_det: int = EvalConfig.max_det, count_threshold: float = EvalConfig.count_threshold) -> dict:
    """Each class scored on the images whose dataset labels it, then averaged over the scored classes.

    A predicted class is judged only where it is annotated: gaps found on a products-only photo are neither
    right nor wrong there. Classes that no image labels are listed under ``"unscored_classes"``.
    """
    per_class, unscored = {}, []
    for name in class_names:
        recs = [r for r in dataset.images if labels_class(r, name)]
        if not recs:
            unscored.append(name)
            continue
        gt = {r.name: _of_class(r.boxes, name) for r in recs}
        found = {r.name: _of_class(preds[r.name], name) for r in recs}
        per_class[name] = _score(gt, found, max_det, count_threshold)
    keys = ("ap50_95", "ap50", "ap75", f"ar{max_det}", "count_mae", "count_rmse")
    # a class with no true box on the scored photos has no AP (NaN): like COCO's mAP, the mean leaves it out
    out: dict = {k: _mean_of_defined([v[k] for v in per_class.values()]) if per_class else 0.0 for k in keys}
    out.update({"per_class": per_class, "images": len(dataset.images)})
    if unscored:
        out["unscored_classes"] = unscored
    return out


def evaluate_detector(detector, dataset: Dataset, *, max_det: int = EvalConfig.max_det,
                      count_threshold: float = EvalConfig.count_threshold, progress: bool = False,
                      class_agnostic: bool = True) -> dict:
    """AP@[.5:.95], AP50, AP75, AR@max_det and count MAE of ``detector``.

    ``class_agnostic=True`` is the SKU-110K protocol; ``False`` scores each of the detector's classes on the
    images that label it and averages (see :func:`per_class_scores`), adding ``per_class`` (name -> metrics).
    """
    preds = predict_dataset(detector, dataset, progress=progress)
    if not class_agnostic:
        return per_class_scores(dataset, preds, list(detector.class_names), max_det=max_det,
                                count_threshold=count_threshold)
    gt = {r.name: r.boxes for r in dataset.images}
    return _score(gt, preds, max_det, count_threshold)
