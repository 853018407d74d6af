"""Run the app on a loopback port in a background thread, and make fake-camera videos: the tools the browser
and server tests and the serve benchmarks share (also handy for trying the live page without a camera).
Pillow and numpy only (no OpenCV: the core test install has none)."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app, port: int | None = None, timeout_s: float = 30.0, **limits) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a daemon thread; yields the base URL, stops on exit.

    ``limits``: ``header_timeout``, ``max_connections`` of :func:`shelfscan.serve.limits.server_options`."""
    import uvicorn

    port = port or free_port()
    from shelfscan.serve.limits import server_options

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **server_options(**limits)))  # the settings of `shelfscan serve`
    thread = threading.Thread(target=server.run, daemon=True, name="shelfscan-local-server")
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"local server on port {port}: expected it to start within {timeout_s:g} s, "
                               "got no start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rgb_to_i420(frame: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB, H and W even -> its I420 planes: Y (H, W) then U and V (H/2, W/2) each, BT.601
    limited range (Y 16-235) as OpenCV's ``COLOR_RGB2YUV_I420`` writes them, chroma averaged over 2x2 pixels."""
    rgb = frame.astype(np.float64)
    y = rgb @ np.array([0.257, 0.504, 0.098]) + 16
    h, w = frame.shape[:2]
    mean = rgb.reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
    u = mean @ np.array([-0.148, -0.291, 0.439]) + 128
    v = mean @ np.array([0.439, -0.368, -0.071]) + 128
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in (y, u, v))


def write_y4m(path: str | Path, frames: list[np.ndarray] | np.ndarray, fps: int = 30) -> Path:
    """Write RGB uint8 frames (H, W, 3), H and W even, as a YUV4MPEG2 (4:2:0) video: the format Chromium's
    ``--use-file-for-fake-video-capture`` plays in a loop as the camera."""
    frames = [frames] if isinstance(frames, np.ndarray) else list(frames)
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"write_y4m: expected even frame sides, got {w}x{h}")
    path = Path(path)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            if frame.shape[:2] != (h, w):
                raise ValueError(f"write_y4m: expected every frame {w}x{h}, got {frame.shape[1]}x{frame.shape[0]}")
            f.write(b"FRAME\n")
            f.write(rgb_to_i420(frame))
    return path


def camera_frame(shared_data: str | Path | None = None) -> tuple[np.ndarray, str]:
    """A 640x480 RGB shelf picture for a fake camera, and where it came from: the middle of the first
    sku110k-sample photo under ``shared_data`` when there is one (about 80 products in view), else a synthetic
    shelf of 80-90 products rendered at that size."""
    from PIL import Image

    photos = sorted((Path(shared_data) / "sku110k-sample" / "images").glob("*.jpg")) if shared_data else []
    if not photos:
        from shelfscan.synth import render_shelf

        return render_shelf(3, width=640, height=480, n_products=(80, 90))[0], "synthetic shelf (seed 3)"
    from shelfscan.data.images import read_image

    img = read_image(photos[0])
    h, w = img.shape[:2]
    cw = int(w * 0.6)
    ch = min(h, int(cw * 0.75))
    y0, x0 = int((h - ch) * 0.3), int(w * 0.2)
    crop = Image.fromarray(img[y0:y0 + ch, x0:x0 + cw])
    frame = crop.resize((640, 480), Image.Resampling.BOX if cw >= 640 else Image.Resampling.BILINEAR)
    return np.asarray(frame), photos[0].name


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def fake_camera_args(video: str | Path) -> list[str]:
    """Chromium flags that grant the camera and play ``video`` (.y4m) as its picture."""
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
