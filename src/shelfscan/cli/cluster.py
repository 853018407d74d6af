"""``shelfscan cluster``: group already-cropped product photos (found recursively) into product types.

Writes a CSV ``image,cluster`` (image path relative to CROPS_DIR, cluster -1 = unassigned) and prints the number
of types found, their sizes and the silhouette; with ``--labels`` also ARI and NMI against known products.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from shelfscan.cli.common import add_out

METHODS = ("auto", "agglomerative", "hdbscan", "kmeans")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cluster", help="group product crops into types", description=__doc__)
    p.add_argument("crops_dir", metavar="CROPS_DIR", help="folder of product photos, searched recursively")
    add_out(p, "CSV to write: image,cluster")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="auto (= agglomerative on the set-adapted distance), hdbscan (leaves outliers unassigned), "
                        "or kmeans (k by silhouette, the seed recipe)")
    p.add_argument("--k", type=int, default=None, help="number of types when known (default: found automatically)")
    p.add_argument("--threshold", type=float, default=None,
                   help="agglomerative cut on the combined distance (default 1.0; larger merges more)")
    p.add_argument("--input-size", type=int, default=224, help="pixels each photo is resized to (default 224)")
    p.add_argument("--batch-size", type=int, default=64, help="photos per forward pass (default 64)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:0 (default cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads")
    p.add_argument("--labels", default=None,
                   help="optional CSV with a header, image path (relative to CROPS_DIR) in the first column and the "
                        "true product in the second: prints ARI and NMI of the clusters")
    p.set_defaults(func=run)


def read_labels(path: Path) -> dict[str, str]:
    """``{image: label}`` from a CSV whose first two columns are image and label (header row skipped)."""
    import csv

    from shelfscan.errors import FormatError, InputError

    if not path.is_file():
        raise InputError(f"--labels: expected a CSV file, got no such file {path}")
    out = {}
    with open(path, newline="") as f:
        for line, row in enumerate(csv.reader(f), 1):
            if line == 1:
                continue
            if len(row) < 2:
                raise FormatError(path, line, "2 columns: image,label", f"{len(row)} column(s)")
            out[row[0]] = row[1]
    return out


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from shelfscan.cluster import cluster_folder
    from shelfscan.embed import CropEmbedder
    from shelfscan.errors import InputError, expect

    expect(Path(args.crops_dir).is_dir(), "CROPS_DIR", "a folder of product photos", args.crops_dir)
    embedder = CropEmbedder(device=args.device, batch_size=args.batch_size, input_size=args.input_size,
                            threads=args.threads)
    found = cluster_folder(args.crops_dir, method=args.method, embedder=embedder, k=args.k,
                           distance_threshold=args.threshold, progress=True)
    for problem in found.problems:
        print(f"skipped {problem}", file=sys.stderr)
    out = found.write_csv(args.out)
    res = found.result
    sil = "n/a" if res.silhouette is None else f"{res.silhouette:.3f}"
    print(f"{len(found.names)} crops -> {res.k} types ({res.method}), silhouette {sil}"
          + (f", {res.unassigned} unassigned" if res.unassigned else ""))
    sizes = res.sizes.tolist()
    print("sizes: " + " ".join(map(str, sizes[:40])) + (" ..." if len(sizes) > 40 else ""))
    if args.labels:
        from shelfscan.metrics.clustering import clustering_scores

        truth = read_labels(Path(args.labels))
        missing = [n for n in found.names if n not in truth]
        if missing:
            raise InputError(f"--labels {args.labels}: expected a label for every crop, got none for "
                             f"{len(missing)} (first: {missing[0]})")
        y = np.array([truth[n] for n in found.names])
        scores = clustering_scores(y, res.labels, found.features)
        print(f"against {args.labels}: ARI {scores['ari']:.3f}  NMI {scores['nmi']:.3f}  "
              f"({len(set(y.tolist()))} true products)")
    print(f"wrote {out}")
    return 0
