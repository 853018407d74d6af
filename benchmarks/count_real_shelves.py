"""Per-type counts on real shelf photos whose products were typed by eye (``benchmarks/data/shelf_types/``).

    python benchmarks/count_real_shelves.py [--labels benchmarks/data/shelf_types]
        [--images ../shared/data/sku110k-sample/images] [--model shelf|PATH] [--imgsz N|auto] [--conf S]
        [--confirm-below S] [--method auto] [--threads 2] [--only STEM ...] [--json out.json]
        [--embedder-weights state_dict.pt]

Each label file is ``{"image", "boxes" (xyxy), "types" (int per box, -1 = not judged), "notes"}``, made with
``../shared/tools/label_types.py`` on the photo's teacher boxes (protocol in the file's notes and in the README).

Per photo, ``shelfscan.count`` runs with the given settings (defaults: ``count``'s own). Its counted boxes are
matched one-to-one to the labelled boxes (IoU >= 0.5, greedy by IoU), and over the matched judged boxes:

- ``ari``: adjusted Rand index of predicted types against true types (photos with >= 2 true types);
- ``mciou``: per-shelf count mCIoU (types paired by Hungarian matching on shared boxes, a pair scores min/max of
  its two counts, unpaired types score 0, mean over all types of both sides: ``metrics.shelf_type_scores``);
- ``recall``: matched judged boxes / judged boxes;
- ``precision``: counted boxes matched to a labelled box (judged or not) / counted boxes: lowering the
  thresholds raises recall and lowers this (the labelled boxes are the teacher's, so it measures agreement);
- ``types``: predicted / true types.

``labelled boxes`` repeats the grouping on the labelled boxes themselves (every one scored 1.0, no detector), so
the grouping's share of the error can be told from the detector's. Photos the counting defaults were tuned on are
marked ``*`` (``TUNED_ON``); the others were never looked at while tuning.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from shelfscan.inference.config import PRECISIONS, InferenceConfig

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "data" / "shelf_types"
IMAGES = ROOT.parent / "shared" / "data" / "sku110k-sample" / "images"
# photos whose scores were looked at while choosing the counting defaults (the rest are held out)
TUNED_ON = ("train_2978", "train_2992", "train_3011", "train_3131", "train_3147", "train_3180")


def load_labels(path: Path) -> dict:
    """A label file -> dict with ``boxes`` float64 (N, 4) and ``types`` int64 (N,)."""
    d = json.loads(path.read_text())
    boxes = np.asarray(d["boxes"], np.float64).reshape(-1, 4)
    types = np.asarray(d["types"], np.int64)
    if len(types) != len(boxes):
        sys.exit(f"{path}: expected one type per box ({len(boxes)}), got {len(types)}")
    return {"image": d["image"], "boxes": boxes, "types": types, "notes": d.get("notes", "")}


def score_photo(labels: dict, boxes: np.ndarray, pred_types: np.ndarray) -> dict:
    """Scores of predicted boxes + types against one photo's labels (see the module docstring)."""
    from shelfscan.box_ops import match_greedy
    from shelfscan.metrics import shelf_type_scores

    judged = labels["types"] >= 0
    match = match_greedy(boxes, labels["boxes"])
    ok = match >= 0
    ok[ok] = judged[match[ok]]
    res = shelf_type_scores(labels["types"][match[ok]], pred_types[ok])
    res["recall"] = float(ok.sum() / max(int(judged.sum()), 1))
    res["precision"] = float((match >= 0).sum() / max(len(boxes), 1))
    res["types_true"] = int(len(np.unique(labels["types"][judged])))
    return res


def run_count(image: np.ndarray, args: argparse.Namespace, detector, embedder) -> tuple[np.ndarray, np.ndarray, float]:
    import shelfscan.counting as sc

    kw = {} if args.confirm_below is None else {"confirm_below": args.confirm_below}
    t = time.perf_counter()
    result = sc.count(image, detector=detector, embedder=embedder, method=args.method, conf=args.conf, **kw)
    return result.detections.xyxy, result.detections.data["cluster_id"], time.perf_counter() - t


def run_labelled(image: np.ndarray, labels: dict, args: argparse.Namespace, embedder) -> np.ndarray:
    from shelfscan import Detections
    from shelfscan.counting import group_products

    n = len(labels["boxes"])
    dets = Detections(labels["boxes"].astype(np.float32), np.ones(n, np.float32), np.zeros(n, np.int64))
    return group_products(image, dets, method=args.method, embedder=embedder,
                          keep_pixels=False).detections.data["cluster_id"]


