"""Checks on connections, requests and uploads before any pixel is decoded: idle and slow connections, API key,
body size, image type, pixel count, complete data.

:class:`GuardedH11Protocol` is uvicorn's h11 protocol with a header deadline: a connection that has not sent a
complete request head within ``header_timeout`` seconds of opening (or of its previous response) is closed, however
it trickles bytes, and when more than ``max_connections`` are open the one idle the longest makes room for the new
one. :func:`server_options` gives the uvicorn settings that use it (and no ``limit_concurrency``, which counts idle
connections and answers everyone else with a plain-text 503).

:class:`ApiKeyGuard` refuses ``/v1`` requests without the key (401) before their body is read. :class:`BodyLimit`
is ASGI middleware: it refuses a body larger than the limit with 413 before it is read (from
``Content-Length``) or as soon as it grows past the limit (chunked uploads), and gives up with 408 on an upload
slower than the timeout. :func:`decode_upload` turns the bytes of one uploaded file into RGB pixels or raises
:class:`UploadRejected` with the HTTP status and an expected-vs-got message.
"""
from __future__ import annotations

import asyncio
import io
import json
import secrets
import time

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# the same strict decoding, and the same raster-only formats, as files on disk
from shelfscan.data.images import RASTER_FORMATS, ImageTooLarge, load_strict, open_raster, pil_to_rgb
from shelfscan.errors import ShelfscanError
from shelfscan.serve.config import ServeConfig

# Pillow plugins an upload may use (no EPS/PDF/... decoders that call external programs). MPO: phone JPEGs.
ALLOWED_FORMATS: tuple[str, ...] = RASTER_FORMATS
# the defaults of the limits (what each means: ServeConfig)
DEFAULT_MAX_BYTES = ServeConfig.max_bytes
DEFAULT_HEADER_TIMEOUT = ServeConfig.header_timeout
DEFAULT_MAX_CONNECTIONS = ServeConfig.max_connections
DEFAULT_MAX_PIXELS = ServeConfig.max_pixels
MULTIPART_SLACK = 64 * 2**10  # form boundaries and headers around the file inside a multipart body


class UploadRejected(ShelfscanError):
    """An upload the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _open(fp, data_start: bytes, max_pixels: int) -> Image.Image:
    """:func:`open_raster` with its errors as :class:`UploadRejected`."""
    try:
        return open_raster(fp, max_pixels)
    except UnidentifiedImageError:
        raise UploadRejected(415, f"image: expected a {', '.join(ALLOWED_FORMATS)} image, got data that is none "
                                  f"of these (starts with {data_start!r})") from None
    except ImageTooLarge as exc:
        raise UploadRejected(413, f"image: {exc.reason}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a broken header makes a decoder raise
        raise UploadRejected(400, f"image: expected a decodable image, got a broken header ({exc})") from None


def probe_upload(file, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """The cheap checks of :func:`decode_upload` on an uploaded file object, from its size and image header only
    (a few KB are read, nothing is decoded): empty (400), too many bytes or pixels (413), not an image (415).

    The server runs this as soon as an upload has arrived, so bad files and bombs are answered at once, and queues
    only the full decode (with the inference) for files that pass.
    """
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    if size == 0:
        raise UploadRejected(400, "image: expected the bytes of an image file, got an empty upload")
    if size > max_bytes:
        raise UploadRejected(413, f"image: expected at most {max_bytes} bytes, got {size}")
    start = file.read(8)
    file.seek(0)
    try:
        _open(_Borrowed(file), start, max_pixels).close()
    finally:
        file.seek(0)


class _Borrowed:
    """A file object lent to Pillow for reading a header: closing the image leaves the upload open."""

    def __init__(self, file) -> None:
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        pass


def decode_upload(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Bytes of an uploaded image -> RGB uint8 (H, W, 3), EXIF orientation applied.

    Raises:
        UploadRejected: 400 empty or truncated/undecodable data; 413 more than ``max_bytes`` bytes or more than
            ``max_pixels`` pixels (the size is read from the header, before decoding: decompression bombs are
            refused without allocating their pixels); 415 not a JPEG, PNG, WebP, TIFF, BMP or GIF image (EPS, PDF
            and the other Pillow plugins are never tried).
    """
    if not data:
        raise UploadRejected(400, "image: expected the bytes of an image file, got an empty upload")
    if len(data) > max_bytes:
        raise UploadRejected(413, f"image: expected at most {max_bytes} bytes, got {len(data)}")
    image = _open(io.BytesIO(data), data[:8], max_pixels)
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise UploadRejected(413, f"image: expected at most {max_pixels} pixels, got {width}x{height} = "
                                      f"{width * height} pixels (decompression-bomb guard)")
        fmt = image.format
        try:
            load_strict(image)
            image = ImageOps.exif_transpose(image)
            rgb = pil_to_rgb(image)
        except MemoryError:
            raise UploadRejected(413, f"image: expected an image that fits in the server's memory, got a "
                                      f"{width}x{height} {fmt} that does not") from None
        except Exception as exc:  # noqa: BLE001 - whatever a broken file makes a decoder raise
            reason = f"a truncated {fmt}" if "truncated" in str(exc) or isinstance(exc, EOFError) \
                else f"an undecodable {fmt} ({exc})"
            raise UploadRejected(400, f"image: expected a complete image, got {reason}") from None
    return rgb


