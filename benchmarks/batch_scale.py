"""Time per stage of batch counting (decode, detect, embed, group, write) on N photos, and what a cluster needs
for 1 million photos in 8 hours.

    .venv/bin/python benchmarks/batch_scale.py --n 5                  # sku110k-sample photos, else synthetic
    .venv/bin/python benchmarks/batch_scale.py --images DIR --n 50 --threads 1

Each stage is timed in one process with ``--threads`` ONNX Runtime threads (1 = one counter per core, the layout
that scales best). The estimate assumes: throughput grows linearly with counters (photos are independent; the
driver only appends lines and inserts rows); a counter with T threads occupies T cores for its wall time;
``--efficiency`` (default 0.8) of the cluster's cores do useful work (stragglers, start-up, the driver);
photos like the ones measured (size and product density drive detect and embed time).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHELFSCAN_SHARED_DATA", REPO.parent / "shared" / "data"))
TARGET_PHOTOS, TARGET_HOURS, NODE_CPUS = 1_000_000, 8, 16


class TimedEmbedder:
    """A CropEmbedder wrapper that adds the time of each ``embed_boxes`` call to ``seconds``."""

    def __init__(self, embedder) -> None:
        self.embedder, self.seconds = embedder, 0.0

    def embed_boxes(self, image, xyxy):
        start = time.perf_counter()
        out = self.embedder.embed_boxes(image, xyxy)
        self.seconds += time.perf_counter() - start
        return out


def photos(args) -> list[Path]:
    if args.images:
        from shelfscan.data.images import find_images

        return find_images([Path(args.images)])[:args.n]
    sku = SHARED / "sku110k-sample" / "images"
    if sku.is_dir():
        return sorted(sku.glob("*.jpg"))[:args.n]
    from shelfscan.annotate import save_rgb
    from shelfscan.synth import render_shelf

    folder = Path(tempfile.mkdtemp(prefix="batch-scale-"))
    out = []
    for i in range(args.n):
        out.append(folder / f"synth_{i}.jpg")
        save_rgb(out[-1], render_shelf(1000 + i, width=1600)[0])
    return out


def time_photo(path: Path, detector, embedder: TimedEmbedder, db_engine, out_dir: Path) -> dict[str, float]:
    from shelfscan.batch.db import ShelfIds, write_scans
    from shelfscan.batch.records import record_line
    from shelfscan.batch.worker import pack_array, type_embeddings
    from shelfscan.counting import group_products
    from shelfscan.counting.config import CountConfig
    from shelfscan.data.images import read_image

    t0 = time.perf_counter()
    image = read_image(path)
    t1 = time.perf_counter()
    detections = detector.predict(image)
    t2 = time.perf_counter()
    embedder.seconds = 0.0
    result = group_products(image, detections, embedder=embedder, confirm_below=CountConfig.confirm_below,
                            keep_pixels=False)
    t3 = time.perf_counter()
    data = result.to_json()
    record = {"image": str(path), "sha256": "x" * 64, "model": "bench", "settings": {}, "status": "ok",
              "error": None, "total": data["total"], "n_types": result.num_types, "groups": data["groups"],
              "taken_at": None}
    line = record_line(record)
    write_scans(db_engine, [(json.loads(line), pack_array(type_embeddings(result)))], ShelfIds())
    with open(out_dir / "results.jsonl", "a") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    t4 = time.perf_counter()
    return {"decode": t1 - t0, "detect": t2 - t1, "embed": embedder.seconds, "group": t3 - t2 - embedder.seconds,
            "write": t4 - t3, "products": len(result.detections), "types": len(result.groups),
            "bytes": path.stat().st_size}


def estimate(mean_wall: float, threads: int, efficiency: float, mean_bytes: float, types: float) -> str:
    rate = TARGET_PHOTOS / (TARGET_HOURS * 3600)
    core_s = mean_wall * threads
    cores = rate * core_s / efficiency
    nodes = cores / NODE_CPUS
    return "\n".join([
        f"1M photos in {TARGET_HOURS} h = {rate:.1f} photos/s.",
        f"Measured {mean_wall:.2f} s per photo with {threads} thread(s) = {core_s:.2f} core-s per photo.",
        f"At {efficiency:.0%} useful cores: {cores:.0f} cores = {nodes:.1f} nodes of {NODE_CPUS} vCPUs "
        f"(e.g. {int(-(-nodes // 1))} x 16-vCPU machines; {int(-(-cores // 1))} Ray actors of 1 CPU each).",
        f"Input I/O: {rate * mean_bytes / 1e6:.1f} MB/s of photos ({mean_bytes / 1e6:.2f} MB each) from shared "
        f"storage; database: {rate:.0f} scans/s and {rate * types:.0f} type rows/s ({types:.0f} types a photo) "
        f"into one PostgreSQL (one transaction per 8 photos), ~3 KB of embedding per type = "
        f"{TARGET_PHOTOS * types * 3e3 / 1e9:.0f} GB for 1M photos.",
        "Assumes linear scaling (independent photos), photos like these, one driver writing results; the "
        "driver's JSON+DB write time is included per photo above but runs beside the counters."])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=None, help="folder of photos (default sku110k-sample, else synthetic)")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--efficiency", type=float, default=0.8)
    args = ap.parse_args()
    from shelfscan.batch.db import engine_for, sqlite_url
    from shelfscan.counting.config import CountConfig
    from shelfscan.counting import count_embedder
    from shelfscan.inference import Detector

    paths = photos(args)
    if not paths:
        print("no photos found", file=sys.stderr)
        return 2
    detector = Detector(None, conf=CountConfig.count_conf, threads=args.threads)
    embedder = TimedEmbedder(count_embedder(threads=args.threads, precision=detector.config.precision))  # as count
    out_dir = Path(tempfile.mkdtemp(prefix="batch-scale-out-"))
    engine = engine_for(sqlite_url(out_dir / "scans.db"))
    time_photo(paths[0], detector, embedder, engine, out_dir)  # warm-up (sessions, caches), not counted
    rows = [time_photo(p, detector, embedder, engine, out_dir) for p in paths]
    stages = ("decode", "detect", "embed", "group", "write")
    print(f"{len(rows)} photos, {args.threads} thread(s), mean {statistics.mean(r['products'] for r in rows):.0f} "
          f"products per photo")
    for s in stages:
        values = [r[s] for r in rows]
        print(f"  {s:>6}: mean {statistics.mean(values):.3f} s, max {max(values):.3f} s")
    wall = statistics.mean(sum(r[s] for s in stages) for r in rows)
    print(f"  {'total':>6}: mean {wall:.3f} s per photo\n")
    print(estimate(wall, args.threads, args.efficiency, statistics.mean(r["bytes"] for r in rows),
                   statistics.mean(r["types"] for r in rows)))
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.75 * cpus:
        print(f"warning: load average {load:.1f} on {cpus} CPUs while measuring: other work shared the CPUs, "
              f"the times above are inflated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
