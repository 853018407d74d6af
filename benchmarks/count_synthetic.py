"""Product-type grouping and per-type counts on synthetic shelves with known SKUs (``shelfscan.synth``).

    python benchmarks/count_synthetic.py [--images 24] [--seed 1000] [--width 1024] [--method auto]
                                         [--model shelf|PATH] [--conf 0.5] [--confirm-below 0.6] [--imgsz N|auto]
                                         [--tta] [--threads 2] [--crop-network imagenet+shelf|imagenet]
    python benchmarks/count_synthetic.py --speed [--threads 2]   # whole count of 1600-px photos, seconds

For each shelf ``render_shelf(seed + i, width)``:

- **true boxes**: ``group_products`` on the true boxes; ARI of the types against the SKU ids, and per-type counts
  (each type named by the SKU it shares most boxes with, ``match_clusters``; other types are extra types that
  count as wrong) scored with cAcc / ACD / mCCD / mCIoU.
- **end to end** (with ``--model``, ``shelf`` = the shipped detector): ``Detector.predict`` then
  ``group_products`` with the thresholds of ``shelfscan count`` (boxes >= 0.6 form types, 0.5-0.6 counted when
  they look like one); ARI over the detected boxes matched to a true box (IoU >= 0.5), counts over all detected
  boxes against all true boxes (missed products and false boxes both cost).

Prints one line per shelf, then means over shelves and the RPC metrics over all shelves together (SKU names are
shared across shelves, so mCIoU there averages per SKU over every shelf it is on). Times are per shelf, model
loading excluded: ``embed+group`` is ``group_products`` (crop, embed, cluster), ``detect`` is the detector.
"""
from __future__ import annotations

import argparse
import collections
import time

import numpy as np

from shelfscan.cli.common import imgsz_arg
from shelfscan.counting.config import COUNT_NETWORK, CountConfig
from shelfscan.embed import IMAGENET, PAIR
from shelfscan.inference.config import PRECISIONS, InferenceConfig

CROP_NETWORKS = {n.name: n for n in (IMAGENET, PAIR)}  # the shipped crop networks, for --crop-network


def match_boxes(pred: np.ndarray, true: np.ndarray, iou_min: float = 0.5) -> np.ndarray:
    """Index of the true box each predicted box is matched to (-1: none), one-to-one by IoU (Hungarian)."""
    from scipy.optimize import linear_sum_assignment
    from torchvision.ops import box_iou
    import torch

    out = np.full(len(pred), -1, np.int64)
    if len(pred) == 0 or len(true) == 0:
        return out
    iou = box_iou(torch.from_numpy(pred).float(), torch.from_numpy(true).float()).numpy()
    rows, cols = linear_sum_assignment(-iou)
    ok = iou[rows, cols] >= iou_min
    out[rows[ok]] = cols[ok]
    return out


