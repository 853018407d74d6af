"""Speed of the synthetic shelf renderer on one CPU core, and what its photos contain.

    python benchmarks/synth_speed.py [--images 40] [--width 1024]

Prints images/s (wall clock and process CPU time; the process is pinned to one core and OpenCV to one thread),
the time to build the default catalog, and boxes per image, SKUs per image, box size statistics to compare
with SKU-110K (mean 147 products per photo, mean product ~0.27% of the photo).
"""
from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=None, help="default: portrait or landscape by seed")
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    from shelfscan.synth import default_catalog, render_shelf

    t = time.perf_counter()
    catalog = default_catalog()
    print(f"catalog: {len(catalog)} SKUs in {catalog.num_families} families, built in "
          f"{time.perf_counter() - t:.2f} s")
    for s in range(5):  # warm up: first use of each SKU builds its resize pyramid
        render_shelf(args.seed + 10_000 + s, args.width, args.height)

    counts, skus, area, aspect, rel_h, pixels = [], [], [], [], [], []
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(args.images):
        img, det = render_shelf(args.seed + i, args.width, args.height)
        h, w = img.shape[:2]
        counts.append(len(det))
        skus.append(len(det.counts()))
        area.append(det.area / (h * w))
        bw, bh = det.xyxy[:, 2] - det.xyxy[:, 0], det.xyxy[:, 3] - det.xyxy[:, 1]
        aspect.append(bh / bw)
        rel_h.append(bh / h)
        pixels.append(h * w)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    area_all, aspect_all, rel_h_all = np.concatenate(area), np.concatenate(aspect), np.concatenate(rel_h)
    print(f"{args.images} images at width {args.width} (mean {np.mean(pixels) / 1e6:.2f} MP), one core: "
          f"{args.images / wall:.2f} images/s wall ({1000 * wall / args.images:.0f} ms each), "
          f"{args.images / cpu:.2f} images/s CPU time ({1000 * cpu / args.images:.0f} ms each)")
    print(f"boxes/image: mean {np.mean(counts):.1f}, median {np.median(counts):.0f}, min {min(counts)}, "
          f"max {max(counts)}; SKUs/image: mean {np.mean(skus):.1f}")
    print(f"box area / image area: mean {100 * area_all.mean():.3f}%, median {100 * np.median(area_all):.3f}%, "
          f"boxes cover {100 * np.mean([a.sum() for a in area]):.0f}% of a photo on average")
    print(f"box height / width: median {np.median(aspect_all):.2f} (5-95%: {np.percentile(aspect_all, 5):.2f}-"
          f"{np.percentile(aspect_all, 95):.2f}); box height / image height: median {np.median(rel_h_all):.3f}")


if __name__ == "__main__":
    main()
