"""The JSON error body of every answer the server gives: ``{"error": message, "status": code}``.

:func:`json_error` builds one response; :func:`add_error_handlers` makes a FastAPI app answer every failure with
it (HTTP errors, request validation, rejected uploads, :class:`shelfscan.errors.ShelfscanError` as 400 and any
other exception as 500). Imported by :mod:`shelfscan.serve.app` and :mod:`shelfscan.serve.web` alike, so
neither imports the other.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfscan.errors import ShelfscanError
from shelfscan.serve.limits import UploadRejected


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"error": message, "status": status}`` with that HTTP status (and optional extra headers)."""
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: ``"field: message; other: message"`` (``body`` left out)."""
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: {e.get('msg')}"
             for e in exc.errors()]
    return "; ".join(parts) or "invalid request"


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into :func:`json_error` bodies."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return json_error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return json_error(422, validation_message(exc))

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return json_error(exc.status, exc.message)

    @app.exception_handler(ShelfscanError)
    async def _shelfscan_error(request: Request, exc: ShelfscanError) -> JSONResponse:
        return json_error(400, str(exc))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:  # uvicorn logs the traceback
        return json_error(500, f"internal error ({type(exc).__name__}); the server logged the details")