def most_overlapped(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Index of the true box each predicted box overlaps most (-1: overlaps none)."""
    from torchvision.ops import box_iou
    import torch

    if len(pred) == 0 or len(true) == 0:
        return np.full(len(pred), -1, np.int64)
    iou = box_iou(torch.from_numpy(pred).float(), torch.from_numpy(true).float()).numpy()
    return np.where(iou.max(1) > 0, iou.argmax(1), -1)


def count_tables(true_names: list[str], cluster_ids: np.ndarray, matched_true: np.ndarray,
                 image_tag: str) -> tuple[dict, dict]:
    """True ``{sku: count}`` and predicted ``{name: count}``; a type is named after the SKU it shares most
    matched boxes with (one type per SKU), other types get a name of their own (never a true SKU)."""
    from shelfscan.metrics.type_counts import match_clusters

    true_counts = dict(collections.Counter(true_names))
    has = matched_true >= 0
    mapping = {}
    if has.any():
        mapping = match_clusters(np.array(true_names, dtype=object)[matched_true[has]].astype(str),
                                 cluster_ids[has])
    pred_counts: dict[str, int] = collections.Counter()
    for c in cluster_ids.tolist():
        name = mapping.get(c)
        pred_counts[str(name) if name is not None else f"{image_tag}/extra_{c}"] += 1
    return true_counts, dict(pred_counts)


def speed(args: argparse.Namespace) -> None:
    """Seconds of ``shelfscan.counting.count`` per 1600-px photo (models loaded beforehand), median of 3 runs:
    the first 5 sku110k-sample photos when ../shared is there, else 5 synthetic 1600x1200 shelves."""
    from pathlib import Path

    from shelfscan.counting import count, count_embedder
    from shelfscan.inference import Detector

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sku110k-sample" / "images"
    photos = sorted(shared.glob("*.jpg"))[:5]
    if photos:
        from shelfscan.data.images import read_image

        items = [(p.name, read_image(p)) for p in photos]
    else:
        from shelfscan.synth import render_shelf

        items = [(f"synthetic {s}", render_shelf(s, width=1600, height=1200, n_products=(130, 170))[0])
                 for s in range(5)]
    embedder = count_embedder(CROP_NETWORKS[args.crop_network], input_size=args.input_size, flip=args.flip,
                              threads=args.threads, precision=args.precision)
    detector = Detector(None if args.model in (None, "shelf") else args.model, threads=args.threads, imgsz=args.imgsz,
                        precision=args.precision, **({} if args.conf is None else {"conf": args.conf}))
    count(items[0][1], detector=detector, embedder=embedder)  # warm-up
    for name, image in items:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = count(image, detector=detector, embedder=embedder)
            times.append(time.perf_counter() - t0)
        print(f"{name}: {image.shape[1]}x{image.shape[0]}, {res.total} products, {res.num_types} types: "
              f"{sorted(times)[1]:.3f} s (median of 3, {args.threads} threads)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--method", default="auto", choices=["auto", "agglomerative", "hdbscan", "kmeans"])
    ap.add_argument("--threshold", type=float, default=None,
                    help="agglomerative cut (default: shelfscan count's, CountConfig.distance_threshold with its "
                         "linkage)")
    ap.add_argument("--linkage", default=CountConfig.linkage, choices=["single", "average", "complete"],
                    help=f"agglomerative linkage (default {CountConfig.linkage}, as shelfscan count)")
    ap.add_argument("--input-size", type=int, default=112)
    ap.add_argument("--flip", action=argparse.BooleanOptionalAction, default=CountConfig.flip,
                    help=f"add the mirror-image pass to the crop embeddings (default {CountConfig.flip}, as "
                         "shelfscan count)")
    ap.add_argument("--colour-weight", type=float, default=None)
    ap.add_argument("--crop-network", default=COUNT_NETWORK.name, choices=sorted(CROP_NETWORKS),
                    help=f"crop network (default {COUNT_NETWORK.name}, as shelfscan count)")
    # End to end: the detector (shelfscan.inference.Detector) in front of the grouping.
    ap.add_argument("--model", default=None, help="detector for the end-to-end run: 'shelf' or a path "
                    "(default: none, true boxes only)")
    ap.add_argument("--conf", type=float, default=CountConfig.count_conf,
                    help=f"detector score threshold (default {CountConfig.count_conf}, as shelfscan count)")
    ap.add_argument("--confirm-below", type=float, default=CountConfig.confirm_below,
                    help="boxes under this score are counted only when they look like a type (default "
                         f"{CountConfig.confirm_below}, as shelfscan count; 0: every box forms types)")
    ap.add_argument("--tta", action="store_true", help="detector: add the mirrored pass")
    ap.add_argument("--imgsz", type=imgsz_arg, default=None, help="detector size: pixels or auto (default: the "
                    "model's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default=InferenceConfig.precision, choices=PRECISIONS,
                    help="shipped model's arithmetic on the CPU (default: the detector's)")
    ap.add_argument("--speed", action="store_true",
                    help="only time the whole count (detect + embed + group) of 1600-px photos and exit")
    args = ap.parse_args()
    if args.speed:
        return speed(args)

    from sklearn.metrics import adjusted_rand_score

    from shelfscan.counting import count_embedder, group_products
    from shelfscan.metrics.type_counts import type_count_metrics
    from shelfscan.synth import render_shelf

    kw = {} if args.colour_weight is None else {"colour_weight": args.colour_weight}
    embedder = count_embedder(CROP_NETWORKS[args.crop_network], input_size=args.input_size, flip=args.flip,
                              threads=args.threads, precision=args.precision, **kw)
    detector = None
    if args.model is not None:
        from shelfscan.inference import Detector

        model = None if args.model == "shelf" else args.model
        detector = Detector(model, threads=args.threads, imgsz=args.imgsz, tta=args.tta, precision=args.precision,
                            **({} if args.conf is None else {"conf": args.conf}))
    print(f"embedder {embedder}, method {args.method}, detector {args.model or '-'} (imgsz {args.imgsz or 'model'})")
    runs = {"true boxes": collections.defaultdict(list)}
    if detector is not None:
        runs["end to end"] = collections.defaultdict(list)
        runs["detector-limited"] = collections.defaultdict(list)
    for i in range(args.images):
        seed = args.seed + i
        image, truth = render_shelf(seed, width=args.width)
        names = truth.labels
        tag = f"img{seed}"
        inputs = [("true boxes", truth, 0.0)]
        if detector is not None:
            t0 = time.perf_counter()
            det = detector.predict(image)
            inputs.append(("end to end", det, time.perf_counter() - t0))
        line = [f"seed {seed}: {len(truth):3d} products {len(set(names)):2d} SKUs"]
        for run, boxes, t_det in inputs:
            t0 = time.perf_counter()
            sc = group_products(image, boxes, method=args.method, embedder=embedder, keep_pixels=False,
                                distance_threshold=args.threshold, linkage=args.linkage,
                                confirm_below=args.confirm_below or None)
            boxes = sc.detections  # the boxes counted (weak boxes that look like no type are left out)
            t_group = time.perf_counter() - t0
            clusters = sc.detections.data["cluster_id"]
            matched = np.arange(len(truth)) if run == "true boxes" else match_boxes(boxes.xyxy, truth.xyxy)
            has = matched >= 0
            ari = adjusted_rand_score(np.array(names)[matched[has]], clusters[has]) if has.any() else float("nan")
            tc, pc = count_tables(names, clusters, matched, tag)
            one = type_count_metrics([tc], [pc])
            r = runs[run]
            r["ari"].append(ari)
            r["mciou"].append(one["mciou"])
            r["true"].append(tc)
            r["pred"].append(pc)
            r["t_group"].append(t_group)
            r["t_det"].append(t_det)
            r["k"].append(sc.num_types - len(set(names)))
            line.append(f"| {run}: {len(boxes):3d} boxes, {sc.num_types:2d} types, ARI {ari:.3f}, "
                        f"mCIoU {one['mciou']:.3f}, {t_group:.2f}s")
            if run == "end to end":
                # counts when every detected box gets the SKU of the true box it overlaps most (perfect grouping):
                # what is left is the detector's error (missed products, duplicate and misplaced boxes)
                near = most_overlapped(boxes.xyxy, truth.xyxy)
                oracle = np.where(near >= 0, truth.class_id[near.clip(0)], -1 - np.arange(len(near)))
                tc, pc = count_tables(names, oracle, near, tag)
                runs["detector-limited"]["mciou"].append(type_count_metrics([tc], [pc])["mciou"])
                runs["detector-limited"]["true"].append(tc)
                runs["detector-limited"]["pred"].append(pc)
        print(" ".join(line), flush=True)
    for run, r in runs.items():
        if run == "detector-limited":
            allm = type_count_metrics(r["true"], r["pred"])
            print(f"\nperfect grouping of the detected boxes (each box takes the SKU of the true box it overlaps "
                  f"most): mCIoU per shelf mean {np.mean(r['mciou']):.3f}; all shelves together {allm['mciou']:.3f}")
            continue
        allm = type_count_metrics(r["true"], r["pred"])
        print(f"\n{run} over {args.images} shelves: ARI mean {np.mean(r['ari']):.3f} (min {np.min(r['ari']):.3f}), "
              f"mCIoU per shelf mean {np.mean(r['mciou']):.3f}; all shelves together: mCIoU {allm['mciou']:.3f} "
              f"mCCD {allm['mccd']:.3f} ACD {allm['acd']:.2f} cAcc {allm['cacc']:.3f}; "
              f"types found - true: mean {np.mean(r['k']):+.2f}")
        print(f"  time per shelf: embed+group {np.mean(r['t_group']):.3f}s"
              + (f", detect {np.mean(r['t_det']):.3f}s" if run == "end to end" else ""))


if __name__ == "__main__":
    main()
