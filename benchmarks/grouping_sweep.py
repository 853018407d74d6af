"""Sweep the counting settings (linkage, cut, score thresholds) on the real-shelf dev set, with cached crops.

    python benchmarks/grouping_sweep.py [--cache runs/grouping_cache] [--linkage average single]
        [--threshold 0.9 1.0 1.1] [--conf 0.5 0.45] [--confirm-below 0.65] [--neighbours 0 5] [--labelled]
        [--embedder-weights state_dict.pt]

The detector (score >= 0.2) and the crop embedder run once per photo of ``benchmarks/data/shelf_types`` and are
cached (``--cache``, one folder per crop network: ``--embedder-weights`` needs its own); every setting then reruns only ``group_products`` on the cached boxes and embeddings, so a
grid of dozens of settings takes minutes. Per setting it prints ARI, per-shelf count mCIoU and recall (as
``count_real_shelves.py``) and the mean |counted - judged| / judged products per photo, on the TUNED_ON photos,
the held-out ones and all. ``--labelled`` groups the labelled boxes themselves (the grouping alone). Choose
settings on the tuned photos only; report the held-out ones.
"""
from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import numpy as np

from shelfscan.counting.config import CountConfig

from count_real_shelves import IMAGES, LABELS, TUNED_ON, load_labels, score_photo

ROOT = Path(__file__).resolve().parents[1]
CACHE_CONF = 0.2  # the lowest score any swept setting may use


class CachedEmbedder:
    """Answers ``embed_boxes`` from embeddings computed once for a superset of the boxes."""

    def __init__(self, xyxy: np.ndarray, embeddings: np.ndarray) -> None:
        self.table = {tuple(np.round(b, 2)): e for b, e in zip(np.asarray(xyxy, np.float32), embeddings)}
        self.dim = embeddings.shape[1]

    def embed_boxes(self, image, xyxy) -> np.ndarray:
        rows = [self.table[tuple(np.round(b, 2))] for b in np.asarray(xyxy, np.float32)]
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


def load_photos(cache: Path, images: Path, embedder_weights: Path | None = None) -> list[dict]:
    """Each labelled photo with its pixels, labels, cached detections and embeddings (computed when missing;
    with ``count``'s crop network, or fp32 ``embedder_weights``)."""
    from shelfscan.counting.shelf_count import default_embedder
    from shelfscan.embed import CropEmbedder
    from shelfscan.data.images import read_image
    from shelfscan.inference import Detector

    cache.mkdir(parents=True, exist_ok=True)
    detector, photos = None, []
    for f in sorted(LABELS.glob("*.json")):
        labels = load_labels(f)
        image = read_image(images / labels["image"])
        path = cache / f"{f.stem}.npz"
        if not path.exists():
            detector = detector or Detector(None, conf=CACHE_CONF)
            det = detector.predict(image)
            emb = (default_embedder() if embedder_weights is None else
                   CropEmbedder(flip=CountConfig.flip, weights=embedder_weights))
            np.savez(path, xyxy=det.xyxy, scores=det.scores, e_det=emb.embed_boxes(image, det.xyxy),
                     e_lab=emb.embed_boxes(image, labels["boxes"].astype(np.float32)))
        photos.append({"stem": f.stem, "labels": labels, "image": image, **dict(np.load(path))})
    return photos


def run_setting(photos: list[dict], labelled: bool, conf: float, **grouping) -> list[dict]:
    """Scores of one setting on every photo."""
    from shelfscan import Detections
    from shelfscan.counting import group_products

    rows = []
    for p in photos:
        if labelled:
            xyxy = p["labels"]["boxes"].astype(np.float32)
            det = Detections(xyxy, np.ones(len(xyxy), np.float32))
            embedder, kw = CachedEmbedder(xyxy, p["e_lab"]), {k: v for k, v in grouping.items()
                                                                 if k != "confirm_below"}
        else:
            keep = p["scores"] >= conf
            det = Detections(p["xyxy"][keep], p["scores"][keep])
            embedder, kw = CachedEmbedder(p["xyxy"], p["e_det"]), grouping
        result = group_products(p["image"], det, embedder=embedder, keep_pixels=False, **kw)
        row = score_photo(p["labels"], result.detections.xyxy, result.detections.data["cluster_id"])
        judged = max(int((p["labels"]["types"] >= 0).sum()), 1)
        row.update(stem=p["stem"], count_error=abs(len(result.detections) - judged) / judged)
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> str:
    def mean(key: str, sub: list[dict]) -> float:
        vals = [r[key] for r in sub if not math.isnan(r[key])]
        return float(np.mean(vals)) if vals else math.nan

    parts = []
    for name, sub in (("tuned", [r for r in rows if r["stem"] in TUNED_ON]),
                      ("held", [r for r in rows if r["stem"] not in TUNED_ON]), ("all", rows)):
        parts.append(f"{name} {mean('ari', sub):.3f}/{mean('mciou', sub):.3f}/{mean('recall', sub):.3f}/"
                     f"{mean('count_error', sub):.3f}")
    return "  ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "grouping_cache")
    ap.add_argument("--images", type=Path, default=IMAGES)
    ap.add_argument("--linkage", nargs="+", default=["average"])
    ap.add_argument("--threshold", nargs="+", type=float, default=[1.0])
    ap.add_argument("--conf", nargs="+", type=float, default=[CountConfig.count_conf])
    ap.add_argument("--confirm-below", nargs="+", type=float, default=[CountConfig.confirm_below])
    ap.add_argument("--neighbours", nargs="+", type=int, default=[CountConfig.neighbours],
                    help="k of the shared-neighbour view (0: without it)")
    ap.add_argument("--labelled", action="store_true", help="group the labelled boxes (no detector)")
    ap.add_argument("--embedder-weights", type=Path, default=None,
                    help="crop network weights (lukemelas-layout state_dict, fp32) instead of count's own")
    args = ap.parse_args()
    if not args.images.is_dir():
        raise SystemExit(f"skip: {args.images} not found")
    if min(args.conf) < CACHE_CONF:
        raise SystemExit(f"--conf: expected scores >= {CACHE_CONF} (the cached detections), got {min(args.conf)}")
    photos = load_photos(args.cache, args.images, args.embedder_weights)
    print("setting: ARI/mCIoU/recall/|count error| on tuned, held-out and all photos")
    grid = itertools.product(args.linkage, args.threshold, args.conf, args.confirm_below, args.neighbours)
    for linkage, threshold, conf, confirm, neighbours in grid:
        rows = run_setting(photos, args.labelled, conf, linkage=linkage, distance_threshold=threshold,
                           confirm_below=confirm, neighbours=neighbours)
        what = "labelled" if args.labelled else f"conf {conf} confirm {confirm}"
        print(f"{linkage} {threshold} k{neighbours} {what}: {summary(rows)}", flush=True)


if __name__ == "__main__":
    main()
