"""Kill ``shelfscan batch`` with SIGKILL at random moments, resume, and check every photo is recorded exactly
once (results.jsonl and the database); optionally compare the Ray engine's records and speed with the local one.

    .venv/bin/python benchmarks/batch_resume_check.py ../shared/data/sku110k-sample/images --out runs/resume \\
        --kills 3 --compare-ray --workers 2 --threads 1

Each kill hits the whole process group of the run (driver, pool workers or Ray's processes), started here.
Prints the photos/s of a clean local and a clean Ray run (``--compare-ray``) and whether their records are equal.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

PY = sys.executable


def batch_cmd(folder: str, out: Path, engine: str, args) -> list[str]:
    return [PY, "-m", "shelfscan", "batch", folder, "--out", str(out), "--engine", engine, "--quiet",
            "--workers", str(args.workers), "--threads", str(args.threads)]


def run_and_kill(cmd: list[str], after: float) -> bool:
    """Start ``cmd`` in its own session, SIGKILL its process group after ``after`` s; False if it ended first."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def check_once(out: Path, n_photos: int) -> list[str]:
    """Problems: a photo recorded twice or not at all, a torn line, database rows not one per photo."""
    import sqlite3

    problems = []
    data = (out / "results.jsonl").read_bytes()
    if data and not data.endswith(b"\n"):
        problems.append("results.jsonl ends in a torn line after the final run")
    images = Counter(json.loads(x)["image"] for x in data.splitlines())
    twice = [i for i, n in images.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} photos recorded more than once, e.g. {twice[0]}")
    if len(images) != n_photos:
        problems.append(f"{len(images)} photos recorded, expected {n_photos}")
    conn = sqlite3.connect(out / "scans.db")
    rows = conn.execute("select count(*), count(distinct image) from scans").fetchone()
    if rows != (n_photos, n_photos):
        problems.append(f"database: {rows[0]} scans of {rows[1]} images, expected {n_photos} of {n_photos}")
    return problems


def timed_run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--min-s", type=float, default=5.0, help="earliest kill after a start (s)")
    ap.add_argument("--max-s", type=float, default=60.0, help="latest kill after a start (s)")
    ap.add_argument("--engine", default="local", choices=("local", "ray"), help="engine of the killed runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--compare-ray", action="store_true", help="also a clean local and a clean Ray run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from shelfscan.batch.sources import collect_photos

    n_photos = len(collect_photos([args.folder])[0])
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    rng = random.Random(args.seed)
    for k in range(args.kills):
        after = rng.uniform(args.min_s, args.max_s)
        killed = run_and_kill(batch_cmd(args.folder, out / "killed", args.engine, args), after)
        done = sum(1 for _ in open(out / "killed" / "results.jsonl", "rb")) if (out / "killed" / "results.jsonl"
                                                                                ).is_file() else 0
        print(f"kill {k + 1}: after {after:.1f} s ({'killed' if killed else 'had finished'}), {done} lines")
    subprocess.run(batch_cmd(args.folder, out / "killed", args.engine, args), check=False, stdout=subprocess.DEVNULL)
    problems = check_once(out / "killed", n_photos)
    print(f"resumed: {n_photos} photos, " + ("each recorded exactly once" if not problems else "; ".join(problems)))
    if args.compare_ray:
        local_s = timed_run(batch_cmd(args.folder, out / "local", "local", args))
        ray_s = timed_run(batch_cmd(args.folder, out / "ray", "ray", args))
        same = sorted((out / "local" / "results.jsonl").read_text().splitlines()) == \
            sorted((out / "ray" / "results.jsonl").read_text().splitlines())
        killed_same = sorted((out / "killed" / "results.jsonl").read_text().splitlines()) == \
            sorted((out / "local" / "results.jsonl").read_text().splitlines())
        print(f"local: {n_photos / local_s:.3f} photos/s ({local_s:.0f} s); ray: {n_photos / ray_s:.3f} photos/s "
              f"({ray_s:.0f} s, incl. Ray start); ray/local = {local_s / ray_s:.2f}")
        print(f"records ray == local: {same}; killed-and-resumed == clean local: {killed_same}")
        problems += [] if same and killed_same else ["records differ"]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
