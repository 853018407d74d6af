"""Frames per second of the live camera page in headless Chromium (WASM on this machine's CPU).

    python benchmarks/live_fps.py [--sizes 256 320 416] [--seconds 20] [--model shelf]

Serves the app on loopback (tests/helpers/local_server.py), opens /live in Debian's /usr/bin/chromium with a fake
camera playing a 640×480 shelf picture (``camera_frame`` of that module: the middle of the first sku110k-sample
photo when ../shared is present, else a synthetic shelf), lets each working size warm up for 3 frames, then counts the frames the page finishes in ``--seconds``.
Prints per size: FPS, mean ms per frame (capture + inference + NMS + drawing), boxes on the last frame, backend
and WASM threads. Needs `make web` (vendored onnxruntime-web) and the playwright python package.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.helpers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 320, 416])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--model", default=None, help="live model name (default: the page's first)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from shelfscan.inference import Detector
    from shelfscan.serve import create_app
    from tests.helpers.local_server import (CHROMIUM, CHROMIUM_ARGS, camera_frame, fake_camera_args,
                                            serve_in_thread, write_y4m)

    frame, source = camera_frame(SHARED)
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(create_app(Detector("shelf"))) as url:
        video = write_y4m(Path(tmp) / "camera.y4m", frame)
        print(f"camera: 640x480 crop of {source}; chromium {CHROMIUM}, headless")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera_args(video))
            page = browser.new_page(viewport={"width": 900, "height": 800})
            print(f"{'size':>5} {'FPS':>7} {'ms/frame':>9} {'boxes':>6}  backend")
            for size in args.sizes:
                query = f"?size={size}" + (f"&model={args.model}" if args.model else "")
                page.goto(f"{url}/live{query}")
                state = lambda: page.evaluate("({...window.shelfscanLive})")  # noqa: E731
                deadline = time.monotonic() + 180
                while (s := state())["frames"] < 3:
                    if s["error"] or time.monotonic() > deadline:
                        print(f"size {size}: live page failed: {s}", file=sys.stderr)
                        return 1
                    time.sleep(0.2)
                f0, t0 = s["frames"], time.monotonic()
                time.sleep(args.seconds)
                s = state()
                fps = (s["frames"] - f0) / (time.monotonic() - t0)
                print(f"{size:>5} {fps:>7.2f} {1000 / max(fps, 1e-9):>9.0f} {s['boxes']:>6}  "
                      f"{s['backend']} x{s['threads']} threads")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
