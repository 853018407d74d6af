"""Recovering product identity without labels: crop embeddings + clustering on grocery-store-products.

    python benchmarks/cluster_grocery.py [--data ../shared/data/grocery-store-products] [--threads 2]
                                         [--ablations] [--embedder-weights state_dict.pt]

781 hand-held photos (348x348) of 31 products; ``labels.csv`` gives the product of each photo. k is never given
(except in the "true k" reference line). Prints ARI, NMI (``shelfscan.metrics.clustering.clustering_scores``),
the silhouette the method reports (on the distance it clustered by) and the cosine silhouette of the embeddings,
the number of clusters found, and seconds (embedding / clustering).

Recipes:

- ``seed``: average-pooled ImageNet EfficientNet-Lite0 features (224 px, no flip, no colour) + k-means with k
  chosen by the best silhouette over 2..60 (the recipe the issue quotes at ARI 0.381).
- ``default``: what ``shelfscan cluster`` runs: GeM-pooled features of the photo and its mirror image + the label
  colour histogram (224 px), agglomerative clustering on the set-adapted distance (``method="auto"``).
- ``--ablations`` adds the default with one part removed or changed.
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grocery-store-products"


def load(root: Path, sizes: tuple[int, ...]) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Photos resized to each size: {size: uint8 (N, size, size, 3)}, and the (N,) product labels."""
    from shelfscan.data.images import read_image
    from shelfscan.embed.crops import resize_crop

    with open(root / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    images = {s: np.empty((len(rows), s, s, 3), np.uint8) for s in sizes}
    for i, row in enumerate(rows):
        pixels = read_image(root / "images" / row["image"])
        for s in sizes:
            images[s][i] = resize_crop(pixels, s)
    return images, np.array([r["product"] for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ablations", action="store_true")
    ap.add_argument("--embedder-weights", type=Path, default=None,
                    help="crop network weights (lukemelas-layout state_dict, fp32 PyTorch) instead of ImageNet's")
    args = ap.parse_args()

    from shelfscan.cluster import cluster_embeddings
    from shelfscan.embed import CropEmbedder
    from shelfscan.metrics.clustering import clustering_scores

    root = Path(args.data)
    if not (root / "labels.csv").is_file():
        raise SystemExit(f"{root}: expected grocery-store-products (labels.csv, images/), got no labels.csv")
    sizes = (224, 112) if args.ablations else (224,)
    images, y = load(root, sizes)
    print(f"{len(y)} photos, {len(set(y.tolist()))} products")

    recipes = [  # name, embedder settings, [(method, extra arguments)]
        ("seed", dict(input_size=224, pooling="avg", flip=False, colour_weight=0.0),
         [("kmeans", {}), ("auto", {})]),
        ("default", dict(input_size=224), [("auto", {}), ("hdbscan", {}), ("kmeans", {}), ("kmeans", {"k": 31})]),
    ]
    if args.ablations:
        recipes += [
            ("default, no colour", dict(input_size=224, colour_weight=0.0), [("auto", {})]),
            ("default, no flip", dict(input_size=224, flip=False), [("auto", {})]),
            ("default, avg pooling", dict(input_size=224, pooling="avg"), [("auto", {})]),
            ("default, 112 px (shelf embedder)", dict(input_size=112), [("auto", {})]),
        ]
    print(f"{'recipe':34s} {'method':14s} {'k':>4s} {'ARI':>6s} {'NMI':>6s} {'sil':>6s} {'cos-sil':>7s} "
          f"{'embed s':>8s} {'cluster s':>9s}")
    for name, settings, methods in recipes:
        embedder = CropEmbedder(threads=args.threads, weights=args.embedder_weights, **settings)
        t0 = time.perf_counter()
        x = embedder.embed_resized(images[settings["input_size"]])
        t_embed = time.perf_counter() - t0
        for method, extra in methods:
            t0 = time.perf_counter()
            res = cluster_embeddings(x, method=method, **extra)
            t_cluster = time.perf_counter() - t0
            scores = clustering_scores(y, res.labels, x)
            label = method + (f" k={extra['k']}" if "k" in extra else "")
            sil = "n/a" if res.silhouette is None else f"{res.silhouette:.3f}"
            cos = "n/a" if scores["silhouette"] is None else f"{scores['silhouette']:.3f}"
            print(f"{name:34s} {label:14s} {res.k:4d} {scores['ari']:6.3f} {scores['nmi']:6.3f} {sil:>6s} "
                  f"{cos:>7s} {t_embed:8.1f} {t_cluster:9.2f}", flush=True)


if __name__ == "__main__":
    main()
