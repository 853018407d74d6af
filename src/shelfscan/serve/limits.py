"""Checks on requests and uploads before any pixel is decoded: API key, body size, image type, pixel count,
complete data.

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

from shelfscan.data.images import load_strict, pil_to_rgb  # the same strict decoding as files on disk
from shelfscan.errors import ShelfscanError

# Pillow plugins an upload may use (no EPS/PDF/... decoders that call external programs). MPO: phone JPEGs.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF")
DEFAULT_MAX_BYTES = 25 * 2**20
DEFAULT_MAX_PIXELS = 64 * 2**20  # 67 MP: above 48-50 MP phone photos, far below a decompression bomb
MULTIPART_SLACK = 64 * 2**10  # form boundaries and headers around the file inside a multipart body


class UploadRejected(ShelfscanError):
    """An upload the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _decoders() -> list[str]:
    """:data:`ALLOWED_FORMATS` this Pillow build can open (registers all plugins on first use)."""
    Image.init()
    return [f for f in ALLOWED_FORMATS if f in Image.OPEN]


def decode_upload(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Bytes of an uploaded image -> RGB uint8 (H, W, 3), EXIF orientation applied.

    Raises:
        UploadRejected: 400 empty or truncated/undecodable data; 413 more than ``max_bytes`` bytes or more than
            ``max_pixels`` pixels (the size is read from the header, before decoding: decompression bombs are
            refused without allocating their pixels); 415 not a JPEG, PNG, WebP, BMP or TIFF image.
    """
    if not data:
        raise UploadRejected(400, "image: expected the bytes of an image file, got an empty upload")
    if len(data) > max_bytes:
        raise UploadRejected(413, f"image: expected at most {max_bytes} bytes, got {len(data)}")
    try:
        image = Image.open(io.BytesIO(data), formats=_decoders())
    except UnidentifiedImageError:
        raise UploadRejected(415, f"image: expected a {', '.join(ALLOWED_FORMATS)} image, got data that is none "
                                  f"of these (starts with {data[:8]!r})") from None
    except Image.DecompressionBombError as exc:
        raise UploadRejected(413, f"image: expected at most {max_pixels} pixels, got {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UploadRejected(400, f"image: expected a decodable image, got a broken header ({exc})") from None
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
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            reason = f"a truncated {fmt}" if "truncated" in str(exc) or isinstance(exc, EOFError) \
                else f"an undecodable {fmt} ({exc})"
            raise UploadRejected(400, f"image: expected a complete image, got {reason}") from None
    return rgb


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
