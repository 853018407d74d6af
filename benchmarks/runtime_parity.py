"""Do PyTorch and ONNX Runtime give the same boxes? The shipped shelf model on sku110k-sample val photos.

    python benchmarks/runtime_parity.py [--data ../shared/data/sku110k-sample] [--imgsz N|auto] [--conf 0.05]
        [--threads 2] [--max-photos 30]

Runs the same photos through ``Detector("shelf", runtime="torch")`` (the checkpoint in PyTorch) and through
ONNX Runtime at ``precision="fp32"`` (the exported twin) and ``"int8"`` (the quantized one, what a CPU runs by
default), each with the default working size unless ``--imgsz``. Per runtime against PyTorch, over all photos:

- ``matched``: share of PyTorch's boxes with a partner box in the other run (one-to-one, greedy by IoU, IoU >= 0.9),
  and share of the other run's boxes with one (both 1.0 = the same set of boxes);
- ``max |dxy|`` / ``max |dscore|``: the largest corner (pixels) and score differences over the matched pairs;
- ``sizes``: photos on which ``imgsz="auto"`` chose the same working size;
- AP@[.5:.95] / AP50 of those same predictions against the (teacher) labels (``evaluate_detections``, max 300
  boxes).

Each runtime predicts each photo once (``engine.evaluate.predict_dataset``); the comparison, the sizes
(``metadata["imgsz"]``) and the AP are read from those predictions.

Needs PyTorch (``pip install 'shelfscan[train]'``) and ../shared.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from shelfscan.cli.common import imgsz_arg

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sku110k-sample"


def compare(ref: list, other: list, iou_min: float) -> dict[str, float]:
    """Matched shares and largest differences between two lists of per-photo Detections."""
    from shelfscan.box_ops import match_greedy

    n_ref = n_other = hit = 0
    dxy = dscore = 0.0
    for a, b in zip(ref, other):
        m = match_greedy(a.xyxy, b.xyxy, iou_min)
        ok = m >= 0
        n_ref, n_other, hit = n_ref + len(a), n_other + len(b), hit + int(ok.sum())
        if ok.any():
            dxy = max(dxy, float(np.abs(a.xyxy[ok] - b.xyxy[m[ok]]).max()))
            dscore = max(dscore, float(np.abs(a.scores[ok] - b.scores[m[ok]]).max()))
    return {"matched_ref": hit / max(n_ref, 1), "matched_other": hit / max(n_other, 1), "max_dxy": dxy,
            "max_dscore": dscore, "boxes_ref": n_ref, "boxes_other": n_other}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED))
    ap.add_argument("--imgsz", type=imgsz_arg, default=None, help="pixels or auto (default: the model's)")
    ap.add_argument("--conf", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-photos", type=int, default=30)
    ap.add_argument("--iou", type=float, default=0.9, help="IoU at which two boxes are the same box")
    args = ap.parse_args()

    from shelfscan.data import load_dataset
    from shelfscan.engine.evaluate import predict_dataset
    from shelfscan.inference import Detector
    from shelfscan.metrics.detection import evaluate_detections

    if not Path(args.data).is_dir():
        print(f"skip: {args.data} not found")
        return 0
    ds = load_dataset(args.data, "val")
    ds.images = ds.images[: args.max_photos]
    gt = {r.name: r.boxes for r in ds.images}
    runs = {"torch": dict(runtime="torch"), "onnx fp32": dict(runtime="onnx", precision="fp32"),
            "onnx int8": dict(runtime="onnx", precision="int8")}
    preds, sizes, scores = {}, {}, {}
    for name, options in runs.items():
        det = Detector(None, imgsz=args.imgsz, conf=args.conf, max_det=300, threads=args.threads, **options)
        found = predict_dataset(det, ds)
        scores[name] = evaluate_detections(gt, found, max_det=300, class_agnostic=True)
        preds[name] = [found[r.name] for r in ds.images]
        sizes[name] = [d.metadata["imgsz"] for d in preds[name]]
    print(f"{len(gt)} sku110k-sample val photos, imgsz {args.imgsz or 'default'}, conf {args.conf}")
    print(f"{'runtime':10} {'AP50-95':>8} {'AP50':>6} {'boxes':>6} {'matched':>15} {'max|dxy|':>9} "
          f"{'max|dscore|':>11} {'sizes':>6}")
    for name in runs:
        c = compare(preds["torch"], preds[name], args.iou)
        same = sum(a == b for a, b in zip(sizes["torch"], sizes[name]))
        print(f"{name:10} {scores[name].ap50_95:8.4f} {scores[name].ap50:6.4f} {c['boxes_other']:6d} "
              f"{c['matched_ref']:7.4f}/{c['matched_other']:.4f} {c['max_dxy']:9.3f} {c['max_dscore']:11.4f} "
              f"{same:>3}/{len(gt)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
