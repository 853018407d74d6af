"""``ServeConfig``: the server's limits and where it listens, and the one place those defaults live
(``shelfscan serve``'s flags, :func:`shelfscan.serve.create_app`, :mod:`shelfscan.serve.limits`). No FastAPI
here, so the command line reads them without loading the server."""
from __future__ import annotations

from dataclasses import dataclass

MIB = 2**20


@dataclass(frozen=True)
class ServeConfig:
    """How ``shelfscan serve`` listens and what it accepts.

    Attributes:
        host: address to listen on (127.0.0.1: this machine only). port: TCP port.
        max_bytes: largest accepted image file (413 above).
        max_pixels: largest accepted image, width × height, read from the header before decoding (413 above):
            64 Mi ≈ 67 MP, above 48-50 MP phone photos, far below a decompression bomb.
        timeout_s: longest wait for an upload to arrive and, separately, for its result (408 / 503 beyond).
        header_timeout: seconds a connection may take to send a request head, from opening or from its last
            response (slowloris, idle sockets are closed after it).
        max_connections: open connections; beyond, the longest-idle one is closed to make room.
        workers: inference threads (photos decoded and run at the same time).
        max_queue: requests waiting for inference beyond which new ones get 503.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_bytes: int = 25 * MIB
    max_pixels: int = 64 * MIB
    timeout_s: float = 30.0
    header_timeout: float = 10.0
    max_connections: int = 1000
    workers: int = 1
    max_queue: int = 32
