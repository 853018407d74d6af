"""Wall time of whole commands from a cold process: ``shelfscan detect photo.jpg --out p.csv`` and
``shelfscan count photo.jpg --out d`` (interpreter start, imports, model load, decoding, inference, writing).

    python benchmarks/cold_start.py [--photo PATH] [--runs 5] [--shelfscan PATH] [--importtime-top 10]

Each command runs once to warm the disk cache, then ``--runs`` times; the median, min and max are reported as one
JSON line per command, then a table. Also ``python -X importtime`` of ``detect``: the 10 packages whose imports
cost most (self time summed over each top-level package) and the total.

The photo: the first image of ../shared/data/sku110k-sample/images when it exists, else a synthetic shelf
(shelfscan.synth), scaled so its longest side is 1600 px.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sku110k-sample" / "images"
SIDE = 1600


def prepare_photo(photo: Path | None, folder: Path) -> tuple[Path, str]:
    """``folder/photo.jpg``, 1600 px on its longest side, and a description of where it came from."""
    from PIL import Image

    target = folder / "photo.jpg"
    if photo is None:
        found = sorted(p for p in SHARED.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) \
            if SHARED.is_dir() else []
        photo = found[0] if found else None
    if photo is None:
        from shelfscan.synth import render_shelf

        image, _ = render_shelf(0, width=SIDE, height=1200)
        Image.fromarray(image).save(target, quality=90)
        return target, f"synthetic shelf {SIDE}x1200"
    with Image.open(photo) as im:
        if max(im.size) == SIDE and im.format == "JPEG":
            shutil.copyfile(photo, target)
        else:
            scale = SIDE / max(im.size)
            im.convert("RGB").resize((round(im.width * scale), round(im.height * scale)), Image.BILINEAR) \
                .save(target, quality=90)
    with Image.open(target) as im:
        return target, f"{photo.name} {im.width}x{im.height}"


def shelfscan_command(given: str | None) -> list[str]:
    """The console script beside this interpreter (what a user types), else ``python -m shelfscan``."""
    if given:
        return [given]
    script = Path(sys.executable).with_name("shelfscan")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "shelfscan"]


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def import_costs(cwd: Path, photo: Path, top: int) -> tuple[list[tuple[str, float]], float]:
    """(top-level package, self seconds summed) for the ``top`` costliest, and the total, of ``detect``'s imports."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "shelfscan", "detect", str(photo), "--out",
                           str(cwd / "importtime.csv")], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"importtime run failed:\n{done.stderr[-2000:]}")
    per_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        if not self_us.strip().isdigit():
            continue  # the header line
        per_package[name.strip().split(".")[0]] += int(self_us) / 1e6
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])
    return ranked[:top], sum(per_package.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photo", type=Path, default=None, help="photo to use (scaled to 1600 px)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command, after one warm-up run")
    ap.add_argument("--shelfscan", default=None, help="the shelfscan command (default: the one beside this python)")
    ap.add_argument("--importtime-top", type=int, default=10)
    args = ap.parse_args()

    base = shelfscan_command(args.shelfscan)
    with tempfile.TemporaryDirectory(prefix="shelfscan-cold-") as tmp:
        work = Path(tmp)
        photo, source = prepare_photo(args.photo, work)
        commands = {
            "detect": [*base, "detect", photo.name, "--out", "p.csv"],
            "count": [*base, "count", photo.name, "--out", "d"],
        }
        rows = []
        for verb, cmd in commands.items():
            timed(cmd, work)  # warm-up: disk cache, .pyc files
            times = [timed(cmd, work) for _ in range(args.runs)]
            row = {"command": " ".join(["shelfscan", *cmd[len(base):]]), "photo": source, "runs": args.runs,
                   "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                   "max_s": round(max(times), 3)}
            print(json.dumps(row), flush=True)
            rows.append(row)
        top, total = import_costs(work, photo, args.importtime_top)
        print(json.dumps({"importtime": "detect", "total_s": round(total, 3),
                          "top": [{"package": name, "self_s": round(s, 3)} for name, s in top]}), flush=True)

    print()
    print(f"cold start on {source}, {args.runs} runs after one warm-up, {os.cpu_count()} CPUs")
    print(f"{'command':<46} {'median s':>9} {'min s':>7} {'max s':>7}")
    for row in rows:
        print(f"{row['command']:<46} {row['median_s']:>9.3f} {row['min_s']:>7.3f} {row['max_s']:>7.3f}")
    print()
    print(f"imports of `shelfscan detect` (python -X importtime): {total:.3f} s in all")
    print(f"{'package':<24} {'self s':>8}")
    for name, s in top:
        print(f"{name:<24} {s:>8.3f}")


if __name__ == "__main__":
    main()
