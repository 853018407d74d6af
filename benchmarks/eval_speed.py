"""Time shelfscan's COCO evaluation (faster-coco-eval) against pycocotools on a dense synthetic workload.

    python benchmarks/eval_speed.py [--images 200] [--true 150] [--pred 300] [--seed 0] [--skip-pycocotools]

Prints the wall time of each and both AP50-95 / AR values at maxDets 300 read from the precision / recall arrays.
pycocotools is a test/benchmark dependency (``pip install shelfscan[test]``); it takes minutes on this workload.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np

from shelfscan.detections import Detections
from shelfscan.metrics import evaluate_detections


def synthetic_workload(n_images: int, n_true: int, n_pred: int, seed: int
                       ) -> tuple[dict[str, Detections], dict[str, Detections]]:
    """Shelf-like grids of true boxes; predictions are jittered copies (10% missed) plus random extras.

    Every image gets exactly ``n_true`` true and ``n_pred`` predicted boxes (xyxy, pixels of a 2000x1500 image).
    """
    rng = np.random.default_rng(seed)
    gt, pred = {}, {}
    cols = int(np.ceil(np.sqrt(n_true * 4 / 3)))
    for i in range(n_images):
        k = np.arange(n_true)
        cell_w, cell_h = 2000 / cols, 1500 / np.ceil(n_true / cols)
        x1 = (k % cols) * cell_w + rng.uniform(0, 0.1, n_true) * cell_w
        y1 = (k // cols) * cell_h + rng.uniform(0, 0.1, n_true) * cell_h
        w, h = rng.uniform(0.6, 0.9, n_true) * cell_w, rng.uniform(0.6, 0.9, n_true) * cell_h
        truth = np.stack([x1, y1, x1 + w, y1 + h], 1)
        hit = truth[rng.random(n_true) > 0.1]
        size = np.concatenate([hit[:, 2:] - hit[:, :2]] * 2, 1)
        sigma = rng.uniform(0, 0.12, (len(hit), 1))
        hits = hit + rng.normal(0, 1, hit.shape) * sigma * size
        n_extra = n_pred - len(hits)
        xy = rng.uniform(0, 1900, (n_extra, 2))
        extra = np.concatenate([xy, xy + rng.uniform(20, 120, (n_extra, 2))], 1)
        boxes = np.concatenate([hits, extra])
        boxes = np.concatenate([boxes[:, :2], np.maximum(boxes[:, 2:], boxes[:, :2] + 1)], 1)
        scores = np.concatenate([np.clip(1 - 4 * sigma[:, 0] + rng.normal(0, 0.1, len(hits)), 0.01, 1),
                                 rng.uniform(0, 0.7, n_extra)])
        gt[f"img_{i}"] = Detections(truth)
        pred[f"img_{i}"] = Detections(boxes, scores)
    return gt, pred


def pycocotools_eval(gt: dict[str, Detections], pred: dict[str, Detections], max_det: int) -> tuple[float, float]:
    """AP50-95 and AR at ``max_det`` from pycocotools (maxDets [1, 10, max_det], area range 'all')."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, results = [], [], []
    for image_id, (name, d) in enumerate(gt.items(), start=1):
        images.append({"id": image_id})
        for x1, y1, x2, y2 in d.xyxy.tolist():
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": 1,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        results += pred[name].to_coco_results(image_id)
    coco_gt = COCO()
    coco_gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "object"}]}
    coco_gt.createIndex()
    ev = COCOeval(coco_gt, coco_gt.loadRes(results), "bbox")
    ev.params.maxDets = [1, 10, max_det]
    ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e10]], ["all"]
    ev.evaluate()
    ev.accumulate()
    precision, recall = ev.eval["precision"][:, :, :, 0, -1], ev.eval["recall"][:, :, 0, -1]
    return float(precision[precision > -1].mean()), float(recall[recall > -1].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--true", type=int, default=150, help="true boxes per image")
    parser.add_argument("--pred", type=int, default=300, help="predicted boxes per image")
    parser.add_argument("--max-det", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-pycocotools", action="store_true")
    args = parser.parse_args()

    gt, pred = synthetic_workload(args.images, args.true, args.pred, args.seed)
    print(f"workload: {args.images} images x {args.true} true x {args.pred} predicted boxes, max_det {args.max_det}")
    t0 = time.perf_counter()
    ours = evaluate_detections(gt, pred, max_det=args.max_det)
    t_ours = time.perf_counter() - t0
    print(f"shelfscan (faster-coco-eval): {t_ours:8.2f} s   AP50-95@{args.max_det} {ours.ap50_95:.6f}   "
          f"AR{args.max_det} {ours.ar:.6f}")
    if args.skip_pycocotools:
        return
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        ap, ar = pycocotools_eval(gt, pred, args.max_det)
    t_ref = time.perf_counter() - t0
    print(f"pycocotools:                  {t_ref:8.2f} s   AP50-95@{args.max_det} {ap:.6f}   AR{args.max_det} {ar:.6f}")
    print(f"speed-up {t_ref / t_ours:.1f}x, |AP difference| {abs(ap - ours.ap50_95):.2e}")


if __name__ == "__main__":
    main()
