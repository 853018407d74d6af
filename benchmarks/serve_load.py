"""Latency and errors of ``shelfscan serve`` under concurrent clients on loopback.

    python benchmarks/serve_load.py [--endpoint count|detect] [--clients 8] [--seconds 60] [--model PATH]
                                    [--random-model] [--image PHOTO] [-- SERVE_ARGS...]

Starts ``shelfscan serve`` on 127.0.0.1 (a free port) in a subprocess, waits for /healthz, then ``--clients``
threads each POST the same photo in a loop for ``--seconds``. Prints p50 / p95 / max latency of successful
requests, throughput and the errors by kind (target: zero errors). Photo: ``--image``, else the first
sku110k-sample photo (1600 px) when ../shared is present, else a synthetic 1600×1200 shelf. ``--random-model``
serves a full-size detector with random weights (same compute as a trained one; use it before a trained model
exists). Arguments after ``--`` go to ``shelfscan serve`` (e.g. ``-- --imgsz 640 --threads 2``).
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sku110k-sample" / "images"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.helpers


def photo_bytes(path: str | None) -> tuple[bytes, str]:
    """JPEG bytes of the photo to send and a description of it."""
    if path:
        return Path(path).read_bytes(), path
    photos = sorted(SHARED.glob("*.jpg"))
    if photos:
        return photos[0].read_bytes(), photos[0].name
    from PIL import Image

    from shelfscan.synth import render_shelf

    image, _ = render_shelf(0, width=1600, height=1200)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=90)
    return buf.getvalue(), "synthetic 1600x1200"


def random_model(folder: Path) -> Path:
    import torch

    from shelfscan.models.checkpoint import save_checkpoint
    from shelfscan.models.detector import DetectorConfig, ShelfDetector

    torch.manual_seed(0)
    return save_checkpoint(folder / "random.pt", ShelfDetector(DetectorConfig(), pretrained_backbone=False))


def wait_healthy(client, url: str, proc: subprocess.Popen, limit_s: float = 300.0) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode} before answering /healthz")
        try:
            res = client.get(url + "/healthz", timeout=2.0)
            if res.status_code == 200:
                return res.json()
        except Exception:  # not listening yet
            pass
        time.sleep(0.5)
    raise SystemExit(f"server did not answer /healthz within {limit_s:.0f} s")


def client_loop(url: str, data: bytes, stop_at: float, timeout_s: float, out: list, lock: threading.Lock) -> None:
    import httpx

    with httpx.Client(timeout=timeout_s) as client:
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                res = client.post(url, files={"image": ("shelf.jpg", data, "image/jpeg")})
                kind = "ok" if res.status_code == 200 else f"HTTP {res.status_code}: {res.text[:120]}"
            except Exception as exc:  # connection errors, client timeouts
                kind = f"{type(exc).__name__}: {exc}"[:160]
            with lock:
                out.append((kind, time.perf_counter() - t0))


def main() -> None:
    argv = sys.argv[1:]
    serve_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", choices=("count", "detect"), default="count")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0, help="load duration (default 60)")
    ap.add_argument("--model", default=None, help="model for the server (default: the shipped one)")
    ap.add_argument("--random-model", action="store_true", help="serve a full-size model with random weights")
    ap.add_argument("--image", default=None, help="photo to send (default: see above)")
    ap.add_argument("--timeout", type=float, default=30.0, help="server --timeout (default 30)")
    args = ap.parse_args(argv)

    import httpx

    data, source = photo_bytes(args.image)
    from tests.helpers.local_server import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        model = str(random_model(Path(tmp))) if args.random_model else args.model
        cmd = [sys.executable, "-m", "shelfscan", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--timeout", str(args.timeout)] + (["--model", model] if model else []) + serve_args
        log = open(Path(tmp) / "server.log", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        try:
            with httpx.Client() as c:
                health = wait_healthy(c, base, proc)
            results: list = []
            lock = threading.Lock()
            stop_at = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client_loop, args=(f"{base}/v1/{args.endpoint}", data, stop_at,
                                                                  args.timeout + 30.0, results, lock))
                       for _ in range(args.clients)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            server_log = (Path(tmp) / "server.log").read_text()
    ok = sorted(t for kind, t in results if kind == "ok")
    errors = Counter(kind for kind, _ in results if kind != "ok")
    print(f"POST /v1/{args.endpoint}: {args.clients} clients, {args.seconds:g} s, photo {source} "
          f"({len(data) / 2**20:.2f} MB), runtime {health.get('runtime')}, imgsz {health.get('imgsz')}")
    if ok:
        p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))]
        print(f"  {len(ok)} ok in {wall:.1f} s ({len(ok) / wall:.2f} req/s): latency p50 {statistics.median(ok):.2f} s, "
              f"p95 {p95:.2f} s, max {ok[-1]:.2f} s")
    print(f"  errors: {sum(errors.values())}")
    for kind, n in errors.most_common():
        print(f"    {n} x {kind}")
    if errors and "Traceback" in server_log:
        print("server log tail:\n" + server_log[-2000:])


if __name__ == "__main__":
    main()
