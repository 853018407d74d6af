"""Hostile and careless clients against a real `shelfscan serve` on loopback: does it stay up and keep serving?

Starts the server as a subprocess (the shipped model, one inference worker), then runs one check:

  --check soak   (default) --seconds of mixed clients: good photos (/v1/detect, some /v1/count), bad files
                 (text, truncated JPEG, EPS named .jpg, empty), decompression bombs (20000x20000 PNG refused from
                 the header; 8000x8000 PNG accepted and decoded in the queue), idle sockets, slowloris sockets
                 (one header byte every 2 s) and a trickled upload. Prints served requests, errors on good
                 requests, p50/p95 latency of good requests, server memory (start, peak, end) and whether it
                 is still up.
  --check idle   --idle connections that send nothing and --slowloris ones that trickle a header: time of
                 /healthz and /v1/detect from another client while they are open, and when each was closed.
  --check bombs  --bombs concurrent uploads of a 182 KB 8000x8000 PNG: statuses, JSON bodies, peak memory.

Every client count and duration is bounded. Memory is the server's resident set (VmRSS polled every 50 ms; VmHWM
is the kernel's peak). ``--pythonpath DIR`` runs the server from another source tree (e.g. an older checkout, for
before/after numbers).

    .venv/bin/python benchmarks/serve_soak.py --seconds 60
    .venv/bin/python benchmarks/serve_soak.py --check idle --idle 80 --slowloris 70
    .venv/bin/python benchmarks/serve_soak.py --check bombs --bombs 12
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHELFSCAN_SHARED_DATA", REPO.parent / "shared" / "data"))


# -- inputs -----------------------------------------------------------------------------------------------------
def png_bomb(width: int, height: int) -> bytes:
    """A valid all-black RGB PNG of width x height, compressed to almost nothing (8000^2: 182 KB)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    comp = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def good_photos(n: int = 4) -> list[tuple[str, bytes]]:
    """Real shelf photos (sku110k-sample, 1600 px) when ../shared is there, else synthetic 1280-px shelves."""
    photos = sorted((SHARED / "sku110k-sample" / "images").glob("*.jpg"))[:n]
    if photos:
        return [(p.name, p.read_bytes()) for p in photos]
    from PIL import Image

    from shelfscan.synth import render_shelf

    out = []
    for seed in range(n):
        buf = io.BytesIO()
        Image.fromarray(render_shelf(seed, width=1280)[0]).save(buf, "JPEG", quality=88)
        out.append((f"synthetic_{seed}.jpg", buf.getvalue()))
    return out


def bad_files(photo: bytes) -> list[tuple[str, bytes, int]]:
    """(name, bytes, expected status) of files the server must refuse with a JSON error."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n%%EOF\n"
    return [("notes.txt", b"name,count\ncola,3\n", 415), ("cut.jpg", photo[: len(photo) // 2], 400),
            ("fake.jpg", eps, 415), ("empty.jpg", b"", 400)]


# -- HTTP -------------------------------------------------------------------------------------------------------
def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "shelfscansoak7f3a"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def request(port: int, method: str, path: str, body: bytes | None = None, ctype: str | None = None,
            timeout: float = 90.0) -> tuple[int, dict | None, float]:
    """(status, JSON body or None when it is not JSON, seconds); status 0 when the connection failed."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": ctype} if ctype else {}
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        raw = res.read()
        is_json = (res.getheader("content-type") or "").startswith("application/json")
        doc = json.loads(raw) if is_json and raw else None
        return res.status, doc, time.perf_counter() - t0
    except (OSError, http.client.HTTPException, ValueError):
        return 0, None, time.perf_counter() - t0
    finally:
        conn.close()


def upload(port: int, path: str, name: str, data: bytes, timeout: float = 90.0):
    body, ctype = multipart(name, data)
    return request(port, "POST", path, body, ctype, timeout)


