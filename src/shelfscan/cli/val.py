"""``shelfscan val``: score a predictions CSV against a dataset's boxes (COCO AP/AR at max_det, counting error)."""
from __future__ import annotations

import argparse
import json
import math
import sys

from shelfscan.cli.common import add_runtime, imgsz_arg
from shelfscan.errors import InputError
from shelfscan.inference.config import InferenceConfig
from shelfscan.metrics.config import EvalConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "val",
        help="evaluate predictions or a model against ground truth (AP50-95, AP50, AP75, AR, count MAE/RMSE)",
        description="Evaluate a predictions CSV, or a model run over the dataset's images, against the "
                    "ground-truth boxes. Class-agnostic COCO box AP/AR with at most --max-det detections per "
                    "image, as in the SKU-110K protocol (--per-class: per class and their mean, as COCO), and the "
                    "per-image count error of predictions with score >= --count-thr. With --pred only the "
                    "annotations are read; a ground-truth image without predictions counts as all misses, a "
                    "predicted image name not in the ground truth is an error.",
    )
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="ground truth: a dataset folder or annotation file (any format); several are pooled as "
                        "`shelfscan train --data A B` pools them")
    p.add_argument("--split", default=None, help="split to evaluate when the dataset has several (e.g. val, test)")
    p.add_argument("--holdout", type=float, default=None,
                   help="evaluate only the held-out part of --data that `shelfscan train --holdout F` left out "
                        "(same folders, --split, fraction and --holdout-seed give the same images)")
    p.add_argument("--holdout-seed", type=int, default=0)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pred", help="predictions CSV (as written by shelfscan.data.write_predictions_csv)")
    src.add_argument("--model", help="run this model over the dataset's images instead: a shipped name "
                                     "(shelf, apparel) or a .pt/.onnx path")
    ev = EvalConfig
    p.add_argument("--imgsz", type=imgsz_arg, default=InferenceConfig.imgsz,
                   help="with --model: working resolution or 'auto' (default: the model's)")
    p.add_argument("--conf", type=float, default=ev.conf, help=f"with --model: score threshold (default {ev.conf})")
    p.add_argument("--tta", action="store_true", default=InferenceConfig.tta,
                   help="with --model: add the mirrored pass")
    p.add_argument("--max-det", type=int, default=ev.max_det,
                   help=f"most detections per image, by score (default {ev.max_det}, the SKU-110K protocol); "
                        "the recall is reported as ar<max-det>, e.g. ar300")
    p.add_argument("--count-thr", type=float, default=ev.count_threshold,
                   help=f"score a prediction needs to be counted in the count error (default {ev.count_threshold})")
    p.add_argument("--per-class", action="store_true",
                   help="evaluate per class: predicted class names are matched to the ground truth's")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_runtime(p)
    p.set_defaults(func=run)


def _finite(value: float) -> float | None:
    """JSON has no NaN: undefined metrics (no true box at all) become null."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _table(result: dict, max_det: int) -> str:
    rows = [("images", str(result["images"]))]
    for key, label in (("ap50_95", "AP50-95"), ("ap50", "AP50"), ("ap75", "AP75"), (f"ar{max_det}", f"AR{max_det}"),
                       ("count_mae", "count MAE"), ("count_rmse", "count RMSE")):
        value = result[key]
        rows.append((label, "n/a" if value is None else f"{value:.4f}"))
    lines = [f"{label:<12}{value:>10}" for label, value in rows]
    per_class = result.get("per_class")
    if per_class:
        width = max(12, *(len(name) + 2 for name in per_class))
        lines += ["", f"{'class':<{width}}{'AP50-95':>10}{'AP50':>10}{'AP75':>10}{f'AR{max_det}':>10}"]
        for name, m in per_class.items():
            lines.append(f"{name:<{width}}" + "".join(f"{m[k]:>10.4f}" for k in ("ap50_95", "ap50", "ap75", "ar")))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from shelfscan.data import load_dataset, read_predictions_csv
    from shelfscan.metrics import count_errors, evaluate_detections

    if args.max_det < 1:
        raise InputError(f"--max-det: expected an integer >= 1, got {args.max_det}")
    from shelfscan.data.combine import concat_datasets

    dataset = concat_datasets([load_dataset(path, args.split, check_images=args.model is not None)
                               for path in args.data])
    if not dataset.report.clean:
        print(dataset.report.summary(), file=sys.stderr)
    if args.holdout is not None:
        from shelfscan.data.split import holdout_split

        dataset = holdout_split(dataset, args.holdout, args.holdout_seed)[1]
    if len(dataset) == 0:
        raise InputError(f"--data {' '.join(args.data)}: expected a dataset with at least one image, got none")
    ground_truth = {record.name: record.boxes for record in dataset}
    if args.model is not None:
        from shelfscan.engine.evaluate import predict_dataset
        from shelfscan.inference import Detector

        detector = Detector(args.model, imgsz=args.imgsz, conf=args.conf, max_det=args.max_det, tta=args.tta,
                            runtime=args.runtime, precision=args.precision)
        predictions = predict_dataset(detector, dataset, progress=not args.json)
    else:
        predictions = read_predictions_csv(args.pred)

    from shelfscan.models.config import GAP_CLASS

    if not args.per_class and GAP_CLASS not in dataset.class_names:
        # a two-class (product + gap) model against products-only boxes: its gaps are not products
        from shelfscan.counting.gaps import split_gaps

        n_gaps = sum(len(split_gaps(p)[1]) for p in predictions.values())
        if n_gaps:
            predictions = {name: split_gaps(p)[0] for name, p in predictions.items()}
            print(f"left out {n_gaps} predicted gap boxes: the ground truth labels no gaps (--per-class scores "
                  f"each class)", file=sys.stderr)
    det = evaluate_detections(ground_truth, predictions, max_det=args.max_det, class_agnostic=not args.per_class)
    counts = count_errors(ground_truth, predictions, score_threshold=args.count_thr)
    result = {"ap50_95": det.ap50_95, "ap50": det.ap50, "ap75": det.ap75, f"ar{det.max_det}": det.ar,
              "count_mae": counts["mae"], "count_rmse": counts["rmse"], "images": det.images}
    result = {k: _finite(v) for k, v in result.items()}
    if args.per_class:
        result["per_class"] = {name: {k: _finite(v) for k, v in m.items()} for name, m in det.per_class.items()}
    if args.json:
        print(json.dumps(result))
    else:
        print(_table(result, det.max_det))
    return 0
