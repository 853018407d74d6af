"""Detector accuracy on the shared real data (SKU-110K protocol: class-agnostic, max 300 detections).

    python benchmarks/detector_accuracy.py [--model shelf] [--imgsz N|auto] [--merger nms em] [--sets grocery sku]

grocery: ../shared/data/grocery-shelves (11 photos, TRUE human boxes).
sku:     ../shared/data/sku110k-sample val split (30 photos, TEACHER labels: agreement, not truth).
Prints one JSON line per (set, merger) and a table.
A two-class (product + gap) model is scored on its product boxes only: these sets label no gaps
(benchmarks/gap_accuracy.py scores the gaps).
"""
from __future__ import annotations

import argparse
import json

from shelfscan.cli.common import imgsz_arg
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = {"grocery": ("grocery-shelves", None), "sku": ("sku110k-sample", "val")}


class ProductsOnly:
    """A detector's predictions without its gap boxes (for sets that label products only)."""

    def __init__(self, detector) -> None:
        self.detector = detector

    def __getattr__(self, name):
        return getattr(self.detector, name)

    def predict(self, image):
        from shelfscan.counting.gaps import split_gaps

        return split_gaps(self.detector.predict(image))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--imgsz", type=imgsz_arg, default=None, help="pixels or auto (default: the model's)")
    ap.add_argument("--conf", type=float, default=0.05)
    ap.add_argument("--tile", type=int, default=None)
    ap.add_argument("--tta", action="store_true", help="add the mirrored pass")
    ap.add_argument("--merger", nargs="+", default=["nms"], choices=["nms", "em"])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=str(SHARED))
    args = ap.parse_args()

    from shelfscan.data import load_dataset
    from shelfscan.engine.evaluate import evaluate_detector
    from shelfscan.inference import Detector

    rows = []
    for set_name in args.sets:
        folder, split = SETS[set_name]
        path = Path(args.data) / folder
        if not path.is_dir():
            print(f"skip {set_name}: {path} not found")
            continue
        ds = load_dataset(path, split)
        for merger in args.merger:
            det = Detector(args.model, imgsz=args.imgsz, conf=args.conf, max_det=300, merger=merger,
                           tile=args.tile, threads=args.threads, tta=args.tta)
            if "gap" in det.class_names:
                det = ProductsOnly(det)
            t = time.perf_counter()
            m = evaluate_detector(det, ds, max_det=300)
            row = {"set": set_name, "merger": merger, "imgsz": "auto" if det.auto else det.imgsz, **{k: round(v, 4) for k, v in m.items()},
                   "seconds": round(time.perf_counter() - t, 1)}
            rows.append(row)
            print(json.dumps(row))
    print(f"{'set':8} {'merger':6} {'AP50-95':>8} {'AP50':>6} {'AP75':>6} {'AR300':>6} {'cntMAE':>7}")
    for r in rows:
        print(f"{r['set']:8} {r['merger']:6} {r['ap50_95']:8.3f} {r['ap50']:6.3f} {r['ap75']:6.3f} "
              f"{r['ar300']:6.3f} {r['count_mae']:7.2f}")


if __name__ == "__main__":
    main()
