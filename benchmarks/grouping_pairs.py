"""Where the grouping's errors come from on the real-shelf dev set: the distances, or the clustering of them.

    python benchmarks/grouping_pairs.py [--labels benchmarks/data/shelf_types]
        [--images ../shared/data/sku110k-sample/images] [--threads 2]

For the judged labelled boxes of each photo (no detector), the combined distance ``count`` cuts (its crop network,
its shared-neighbour term) is scored before any clustering (``metrics.pair_separation``): the AUC of the distance
as a score of "two types" over all pairs, the share of boxes whose nearest other box is of their type (boxes whose
type has others), the share of same-type pairs farther than the cut and of different-type pairs within it. Then
the ARI of plain average linkage on the same distances at ``count``'s cut and at the photo's best cut of a grid
(chosen with the answer in hand: a ceiling for any rule that picks one cut per photo). The hue split and the
edge-fragment pass of ``count`` are left out. ``*`` marks the photos the defaults were tuned on (``TUNED_ON``).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from count_real_shelves import IMAGES, LABELS, TUNED_ON, load_labels

CUTS = tuple(np.round(np.arange(0.8, 2.41, 0.1), 2))  # the hindsight grid


def photo_scores(distances: np.ndarray, types: np.ndarray, cut: float) -> dict:
    """Pair separation of one photo's distances, and ARI of average linkage at ``cut`` and at its best cut."""
    from shelfscan.cluster.linkage import flat_clusters
    from shelfscan.metrics import clustering_scores, pair_separation

    out = pair_separation(distances, types, cut)
    aris = {c: clustering_scores(types, flat_clusters(distances, linkage="average", threshold=c))["ari"]
            for c in CUTS + (cut,)}
    best = max(CUTS, key=lambda c: aris[c])
    return {**out, "ari": aris[cut], "best_cut": best, "ari_best_cut": aris[best]}


def fmt(value: float | None, width: int) -> str:
    """A score in a column of ``width``; "-" where it is undefined (e.g. no same-type pairs on a photo)."""
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", default=LABELS)
    ap.add_argument("--images", default=IMAGES)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from pathlib import Path

    from shelfscan.cluster.distances import combined_distance
    from shelfscan.counting.config import CountConfig
    from shelfscan.counting.shelf_count import default_embedder
    from shelfscan.data.images import read_image

    files = sorted(Path(args.labels).glob("*.json"))
    if not files or not Path(args.images).is_dir():
        sys.exit(f"expected label files in {args.labels} and photos in {args.images}")
    embedder = default_embedder(threads=args.threads)
    cut = CountConfig.distance_threshold
    print(f"{'photo':<13} {'boxes':>5} {'types':>5} {'AUC':>6} {'1-NN':>6} {'same>cut':>8} {'diff<=cut':>9} "
          f"{'ARI':>6} {'best cut':>8} {'ARI':>6}")
    rows = []
    for f in files:
        labels = load_labels(f)
        judged = labels["types"] >= 0
        image = read_image(Path(args.images) / labels["image"])
        emb = embedder.embed_boxes(image, labels["boxes"][judged].astype(np.float32))
        dist = combined_distance(emb, neighbours=CountConfig.neighbours)
        types = labels["types"][judged]
        r = {"photo": f.stem, **photo_scores(dist, types, cut)}
        rows.append(r)
        print(f"{f.stem + ('*' if f.stem in TUNED_ON else ' '):<13} {len(types):>5} {len(np.unique(types)):>5} "
              f"{fmt(r['auc'], 6)} {fmt(r['nn_purity'], 6)} {fmt(r['same_above_cut'], 8)} "
              f"{fmt(r['different_below_cut'], 9)} {r['ari']:>6.3f} {r['best_cut']:>8.1f} {r['ari_best_cut']:>6.3f}",
              flush=True)
    for name, keep in (("all", lambda s: True), ("held out", lambda s: s not in TUNED_ON),
                       ("tuned on", lambda s: s in TUNED_ON)):
        sub = [r for r in rows if keep(r["photo"])]
        if sub:
            m = {k: float(np.mean([r[k] for r in sub if r[k] is not None] or [np.nan]))
                 for k in ("auc", "nn_purity", "same_above_cut", "different_below_cut", "ari", "ari_best_cut")}
            print(f"mean {name} ({len(sub)}): AUC {m['auc']:.3f}  1-NN {m['nn_purity']:.3f}  same>cut "
                  f"{m['same_above_cut']:.3f}  diff<=cut {m['different_below_cut']:.3f}  ARI at {cut} {m['ari']:.3f}"
                  f"  ARI at each photo's best cut {m['ari_best_cut']:.3f}")


if __name__ == "__main__":
    main()
