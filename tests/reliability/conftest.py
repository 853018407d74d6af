"""Shared pieces of the reliability tests: a tiny random model, small photos, decompression bombs, hostile files.

Nothing here needs ../shared: every input is made in tmp_path.
"""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nnewpath 0 0 moveto 100 100 lineto stroke\n"
       b"showpage\n%%EOF\n")


def png_bomb(width: int, height: int, real: bool = False) -> bytes:
    """A PNG declaring width x height RGB pixels. ``real=False``: a header and a token IDAT (refused from the
    header, never decodable); ``real=True``: all rows present, all black, compressed to almost nothing."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    if real:
        comp = zlib.compressobj(9)
        row = b"\0" * (1 + 3 * width)
        data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    else:
        data = zlib.compress(b"\0" * 64)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def photo(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def encode(pixels: np.ndarray, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt)
    return buf.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random one-class detector checkpoint (small and fast; its boxes mean nothing). Needs torch."""
    torch = pytest.importorskip("torch")

    from shelfscan.models.checkpoint import save_checkpoint
    from shelfscan.models.detector import DetectorConfig, ShelfDetector

    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(width=16, head_depth=1, imgsz=128), pretrained_backbone=False)
    return save_checkpoint(tmp_path_factory.mktemp("model") / "tiny.pt", net)


@pytest.fixture(scope="session")
def tiny_detector(tiny_model):
    from shelfscan.inference import Detector

    return Detector(str(tiny_model), conf=0.0, max_det=10, runtime="torch")


@pytest.fixture
def cli(capsys):
    """Run ``shelfscan ARGS``: (exit status, stdout, stderr); a traceback fails the test."""
    from shelfscan.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return status, out, err

    return run


@pytest.fixture(scope="session")
def kit():
    """The helpers above, for test modules (tests are not a package: fixtures carry them)."""
    from types import SimpleNamespace

    return SimpleNamespace(png_bomb=png_bomb, photo=photo, encode=encode, write=write, EPS=EPS)