def mean(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if not math.isnan(r[key])]
    return float(np.mean(vals)) if vals else math.nan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--images", type=Path, default=IMAGES)
    ap.add_argument("--model", default=None, help="shipped model name or checkpoint (default: the shelf model)")
    ap.add_argument("--imgsz", default=None, help="working size (default: the detector's default)")
    ap.add_argument("--conf", type=float, default=None, help="detector threshold (default: count's)")
    ap.add_argument("--confirm-below", type=float, default=None, help="default: count's")
    ap.add_argument("--method", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tta", action="store_true", help="detector: add the mirrored pass")
    ap.add_argument("--precision", default=InferenceConfig.precision, choices=PRECISIONS,
                    help="shipped model's arithmetic on the CPU (default: the detector's)")
    ap.add_argument("--only", nargs="*", default=None, help="photo stems to run (default: all)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--embedder-weights", type=Path, default=None,
                    help="crop network weights (lukemelas-layout EfficientNet-Lite0 state_dict; needs torch) "
                         "instead of the shipped one, e.g. a shelf-trained embedder")
    args = ap.parse_args()

    from shelfscan.cli.common import imgsz_arg
    from shelfscan.counting.config import CountConfig
    from shelfscan.data.images import read_image
    from shelfscan.inference import Detector

    files = sorted(args.labels.glob("*.json"))
    if args.only:
        files = [f for f in files if f.stem in args.only]
    if not files or not args.images.is_dir():
        sys.exit(f"expected label files in {args.labels} and photos in {args.images}")
    kw = {} if args.imgsz is None else {"imgsz": imgsz_arg(args.imgsz)}
    low = CountConfig.count_conf
    detector = Detector(args.model, conf=low if args.conf is None else min(args.conf, low),
                        threads=args.threads, precision=args.precision, tta=args.tta, **kw)
    embedder = None  # count's own default
    if args.embedder_weights is not None:
        from shelfscan.embed import CropEmbedder

        embedder = CropEmbedder(flip=CountConfig.flip, threads=args.threads, weights=args.embedder_weights)
    rows, rows_gt = [], []
    print(f"{'photo':<13} {'ARI':>6} {'mCIoU':>6} {'recall':>6} {'prec':>5} {'types':>8} {'s':>5}   labelled boxes: "
          f"{'ARI':>6} {'mCIoU':>6} {'types':>8}")
    for f in files:
        labels = load_labels(f)
        image = read_image(args.images / labels["image"])
        boxes, types, secs = run_count(image, args, detector, embedder)
        r = {"photo": f.stem, "tuned_on": f.stem in TUNED_ON, "seconds": secs, **score_photo(labels, boxes, types)}
        g = {"photo": f.stem, **score_photo(labels, labels["boxes"], run_labelled(image, labels, args, embedder))}
        rows.append(r)
        rows_gt.append(g)
        mark = "*" if r["tuned_on"] else " "
        print(f"{f.stem + mark:<13} {r['ari']:>6.3f} {r['mciou']:>6.3f} {r['recall']:>6.3f} {r['precision']:>5.3f} "
              f"{r['types_pred']:>3}/{r['types_true']:<4} {secs:>5.2f}   {'':>15}"
              f"{g['ari']:>6.3f} {g['mciou']:>6.3f} {g['types_pred']:>3}/{g['types_true']:<4}", flush=True)
    for name, subset in (("all", rows), ("held out", [r for r in rows if not r["tuned_on"]]),
                         ("tuned on", [r for r in rows if r["tuned_on"]])):
        if subset:
            stems = {r["photo"] for r in subset}
            gt = [g for g in rows_gt if g["photo"] in stems]
            print(f"mean {name} ({len(subset)}): ARI {mean(subset, 'ari'):.3f}  mCIoU {mean(subset, 'mciou'):.3f}  "
                  f"recall {mean(subset, 'recall'):.3f}  precision {mean(subset, 'precision'):.3f}  "
                  f"| labelled boxes: ARI {mean(gt, 'ari'):.3f}  "
                  f"mCIoU {mean(gt, 'mciou'):.3f}")
    if args.json:
        args.json.write_text(json.dumps({"count": rows, "labelled_boxes": rows_gt}, indent=1))


if __name__ == "__main__":
    main()
