"""Validation during and after training: run a :class:`Detector` over a dataset and score it."""
from __future__ import annotations

from shelfscan.data.records import Dataset
from shelfscan.detections import Detections


def predict_dataset(detector, dataset: Dataset, *, progress: bool = False) -> dict[str, Detections]:
    """image name -> predictions for every image of ``dataset``."""
    from tqdm import tqdm

    out = {}
    for rec in tqdm(dataset.images, desc="val", disable=not progress, leave=False):
        out[rec.name] = detector.predict(rec.path)
    return out


def evaluate_detector(detector, dataset: Dataset, *, max_det: int = 300, count_threshold: float = 0.5,
                      progress: bool = False, class_agnostic: bool = True) -> dict:
    """AP@[.5:.95], AP50, AP75, AR@max_det and count MAE of ``detector``.

    ``class_agnostic=True`` is the SKU-110K protocol; ``False`` averages over classes (COCO mAP) and adds
    ``per_class`` (name -> metrics).
    """
    from shelfscan.metrics.counting import count_errors
    from shelfscan.metrics.detection import evaluate_detections

    preds = predict_dataset(detector, dataset, progress=progress)
    gt = {r.name: r.boxes for r in dataset.images}
    m = evaluate_detections(gt, preds, max_det=max_det, class_agnostic=class_agnostic)
    c = count_errors(gt, preds, score_threshold=count_threshold)
    extra = {"per_class": m.per_class} if m.per_class else {}
    return {**extra, "ap50_95": m.ap50_95, "ap50": m.ap50, "ap75": m.ap75, f"ar{max_det}": m.ar,
            "count_mae": c["mae"], "count_rmse": c["rmse"], "images": len(dataset.images)}