# -- the server -------------------------------------------------------------------------------------------------
class Server:
    """`shelfscan serve` in a subprocess, with its memory watched."""

    def __init__(self, port: int, extra: list[str], pythonpath: str | None) -> None:
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        cmd = [sys.executable, "-c", "import sys; from shelfscan.cli import main; sys.exit(main())", "serve",
               "--port", str(port), *extra]
        self.port = port
        self.log = open(os.devnull, "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while request(port, "GET", "/healthz", timeout=2)[0] != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start (exit {self.proc.poll()})")
            time.sleep(0.5)
        self.peak = self.rss()
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._poll, daemon=True)
        self._watch.start()

    def _status(self, key: str) -> int:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def rss(self) -> int:
        return self._status("VmRSS")

    def hwm(self) -> int:
        return self._status("VmHWM")

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)

    def reset_peak(self) -> None:
        self.peak = self.rss()

    def alive(self) -> bool:
        return self.proc.poll() is None and request(self.port, "GET", "/healthz", timeout=5)[0] == 200

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- sockets that never finish a request ------------------------------------------------------------------------
def idle_socket(port: int, closed_after: list, stop: threading.Event, trickle: bytes | None = None,
                every: float = 2.0, limit: float = 60.0) -> None:
    """Open a connection and send nothing (or ``trickle`` one byte every ``every`` s); record when the server
    closed it (None when it was still open after ``limit`` s or at ``stop``)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        closed_after.append("refused")
        return
    s.settimeout(0.2)
    sent = 0
    next_byte = t0
    try:
        while not stop.is_set() and time.monotonic() - t0 < limit:
            if trickle is not None and time.monotonic() >= next_byte:
                try:
                    s.send(trickle[sent % len(trickle): sent % len(trickle) + 1])
                    sent += 1
                except OSError:
                    closed_after.append(time.monotonic() - t0)
                    return
                next_byte += every
            try:
                if s.recv(4096) == b"":
                    closed_after.append(time.monotonic() - t0)
                    return
                # an answer (408 JSON): read on until the close
            except socket.timeout:
                continue
            except OSError:
                closed_after.append(time.monotonic() - t0)
                return
        closed_after.append(None)
    finally:
        s.close()


SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"


def check_idle(server: Server, args, photo: tuple[str, bytes]) -> None:
    port = server.port
    stop = threading.Event()
    idle_closed: list = []
    slow_closed: list = []
    threads = [threading.Thread(target=idle_socket, args=(port, idle_closed, stop), daemon=True)
               for _ in range(args.idle)]
    threads += [threading.Thread(target=idle_socket, args=(port, slow_closed, stop, SLOW_HEAD), daemon=True)
                for _ in range(args.slowloris)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    status_h, doc_h, t_h = request(port, "GET", "/healthz", timeout=30)
    status_d, doc_d, t_d = upload(port, "/v1/detect", *photo, timeout=60)
    print(f"with {args.idle} idle + {args.slowloris} slowloris connections open (1 s after opening):")
    print(f"  GET /healthz      -> {status_h} in {t_h:.2f} s (JSON: {doc_h is not None})")
    print(f"  POST /v1/detect   -> {status_d} in {t_d:.2f} s ({doc_d.get('count') if doc_d else None} boxes)")
    for t in threads:
        t.join(70)
    stop.set()
    for label, closed in (("idle", idle_closed), ("slowloris", slow_closed)):
        times = [c for c in closed if isinstance(c, float)]
        still = sum(1 for c in closed if c is None)
        refused = sum(1 for c in closed if c == "refused")
        if closed:
            print(f"  {label}: {len(times)} of {len(closed)} closed by the server, after {min(times, default=0):.1f}"
                  f"-{max(times, default=0):.1f} s; {still} still open after 60 s; {refused} refused")
    print(f"  server memory {gb(server.rss())}, up: {server.alive()}")


def check_bombs(server: Server, args) -> None:
    bomb = png_bomb(8000, 8000)
    print(f"{args.bombs} concurrent uploads of an 8000x8000 PNG ({len(bomb) // 1024} KB) to /v1/detect")
    server.reset_peak()
    start = server.rss()
    results = [None] * args.bombs

    def one(i: int) -> None:
        results[i] = upload(server.port, "/v1/detect", f"bomb{i}.png", bomb, timeout=180)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.bombs)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    statuses: dict[int, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    all_json = all(doc is not None for _, doc, _ in results)
    print(f"  statuses {dict(sorted(statuses.items()))}, every response JSON: {all_json}, {wall:.1f} s in all "
          f"(slowest {max(r[2] for r in results):.1f} s)")
    print(f"  server memory: {gb(start)} before, peak {gb(server.peak)} (VmHWM {gb(server.hwm())}), "
          f"{gb(server.rss())} after; up: {server.alive()}")


def check_soak(server: Server, args, photos: list[tuple[str, bytes]]) -> None:
    port = server.port
    for name, data in photos[:1]:  # warm-up: first inference allocates the runtime's buffers
        upload(port, "/v1/detect", name, data)
        upload(port, "/v1/count", name, data)
    start_rss = server.rss()
    server.reset_peak()
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()
    good_lat: list[float] = []
    good_err: list[str] = []
    served: dict[str, int] = {}
    bad_wrong: list[str] = []
    stop = threading.Event()

    def tally(kind: str) -> None:
        with lock:
            served[kind] = served.get(kind, 0) + 1

    def good_client(k: int) -> None:
        i = k
        while time.monotonic() < deadline:
            name, data = photos[i % len(photos)]
            path = "/v1/count" if i % 5 == 4 else "/v1/detect"
            status, doc, dt = upload(port, path, name, data)
            tally("good")
            with lock:
                if status == 200:
                    good_lat.append(dt)
                else:
                    good_err.append(f"{path} {status} {doc}")
            i += 1

    def bad_client() -> None:
        files = bad_files(photos[0][1])
        i = 0
        while time.monotonic() < deadline:
            name, data, want = files[i % len(files)]
            status, doc, _ = upload(port, "/v1/detect", name, data)
            tally("bad file")
            if status != want or doc is None:
                bad_wrong.append(f"{name}: {status}")
            i += 1
            time.sleep(0.2)

    def bomb_client() -> None:
        header_bomb, decoded_bomb = png_bomb(20000, 20000), png_bomb(8000, 8000)
        i = 0
        while time.monotonic() < deadline:
            big = i % 4 == 3  # every 4th: the 8000x8000 one, accepted and decoded in the queue
            status, doc, _ = upload(port, "/v1/detect", "bomb.png", decoded_bomb if big else header_bomb)
            tally("bomb")
            if (not big and status != 413) or doc is None:
                bad_wrong.append(f"bomb{' 8k' if big else ''}: {status}")
            i += 1
            time.sleep(1.0 if not big else 3.0)

    def socket_keeper(trickle: bytes | None, count: int) -> None:
        closed: list = []
        while time.monotonic() < deadline - 1:
            ts = [threading.Thread(target=idle_socket, daemon=True,
                                   args=(port, closed, stop, trickle, 2.0, max(1.0, deadline - time.monotonic())))
                  for _ in range(count)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        with lock:
            served["idle" if trickle is None else "slowloris"] = sum(1 for c in closed if isinstance(c, float))

    def slow_body() -> None:
        while time.monotonic() < deadline - 1:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                body, ctype = multipart("slow.jpg", photos[0][1])
                s.send(f"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode())
                s.settimeout(0.5)
                answer = b""
                for k in range(0, len(body), 64):
                    if time.monotonic() > deadline:
                        break
                    s.send(body[k:k + 64])
                    try:
                        answer = s.recv(4096)
                        if answer or answer == b"":
                            break
                    except socket.timeout:
                        pass
                tally("trickled upload")
                s.close()
            except OSError:
                tally("trickled upload")

    workers = [threading.Thread(target=good_client, args=(k,)) for k in range(args.good_clients)]
    workers += [threading.Thread(target=bad_client), threading.Thread(target=bomb_client),
                threading.Thread(target=socket_keeper, args=(None, args.idle)),
                threading.Thread(target=socket_keeper, args=(SLOW_HEAD, args.slowloris)),
                threading.Thread(target=slow_body)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    wall = time.perf_counter() - t0
    time.sleep(2.0)
    end_rss = server.rss()
    lat = sorted(good_lat)
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]) if lat else (lambda q: float("nan"))
    print(f"soak: {wall:.0f} s, {args.good_clients} good clients, 1 bad-file client, 1 bomb client, "
          f"{args.idle} idle + {args.slowloris} slowloris sockets at a time, 1 trickled upload")
    print(f"  served: {json.dumps(served)}")
    print(f"  good requests: {len(good_lat) + len(good_err)}, errors {len(good_err)}"
          + (f" (first: {good_err[0]})" if good_err else ""))
    print(f"  good latency: p50 {p(0.5):.2f} s, p95 {p(0.95):.2f} s, mean {statistics.fmean(lat) if lat else 0:.2f} s")
    print(f"  bad files / bombs answered with another status or not JSON: {len(bad_wrong)}"
          + (f" (first: {bad_wrong[:3]})" if bad_wrong else ""))
    print(f"  server memory: {gb(start_rss)} at start (after warm-up), peak {gb(server.peak)}, {gb(end_rss)} at "
          f"the end ({(end_rss / start_rss - 1) * 100:+.0f}%); up at the end: {server.alive()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", choices=("soak", "idle", "bombs"), default="soak")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--good-clients", type=int, default=2)
    ap.add_argument("--idle", type=int, default=None, help="idle sockets (default 80 for idle, 20 in the soak)")
    ap.add_argument("--slowloris", type=int, default=None, help="trickling sockets (default 70 / 10)")
    ap.add_argument("--bombs", type=int, default=12)
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--pythonpath", default=None, help="run the server from this source tree")
    ap.add_argument("--serve-args", default="", help="extra `shelfscan serve` options, e.g. '--workers 2'")
    args = ap.parse_args()
    if args.idle is None:
        args.idle = 80 if args.check == "idle" else 20
    if args.slowloris is None:
        args.slowloris = 70 if args.check == "idle" else 10
    photos = good_photos()
    server = Server(args.port or free_port(), args.serve_args.split(), args.pythonpath)
    print(f"server pid {server.proc.pid}, {gb(server.rss())} after start-up; photos: "
          f"{', '.join(n for n, _ in photos)}")
    try:
        if args.check == "idle":
            check_idle(server, args, photos[0])
        elif args.check == "bombs":
            check_bombs(server, args)
        else:
            check_soak(server, args, photos)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
