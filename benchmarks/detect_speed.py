"""Seconds per photo of ``Detector.predict`` (model loading excluded), on a 1600-px photo, CPU threads as given.

    python benchmarks/detect_speed.py [--model shelf|PATH|x.onnx] [--imgsz N] [--threads 2] [--runs 5]

Uses the first sku110k-sample photo (1600 px) when ../shared is present, else a synthetic 1600×1200 shelf.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from shelfscan.cli.common import imgsz_arg

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sku110k-sample" / "images"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--imgsz", type=imgsz_arg, default=None, help="pixels or auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--merger", default="nms", choices=["nms", "em"])
    args = ap.parse_args()

    from shelfscan.data.images import read_image
    from shelfscan.inference import Detector

    photos = sorted(SHARED.glob("*.jpg"))
    if photos:
        image, source = read_image(photos[0]), photos[0].name
    else:
        from shelfscan.synth import render_shelf

        image, _ = render_shelf(0, width=1600, height=1200)
        source = "synthetic 1600x1200"
    det = Detector(args.model, imgsz=args.imgsz, threads=args.threads, merger=args.merger)
    det.predict(image)  # warm-up
    times, n = [], 0
    for _ in range(args.runs):
        t = time.perf_counter()
        dets = det.predict(image)
        n = len(dets)
        times.append(time.perf_counter() - t)
    size = f"auto (chose {dets.metadata['imgsz']})" if det.auto else det.imgsz  # the size travels with the result
    print(f"photo {source} {image.shape[1]}x{image.shape[0]}, imgsz {size}, threads {args.threads}, "
          f"merger {args.merger}: median {statistics.median(times):.3f} s, min {min(times):.3f} s "
          f"over {args.runs} runs, {n} boxes")


if __name__ == "__main__":
    main()
