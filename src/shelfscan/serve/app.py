"""The REST API of ``shelfscan serve`` (FastAPI): detect and count products in uploaded shelf photos.

Routes: ``POST /v1/detect`` and ``POST /v1/count`` (multipart field ``image``) -> JSON; ``GET /healthz``;
``GET /`` the upload page; ``GET /live`` the camera page (:mod:`shelfscan.serve.web`); OpenAPI at ``/docs`` and
``/openapi.json``; every GET route answers HEAD too. Every error is JSON ``{"error": message, "status": code}``.
Both ``/v1`` routes take the query parameters ``images``, ``model`` and ``imgsz`` (any other: 422); their answers
are built in :mod:`shelfscan.serve.answers`.

This module assembles the app; the parts live beside it: :mod:`shelfscan.serve.routes_v1` (``/healthz``, ``/v1``),
:mod:`shelfscan.serve.jobs` (the inference queue), :mod:`shelfscan.serve.errors` (the JSON error body),
:mod:`shelfscan.serve.limits` (upload checks, middleware) and :mod:`shelfscan.serve.web` (pages).

One queue bounds the work: an upload's header is checked as soon as it has arrived (bad files, bombs: answered at
once), then decoding *and* inference run as one job on a small dedicated thread pool (``workers`` threads, default
1, so requests queue instead of fighting over the CPU and memory: at most ``workers`` photos are decoded at a time,
whatever the burst). At most ``max_queue`` jobs wait (503 beyond), each at most ``timeout_s`` (503 beyond). A job
whose request timed out is cancelled: before it starts, or at its next step (decode, each network layer run by
PyTorch, drawing); a running ONNX Runtime pass, under a second at the working size, finishes first.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from fastapi import FastAPI
from fastapi.responses import Response

from shelfscan import __version__
from shelfscan.counting.config import CountConfig
from shelfscan.errors import InputError
from shelfscan.serve.answers import detections_json  # noqa: F401  (re-exported: shelfscan.serve.app.detections_json)
from shelfscan.serve.config import ServeConfig
from shelfscan.serve.errors import add_error_handlers
from shelfscan.serve.errors import json_error as _error  # noqa: F401  (the former name)
from shelfscan.serve.jobs import JobQueue
from shelfscan.serve.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ApiKeyGuard, BodyLimit, HeadAsGet
from shelfscan.serve.routes_v1 import API_KEY_HEADER, ApiSettings, ServedModels, add_health_route, add_v1_routes

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _build_detector(model: Any):
    """None / name / path (.pt or .onnx) / ShelfDetector / OnnxDetectorModel / Detector -> a Detector."""
    from shelfscan.inference import Detector

    return model if isinstance(model, Detector) else Detector(model)


def _check_options(*, max_bytes, timeout_s, max_pixels, workers, max_queue, count_conf, confirm_below,
                   api_key) -> None:
    """InputError (expected vs got) for a limit that is not positive, a threshold outside [0, 1], an empty key."""
    for name, value in (("max_bytes", max_bytes), ("timeout_s", timeout_s), ("max_pixels", max_pixels),
                        ("workers", workers), ("max_queue", max_queue)):
        if not value > 0:
            raise InputError(f"{name}: expected a positive number, got {value!r}")
    for name, value in (("count_conf", count_conf), ("confirm_below", confirm_below)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InputError(f"{name}: expected a score in [0, 1] or None, got {value!r}")
    if api_key is not None and not api_key.strip():
        raise InputError("api_key: expected a non-empty key or None, got an empty string")


def _served_models(model: Any, model_name: str | None, extra_models: dict[str, Any] | None) -> ServedModels:
    """Load the default model (named ``model_name``, else its shipped name, else ``"default"``) and the extras."""
    detector = _build_detector(model)
    if model_name is None:
        from shelfscan.models.checkpoint import DEFAULT_MODEL, SHIPPED_MODELS

        model_name = DEFAULT_MODEL if model is None else model if isinstance(model, str) and model in \
            SHIPPED_MODELS else "default"
    served = ServedModels(model_name, {model_name: detector})
    for name, spec in (extra_models or {}).items():
        if name in served.detectors:
            raise InputError(f"extra_models: expected names other than {sorted(served.detectors)}, got {name!r} "
                             "again")
        served.detectors[name] = _build_detector(spec)
    return served


def _counting_info(count_conf: float | None, confirm_below: float | None) -> dict:
    """The thresholds /v1/count uses: the given ones, else :class:`CountConfig`'s (those of ``shelfscan count``)."""
    return {"conf": CountConfig.count_conf if count_conf is None else count_conf,
            "confirm_below": CountConfig.confirm_below if confirm_below is None else confirm_below}


