"""Product-type grouping on real shelf photos with true brand ids (``../shared/data/grocery-shelves``).

    python benchmarks/count_grocery_shelves.py [--data DIR] [--threads 2] [--linkage single|average]
                                               [--threshold T] [--model shelf|PATH]

11 photos of cigarette shelves (Varol & Kuzu 2014), 155 human-drawn product boxes with brand ids ``brand_0`` to
``brand_10``; ``brand_0`` means "some other brand" (many different packs), so its boxes take part in the grouping
but are left out of the scores. For each photo ``group_products`` runs on the **true boxes** (the grouping alone,
no detector) with the counting defaults; scores over the boxes of brands 1-10:

- pair recall: of the pairs of boxes of one brand (1-10) on a photo, the share put in one type;
- pair precision: of the pairs put in one type with at least one box of brands 1-10, the share of one brand
  (a brand-1 pack grouped with an "other brand" pack is a wrong merge; two "other brand" packs are not scored);
- ARI and NMI of the types against the brand ids over the boxes of brands 1-10, per photo (mean);
- how many types were found for how many boxes.

With ``--model`` the detector's boxes (``CountConfig.count_conf`` and above, weak ones confirmed, as ``shelfscan
count``) are grouped instead and scored over the detected boxes matched one-to-one to a true box of brands 1-10
(IoU >= 0.5); detected boxes that match no true box (products off the annotated shelf unit, or false boxes) are
not scored.
"""
from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grocery-shelves"
OTHER_BRAND = "brand_0"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--linkage", default=None, choices=["single", "average", "complete"],
                    help="agglomerative linkage (default: group_products' own, single)")
    ap.add_argument("--threshold", type=float, default=None, help="agglomerative cut (default: the library's)")
    ap.add_argument("--model", default=None, help="group detected boxes instead of the true ones: 'shelf' or a path")
    args = ap.parse_args()

    import torch
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from shelfscan.counting import CountConfig, default_embedder, group_products
    from shelfscan.data import load_dataset, read_image
    from shelfscan.detections import Detections

    if not Path(args.data).is_dir():
        print(f"skip: {args.data} not found")
        return 0
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.data)
    embedder = default_embedder()  # as shelfscan count
    detector = None
    if args.model:
        from shelfscan.inference import Detector

        from count_synthetic import match_boxes  # benchmarks/ is on sys.path when run as a script

        detector = Detector(args.model, conf=CountConfig.count_conf, threads=args.threads)
    kwargs = {k: v for k, v in (("linkage", args.linkage), ("distance_threshold", args.threshold)) if v is not None}
    aris, nmis, seconds = [], [], []
    pairs = collections.Counter()
    print(f"{'photo':<24}{'boxes':>6}{'brands':>7}{'types':>6}{'same-brand pairs joined':>25}{'ARI':>7}")
    for rec in ds.images:
        image = read_image(rec.path)
        names = np.array([ds.class_names[c] for c in rec.boxes.class_id], dtype=object)
        t0 = time.perf_counter()
        if detector is None:
            boxes, confirm = Detections(rec.boxes.xyxy), None
            brand = names
        else:
            boxes, confirm = detector.predict(image), CountConfig.confirm_below
        shelf = group_products(image, boxes, embedder=embedder, keep_pixels=False, confirm_below=confirm, **kwargs)
        seconds.append(time.perf_counter() - t0)
        types = shelf.detections.data["cluster_id"]
        if detector is not None:  # detected boxes take the brand of the true box they match
            matched = match_boxes(shelf.detections.xyxy, rec.boxes.xyxy)
            brand = np.where(matched >= 0, names[np.maximum(matched, 0)], None)
        scored = np.array([b is not None for b in brand])  # detected boxes off the annotated shelf: not scored
        known = scored & np.array([b != OTHER_BRAND for b in brand])
        photo = collections.Counter()
        for i in range(len(types)):
            for j in range(i + 1, len(types)):
                joined = types[i] == types[j] and types[i] >= 0
                same = known[i] and known[j] and brand[i] == brand[j]
                photo["same"] += same
                photo["same_joined"] += same and joined
                photo["joined_known"] += joined and scored[i] and scored[j] and (known[i] or known[j])
                photo["joined_same"] += joined and same
        pairs.update(photo)
        if known.sum() < 2:
            continue
        t, y = brand[known].astype(str), types[known]
        aris.append(adjusted_rand_score(t, y))
        nmis.append(normalized_mutual_info_score(t, y))
        print(f"{rec.name:<24}{len(boxes):>6}{len(set(t)):>7}{shelf.num_types:>6}"
              f"{photo['same_joined']:>19} of {photo['same']:<3}{aris[-1]:>7.3f}")
    recall = pairs["same_joined"] / max(1, pairs["same"])
    precision = pairs["joined_same"] / max(1, pairs["joined_known"])
    print(f"pairs of one brand joined (recall): {recall:.3f} ({pairs['same_joined']} of {pairs['same']}); "
          f"joined pairs of one brand (precision): {precision:.3f} ({pairs['joined_same']} of "
          f"{pairs['joined_known']})")
    print(f"mean over {len(aris)} photos with brand boxes: ARI {np.mean(aris):.3f}, NMI {np.mean(nmis):.3f}")
    print(f"seconds per photo ({'detect + ' if detector else ''}embed + group): median {np.median(seconds):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
