"""Gap (empty shelf space) accuracy of a two-class shelf model on shelf-photos-640 val (127 photos, 759 HUMAN gap
boxes), and its products' agreement with the teacher boxes of the same photos.

    python benchmarks/gap_accuracy.py --model runs/train/gap-v1/best.pt [--imgsz N|auto] [--count-thr 0.5]

gaps:     COCO AP@[.5:.95], AP50, AP75 and AR at maxDets 100 (faster-coco-eval, as shelfscan.metrics), the model's
          gap boxes only, against ../shared/data/shelf-photos-640/gaps/annotations_val.csv; count MAE / RMSE of
          gaps scoring >= --count-thr per photo.
products: the same photos' teacher product boxes (class-agnostic, maxDets 300, the model's product boxes only);
          agreement with the teacher, not truth.
Prints one JSON line per part and a table. Train without these photos (they are the val split).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from shelfscan.cli.common import imgsz_arg

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a two-class (object/product + gap) checkpoint or shipped name")
    ap.add_argument("--imgsz", type=imgsz_arg, default=None, help="pixels or auto (default: the model's)")
    ap.add_argument("--conf", type=float, default=0.01)
    ap.add_argument("--count-thr", type=float, default=0.5, help="score a gap needs to be counted (default 0.5)")
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runtime", default="auto", choices=("auto", "torch", "onnx"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--max-images", type=int, default=None, help="first N photos only (quick checks)")
    ap.add_argument("--data", default=str(SHARED / "shelf-photos-640"))
    ap.add_argument("--save-preds", default=None, help="also write the predictions CSV here")
    args = ap.parse_args()

    root = Path(args.data)
    if not (root / "gaps").is_dir():
        print(f"skip: {root / 'gaps'} not found")
        return

    from shelfscan.counting.gaps import GAP_CLASS, split_gaps
    from shelfscan.data import load_dataset
    from shelfscan.data.combine import concat_datasets
    from shelfscan.engine.evaluate import predict_dataset
    from shelfscan.inference import Detector
    from shelfscan.metrics.counting import count_errors
    from shelfscan.metrics.detection import evaluate_detections

    gaps_gt = load_dataset(root / "gaps", args.split)
    products_gt = load_dataset(root, args.split)
    pooled = concat_datasets([products_gt, gaps_gt])  # one record per photo, products + gaps
    if args.max_images:
        pooled.images = pooled.images[: args.max_images]
    det = Detector(args.model, imgsz=args.imgsz, conf=args.conf, max_det=1000, tta=args.tta, threads=args.threads,
                   runtime=args.runtime)
    if GAP_CLASS not in det.class_names:
        raise SystemExit(f"--model {args.model}: expected a model with a {GAP_CLASS!r} class, got {det.class_names}")
    t = time.perf_counter()
    preds = predict_dataset(det, pooled, progress=True)
    seconds = time.perf_counter() - t
    if args.save_preds:
        from shelfscan.data.predictions import write_predictions_csv

        write_predictions_csv(args.save_preds, preds)
    split = {name: split_gaps(p) for name, p in preds.items()}
    gt = {r.name: split_gaps(r.boxes) for r in pooled.images}
    rows = []
    for part, k, max_det in (("gaps", 1, 100), ("products", 0, 300)):
        truth = {n: v[k] for n, v in gt.items()}
        found = {n: v[k] for n, v in split.items()}
        m = evaluate_detections(truth, found, max_det=max_det, class_agnostic=True)
        c = count_errors(truth, found, score_threshold=args.count_thr)
        row = {"part": part, "model": str(args.model), "imgsz": "auto" if det.auto else det.imgsz,
               "max_det": max_det, "images": len(truth), "true_boxes": sum(len(v) for v in truth.values()),
               "ap50_95": round(m.ap50_95, 4), "ap50": round(m.ap50, 4), "ap75": round(m.ap75, 4),
               "ar": round(m.ar, 4), "count_mae": round(c["mae"], 3), "count_rmse": round(c["rmse"], 3),
               "count_thr": args.count_thr, "seconds": round(seconds, 1)}
        if part == "gaps":  # the count error at a few thresholds (reported, not chosen here)
            row["count_mae_at"] = {str(thr): round(count_errors(truth, found, score_threshold=thr)["mae"], 3)
                                   for thr in (0.3, 0.4, 0.5, 0.6)}
        rows.append(row)
        print(json.dumps(row))
    print(f"{'part':9} {'maxDets':>7} {'AP50-95':>8} {'AP50':>6} {'AP75':>6} {'AR':>6} {'cntMAE':>7}")
    for r in rows:
        print(f"{r['part']:9} {r['max_det']:7d} {r['ap50_95']:8.3f} {r['ap50']:6.3f} {r['ap75']:6.3f} "
              f"{r['ar']:6.3f} {r['count_mae']:7.2f}")


if __name__ == "__main__":
    main()