def _add_middleware(app: FastAPI, *, max_bytes: int, timeout_s: float, api_key: str | None,
                    cors: bool | Sequence[str]) -> None:
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, max_bytes=max_bytes, timeout_s=timeout_s)
    if api_key is not None:
        app.add_middleware(ApiKeyGuard, api_key=api_key, header=API_KEY_HEADER, prefix="/v1/")
    if cors:  # outermost: preflight requests carry no API key
        from fastapi.middleware.cors import CORSMiddleware

        origins = ["*"] if cors is True else list(cors)
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=[API_KEY_HEADER, "Content-Type"])


def _add_page_routes(app: FastAPI) -> None:
    """``GET /`` (the upload page) and ``GET /static/app.js``."""
    pages = {name: (resources.files("shelfscan.serve") / "static" / name).read_bytes()
             for name in ("index.html", "app.js")}

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(pages["index.html"], media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @app.get("/static/app.js", include_in_schema=False)
    def app_js() -> Response:
        return Response(pages["app.js"], media_type="text/javascript; charset=utf-8", headers=PAGE_HEADERS)


def create_app(model: Any = None, *, api_key: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
               timeout_s: float = ServeConfig.timeout_s, cors: bool | Sequence[str] = False,
               max_pixels: int = DEFAULT_MAX_PIXELS, workers: int = ServeConfig.workers,
               max_queue: int = ServeConfig.max_queue, group_method: str | None = None,
               count_conf: float | None = None, confirm_below: float | None = None,
               live_models: dict[str, Path] | None = None, model_name: str | None = None,
               extra_models: dict[str, Any] | None = None) -> FastAPI:
    """Build the app.

    Args:
        model: a :class:`shelfscan.inference.Detector` (its conf, imgsz, ... are used as they are), or what
            ``Detector(model)`` accepts: None (the shipped default), a name, a .pt/.onnx path, a model object.
        api_key: when set, every ``/v1`` request must send it in the ``X-API-Key`` header (401 otherwise).
        max_bytes: largest accepted image file (413 above). timeout_s: longest wait for an upload to arrive and,
            separately, for its result (408 / 503 beyond). max_pixels: largest image, width × height (413 above;
            read from the header before decoding).
        cors: False (default, no CORS headers), True (any origin) or a list of allowed origins.
        workers: inference threads. max_queue: requests waiting for inference beyond which new ones get 503.
        group_method: ``method`` passed to ``shelfscan.counting.count`` (None: its default).
        count_conf: ``/v1/count`` counts boxes scoring at least this (None: ``CountConfig.count_conf``,
            as ``shelfscan count``); ``/v1/detect`` keeps the detector's own threshold. Boxes under the
            detector's threshold are never seen, so a ``count_conf`` below it changes nothing.
        confirm_below: boxes scoring under this do not form product types, they are counted only when they look
            like one (None: ``CountConfig.confirm_below``; 0: every counted box forms types).
        model_name: the name clients use for ``model`` (default: its shipped name, else ``"default"``).
        extra_models: more models the API offers, name -> what ``model`` accepts; a request picks one with the
            query parameter ``model=NAME`` (e.g. ``{"apparel": "apparel"}``). The upload page lists them all.
        live_models: name -> ONNX file the ``/live`` camera page runs in the browser (default: the shipped
            models' ONNX files; see :mod:`shelfscan.serve.web`).

    Raises:
        InputError: bad limits, or the model cannot be loaded (the server then does not start).
    """
    _check_options(max_bytes=max_bytes, timeout_s=timeout_s, max_pixels=max_pixels, workers=workers,
                   max_queue=max_queue, count_conf=count_conf, confirm_below=confirm_below, api_key=api_key)
    served = _served_models(model, model_name, extra_models)
    settings = ApiSettings(max_bytes=max_bytes, max_pixels=max_pixels, api_key_required=api_key is not None,
                           counting_info=_counting_info(count_conf, confirm_below), group_method=group_method)
    queue = JobQueue(workers=workers, max_queue=max_queue, timeout_s=timeout_s, max_bytes=max_bytes,
                     max_pixels=max_pixels)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        queue.shutdown()

    # /docs is served from vendored files by shelfscan.serve.web (FastAPI's default loads Swagger UI from a CDN)
    app = FastAPI(title="shelfscan", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Detect every product on a shelf photo, group them into product types, count them.")
    _add_middleware(app, max_bytes=max_bytes, timeout_s=timeout_s, api_key=api_key, cors=cors)
    add_error_handlers(app)
    add_health_route(app, served, settings)
    add_v1_routes(app, served, queue, settings)
    _add_page_routes(app)
    from shelfscan.serve.web import add_live_routes

    add_live_routes(app, live_models, version=__version__)
    return app
