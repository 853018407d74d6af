"""Apparel model on its held-out split: per-class AP50 and AP@[.5:.95] (COCO, maxDets 100) and seconds per photo.

    python benchmarks/apparel_accuracy.py [--model apparel] [--data DIR [DIR ...]] [--holdout 0.15]
                                          [--holdout-seed 0] [--imgsz N] [--threads 2] [--runtime auto|torch|onnx]
                                          [--score-from DIR]

The split is the one `shelfscan train --data <the same DIRs> --holdout 0.15 --holdout-seed 0` left out
(``shelfscan.data.holdout_split``: images sorted by name, seeded permutation; several DIRs are pooled first, as
training pools them). Default DIR: ../shared/data/apparel (v1's split); `--data ../shared/data/apparel
../shared/data/apparel-extra` is the pooled split of issue #20. Prints the per-class table, the
means (the COCO mAP), and the median seconds per photo (400×600, model loading excluded, decoding excluded).
``--score-from ../shared/data/apparel-extra`` scores only the held-out photos of that folder: v1 was trained on
``apparel/`` with its own split, so only the pooled held-out photos from ``apparel-extra`` are new to both models.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "apparel"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="apparel")
    ap.add_argument("--data", nargs="+", default=[str(SHARED)])
    ap.add_argument("--holdout", type=float, default=0.15)
    ap.add_argument("--holdout-seed", type=int, default=0)
    ap.add_argument("--imgsz", type=int, default=None)
    ap.add_argument("--conf", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])
    ap.add_argument("--tta", action="store_true", help="add the mirrored pass")
    ap.add_argument("--score-from", default=None, metavar="DIR",
                    help="score only the held-out photos whose files lie under DIR (one of --data)")
    args = ap.parse_args()

    from shelfscan.data import holdout_split, load_dataset, read_image
    from shelfscan.inference import Detector
    from shelfscan.metrics import evaluate_detections

    from shelfscan.data.combine import concat_datasets

    missing = [d for d in args.data if not Path(d).is_dir()]
    if missing:
        print(f"skip: {', '.join(missing)} not found")
        return 0
    held = holdout_split(concat_datasets([load_dataset(d) for d in args.data]), args.holdout, args.holdout_seed)[1]
    records = held.images
    if args.score_from is not None:
        root = Path(args.score_from).resolve()
        records = [r for r in records if Path(r.path).resolve().is_relative_to(root)]
        if not records:
            print(f"--score-from {args.score_from}: expected held-out photos under it, got none of {len(held)}")
            return 1
    det = Detector(args.model, imgsz=args.imgsz, conf=args.conf, max_det=100, threads=args.threads,
                   runtime=args.runtime, tta=args.tta)
    images = [(r.name, read_image(r.path)) for r in records]
    det.predict(images[0][1])  # warm-up
    preds, times = {}, []
    for name, image in images:
        t0 = time.perf_counter()
        preds[name] = det.predict(image)
        times.append(time.perf_counter() - t0)
    gt = {r.name: r.boxes for r in records}
    m = evaluate_detections(gt, preds, max_det=100, class_agnostic=False)
    runtime = type(det.model).__name__
    scored = "" if args.score_from is None else f", {len(records)} of them from {args.score_from} scored"
    print(f"{len(held)} held-out photos{scored}, model {args.model} ({runtime}), imgsz {det.imgsz}, {args.threads} threads"
          f"{', with the mirrored pass' if args.tta else ''}")
    print(f"{'class':<10}{'AP50':>8}{'AP50-95':>9}{'AR100':>8}")
    for name, v in m.per_class.items():
        print(f"{name:<10}{v['ap50']:>8.3f}{v['ap50_95']:>9.3f}{v['ar']:>8.3f}")
    print(f"{'mean':<10}{m.ap50:>8.3f}{m.ap50_95:>9.3f}{m.ar:>8.3f}")
    h, w = images[0][1].shape[:2]
    print(f"seconds per photo ({w}x{h}): median {statistics.median(times):.3f}, "
          f"p90 {sorted(times)[int(0.9 * (len(times) - 1))]:.3f}")
    print(json.dumps({"map50": round(m.ap50, 4), "map50_95": round(m.ap50_95, 4), "ar100": round(m.ar, 4),
                      "per_class_ap50": {k: round(v["ap50"], 4) for k, v in m.per_class.items()},
                      "median_s": round(statistics.median(times), 4), "images": len(records)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
