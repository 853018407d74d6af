"""Speed and quality of the EM-Merger against NMS on synthetic raw-candidate workloads (issue 5, part 3).

Workload: a 3264x2448 canvas, products on a grid (150 or 280; "touching" = no gaps), m jittered candidates per
product (corner jitter 5% of the size, hard score U(0.3, 1), soft score = true IoU + N(0, 0.05)).
Prints one row per workload: candidates, median wall time and CPU time of a few runs, recall and precision at
IoU 0.5 (one-to-one matching), and the same for NMS and Soft-IoU NMS at IoU 0.6.

    .venv/bin/python benchmarks/em_merge_speed.py [--repeats 7] [--threads 2] [--jitter 0.05] [--seed 0]

The reference times are those of the original implementation measured on a machine like ours (issue 5);
"x faster" is reference / median wall time, and the goal is >= 30.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.helpers

# Reference times (s) of the original EM-Merger for (products, candidates per product), from issue 5.
REFERENCE_S = {(150, 5): 1.9, (150, 20): 3.1, (150, 50): 5.4, (280, 20): 5.0, (280, 50): 11.9}


def _time(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` runs (after one warm-up), and its result."""
    result = fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per workload (median reported)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads (NMS); the EM-Merger itself is single-threaded numpy/scipy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jitter", type=float, default=0.05,
                        help="corner jitter as a fraction of the product size (0.15 makes neighbours' blobs merge)")
    args = parser.parse_args()
    import torch

    from shelfscan.postprocess import em_merge, nms, soft_iou_nms
    from tests.helpers.workload import grid_candidates, recall_precision

    torch.set_num_threads(args.threads)
    header = (f"{'workload':<18}{'cands':>7} | {'em wall':>8}{'em cpu':>8}{'ref':>6}{'x faster':>9}{'R@.5':>7}"
              f"{'P@.5':>7} | {'nms ms':>7}{'R@.5':>7}{'P@.5':>7} | {'sIoU ms':>8}{'R@.5':>7}{'P@.5':>7}")
    print(f"jitter {args.jitter}, torch threads {torch.get_num_threads()}, repeats {args.repeats}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(header)
    print("-" * len(header))
    for touching in (False, True):
        for products in (150, 280):
            for per_product in (5, 20, 50):
                wl = grid_candidates(products, per_product, touching=touching, jitter=args.jitter, seed=args.seed)
                wall, cpu, (boxes, _) = _time(lambda: em_merge(wl.boxes, wl.hard, wl.soft,
                                                               image_size=wl.image_size), args.repeats)
                recall, precision = recall_precision(boxes, wl.truth)
                n_wall, _, (n_boxes, _) = _time(lambda: nms(wl.boxes, wl.hard, iou_threshold=0.6), args.repeats)
                n_r, n_p = recall_precision(n_boxes, wl.truth)
                s_wall, _, (s_boxes, _) = _time(lambda: soft_iou_nms(wl.boxes, wl.hard, wl.soft, iou_threshold=0.6),
                                                args.repeats)
                s_r, s_p = recall_precision(s_boxes, wl.truth)
                ref = REFERENCE_S.get((products, per_product)) if not touching else None
                ref_text = f"{ref:>6.1f}{ref / wall:>9.0f}" if ref else f"{'-':>6}{'-':>9}"
                name = f"{products}x{per_product}{' touching' if touching else ''}"
                print(f"{name:<18}{len(wl.boxes):>7} | {wall * 1e3:>6.0f}ms{cpu * 1e3:>6.0f}ms{ref_text}"
                      f"{recall:>7.3f}{precision:>7.3f} | {n_wall * 1e3:>7.1f}{n_r:>7.3f}{n_p:>7.3f} | "
                      f"{s_wall * 1e3:>8.1f}{s_r:>7.3f}{s_p:>7.3f}")


if __name__ == "__main__":
    main()