class HeadAsGet:
    """ASGI middleware: ``HEAD`` is answered as ``GET`` without the body (same status and headers), on every
    route; load balancers and uptime checks probe with HEAD."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class BodyLimit:
    """ASGI middleware: request bodies at most ``max_bytes + slack`` bytes (an image of ``max_bytes`` and its
    multipart wrapping), delivered within ``timeout_s`` seconds.

    Too large -> 413 (before reading when ``Content-Length`` says so); too slow -> 408. Both answer with the
    JSON error shape of the app, ``{"error": message, "status": code}``, and whatever the app would have sent
    for the cut-off request is dropped.
    """

    def __init__(self, app, *, max_bytes: int, timeout_s: float, slack: int = MULTIPART_SLACK) -> None:
        self.app = app
        self.max_body = int(max_bytes) + int(slack)
        self.limit_text = f"an image of at most {int(max_bytes)} bytes plus {int(slack)} bytes of form data"
        self.timeout_s = float(timeout_s)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await send_json_error(send, 413, f"request body: expected {self.limit_text}, "
                                             f"got Content-Length {int(declared)}")
            return
        state = {"received": 0, "failure": None, "started": False}
        deadline = time.monotonic() + self.timeout_s

        async def limited_receive():
            try:
                message = await asyncio.wait_for(receive(), max(0.001, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                state["failure"] = (408, f"request body: expected the upload within {self.timeout_s:g} s, "
                                         f"got {state['received']} bytes by then")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body:
                    state["failure"] = (413, f"request body: expected {self.limit_text}, got more")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message) -> None:
            if state["failure"] is not None:
                return  # the app's answer to a cut-off body is replaced by ours
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if state["failure"] is None:
                raise
        if state["failure"] is not None and not state["started"]:
            await send_json_error(send, *state["failure"])


class ApiKeyGuard:
    """ASGI middleware: requests to paths under ``prefix`` must carry ``api_key`` in the ``header`` header, else
    401 before the body is read. CORS preflight (OPTIONS) passes: browsers send it without custom headers."""

    def __init__(self, app, *, api_key: str, header: str = "X-API-Key", prefix: str = "/v1/") -> None:
        self.app = app
        self.key = api_key.encode()
        self.header = header
        self.header_key = header.lower().encode()
        self.prefix = prefix

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix) and scope["method"] != "OPTIONS":
            given = dict(scope.get("headers") or []).get(self.header_key)
            if given is None:
                await send_json_error(send, 401, f"{self.header}: expected the API key header, got none")
                return
            if not secrets.compare_digest(given, self.key):
                await send_json_error(send, 401, f"{self.header}: expected the server's API key, got a wrong key")
                return
        await self.app(scope, receive, send)


async def send_json_error(send, status: int, message: str) -> None:
    """Send a complete JSON error response ``{"error": message, "status": status}`` on a raw ASGI ``send``."""
    body = json.dumps({"error": message, "status": status}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _json_response_bytes(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 response with the JSON error body, for answers written on the raw socket."""
    body = json.dumps({"error": message, "status": status}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"connection: close\r\n\r\n").encode() + body


def _h11_protocol():
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


class _GuardMixin:
    """The header deadline and connection cap of :class:`GuardedH11Protocol` (kept apart from uvicorn's class so
    this module imports without uvicorn)."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    _timer = None
    _armed_cycle = None
    _idle_since = 0.0
    _partial = False

    # -- the deadline ------------------------------------------------------------------------------------------
    def _arm(self) -> None:
        """Start waiting for a request head: the current cycle (None or the finished one) must change in time."""
        self._disarm()
        self._armed_cycle = self.cycle
        self._idle_since = time.monotonic()
        self._partial = False
        self._timer = self.loop.call_later(self.header_timeout, self._deadline)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _waiting(self) -> bool:
        """No request in flight and none begun since the deadline was armed (idle, or trickling a head)."""
        cycle = self.cycle
        return cycle is self._armed_cycle and (cycle is None or cycle.response_complete)

    def _deadline(self) -> None:
        self._timer = None
        if self.transport.is_closing() or not self._waiting():
            return  # a request began: its own limits (body 408, processing 503) apply from here
        self._close_waiting(f"request head: expected it within {self.header_timeout:g} s, got "
                            f"{'part of one' if self._partial else 'nothing'}")

    def _close_waiting(self, message: str) -> None:
        import h11

        if self._partial:  # the client is talking: tell it why, in the API's JSON error shape
            self.transport.write(_json_response_bytes(408, "Request Timeout", message))
        try:
            self.conn.send(h11.ConnectionClosed())
        except h11.LocalProtocolError:
            pass
        self.transport.close()

    # -- uvicorn's hooks -----------------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()
        if len(self.connections) > self.max_connections:
            idle = [c for c in self.connections if c is not self and isinstance(c, _GuardMixin) and c._waiting()]
            if idle:  # the longest-idle connection makes room (an idle flood cannot lock out new clients)
                min(idle, key=lambda c: c._idle_since)._close_waiting(
                    f"connections: expected at most {self.max_connections} open, got more; the longest idle closed")
            else:  # every connection is busy with a request: refuse the new one
                self.transport.write(_json_response_bytes(
                    503, "Service Unavailable", f"connections: expected at most {self.max_connections} open, got "
                                                "more, all busy; retry later"))
                self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._waiting():
            self._partial = True
        super().data_received(data)

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def send_400_response(self, msg: str) -> None:  # uvicorn's is plain text
        self.transport.write(_json_response_bytes(400, "Bad Request", f"request: expected valid HTTP/1.1, got "
                                                                      f"{msg.rstrip('.').lower()}"))
        self.transport.close()


_PROTOCOLS: dict[tuple[float, int], type] = {}


def guarded_protocol(header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                     max_connections: int = DEFAULT_MAX_CONNECTIONS) -> type:
    """uvicorn's h11 protocol class with these limits (see :class:`_GuardMixin`); pass it as uvicorn's ``http``."""
    key = (float(header_timeout), int(max_connections))
    if key not in _PROTOCOLS:
        _PROTOCOLS[key] = type("GuardedH11Protocol", (_GuardMixin, _h11_protocol()),
                               {"header_timeout": key[0], "max_connections": key[1]})
    return _PROTOCOLS[key]


def server_options(header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                   max_connections: int = DEFAULT_MAX_CONNECTIONS) -> dict:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that make it survive idle and slow clients.

    - ``http``: :func:`guarded_protocol` - a connection must send a complete request head within
      ``header_timeout`` s of opening and of each response (uvicorn alone waits for ever before the first request,
      and its keep-alive timer is cancelled by any byte, so a slowloris client is never closed);
    - ``limit_concurrency`` None: uvicorn's counts open connections, so 64 idle sockets made it answer every other
      client with a plain-text 503. Work is bounded instead by the app's own queue (``create_app(max_queue=)``);
    - ``timeout_keep_alive`` 5 s after a response, as before.
    """
    return {"http": guarded_protocol(header_timeout, max_connections), "limit_concurrency": None,
            "timeout_keep_alive": 5}
