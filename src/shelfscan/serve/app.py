"""The REST API of ``shelfscan serve`` (FastAPI): detect and count products in uploaded shelf photos.

Routes: ``POST /v1/detect`` and ``POST /v1/count`` (multipart field ``image``) -> JSON; ``GET /healthz``;
``GET /`` the upload page; ``GET /live`` the camera page (:mod:`shelfscan.serve.web`); OpenAPI at ``/docs`` and
``/openapi.json``; every GET route answers HEAD too. Every error is JSON ``{"error": message, "status": code}``.
Both ``/v1`` routes take the query parameters ``images``, ``model`` and ``imgsz`` (any other: 422); their answers
are built in :mod:`shelfscan.serve.answers`.

One queue bounds the work: an upload's header is checked as soon as it has arrived (bad files, bombs: answered at
once), then decoding *and* inference run as one job on a small dedicated thread pool (``workers`` threads, default
1, so requests queue instead of fighting over the CPU and memory: at most ``workers`` photos are decoded at a time,
whatever the burst). At most ``max_queue`` jobs wait (503 beyond), each at most ``timeout_s`` (503 beyond). A job
whose request timed out is cancelled: before it starts, or at its next step (decode, each network layer run by
PyTorch, drawing); a running ONNX Runtime pass, under a second at the working size, finishes first.
"""
from __future__ import annotations

import asyncio
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import import_module, resources
from pathlib import Path
from typing import Any, Sequence

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfscan import __version__
from shelfscan.errors import InputError, ShelfscanError
from shelfscan.serve.answers import (IMGSZ_HELP, count_answer, detect_answer, detections_json,  # noqa: F401
                                     imgsz_query, known_query, safe_name)
from shelfscan.serve.limits import (ALLOWED_FORMATS, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ApiKeyGuard, BodyLimit,
                                    HeadAsGet, UploadRejected, decode_upload, probe_upload)

API_KEY_HEADER = "X-API-Key"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


class JobCancelled(Exception):
    """Raised inside an inference job whose request has already been answered (timed out): stop working."""


class _Job:
    """Deadline of one queued job; :meth:`check` raises :class:`JobCancelled` once it has passed or the request
    gave up. While a job runs, PyTorch modules check it before every forward (see :func:`_torch_checks`)."""

    current = threading.local()

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.cancelled = False

    def check(self) -> None:
        if self.cancelled or time.monotonic() > self.deadline:
            raise JobCancelled("the request timed out; its job stops here")


_HOOK = {"users": 0, "handle": None}
_HOOK_LOCK = threading.Lock()


def _check_current_job(module, args) -> None:
    job = getattr(_Job.current, "job", None)
    if job is not None:
        job.check()


class _torch_checks:
    """While a job runs: a global PyTorch forward-pre-hook checks the job of the calling thread before each
    module, so a timed-out job stops within one layer. Registered only while jobs run (nothing is added to other
    uses of torch in the process, e.g. an ONNX export), and only when torch is already imported."""

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.torch = sys.modules.get("torch")

    def __enter__(self):
        _Job.current.job = self.job
        if self.torch is not None:
            with _HOOK_LOCK:
                if _HOOK["users"] == 0:
                    _HOOK["handle"] = self.torch.nn.modules.module.register_module_forward_pre_hook(_check_current_job)
                _HOOK["users"] += 1
        return self

    def __exit__(self, *exc) -> None:
        _Job.current.job = None
        if self.torch is not None:
            with _HOOK_LOCK:
                _HOOK["users"] -= 1
                if _HOOK["users"] == 0 and _HOOK["handle"] is not None:
                    _HOOK["handle"].remove()
                    _HOOK["handle"] = None


def _release_memory() -> None:
    """Hand freed heap pages back to the OS after a large photo (glibc keeps them otherwise); no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _build_detector(model: Any):
    """None / name / path (.pt or .onnx) / ShelfDetector / OnnxDetectorModel / Detector -> a Detector."""
    from shelfscan.inference import Detector

    return model if isinstance(model, Detector) else Detector(model)


def create_app(model: Any = None, *, api_key: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
               timeout_s: float = 30.0, cors: bool | Sequence[str] = False, max_pixels: int = DEFAULT_MAX_PIXELS,
               workers: int = 1, max_queue: int = 32, group_method: str | None = None,
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
        count_conf: ``/v1/count`` counts boxes scoring at least this (None: ``shelfscan.counting.WEAK_CONF``,
            as ``shelfscan count``); ``/v1/detect`` keeps the detector's own threshold. Boxes under the
            detector's threshold are never seen, so a ``count_conf`` below it changes nothing.
        confirm_below: boxes scoring under this do not form product types, they are counted only when they look
            like one (None: ``shelfscan.counting.COUNT_CONF``; 0: every counted box forms types).
        model_name: the name clients use for ``model`` (default: its shipped name, else ``"default"``).
        extra_models: more models the API offers, name -> what ``model`` accepts; a request picks one with the
            query parameter ``model=NAME`` (e.g. ``{"apparel": "apparel"}``). The upload page lists them all.
        live_models: name -> ONNX file the ``/live`` camera page runs in the browser (default: the shipped
            models' ONNX files; see :mod:`shelfscan.serve.web`).

    Raises:
        InputError: bad limits, or the model cannot be loaded (the server then does not start).
    """
    for name, value in (("max_bytes", max_bytes), ("timeout_s", timeout_s), ("max_pixels", max_pixels),
                        ("workers", workers), ("max_queue", max_queue)):
        if not value > 0:
            raise InputError(f"{name}: expected a positive number, got {value!r}")
    for name, value in (("count_conf", count_conf), ("confirm_below", confirm_below)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InputError(f"{name}: expected a score in [0, 1] or None, got {value!r}")
    if api_key is not None and not api_key.strip():
        raise InputError("api_key: expected a non-empty key or None, got an empty string")
    detector = _build_detector(model)
    if model_name is None:
        from shelfscan.models.checkpoint import DEFAULT_MODEL, SHIPPED_MODELS

        model_name = DEFAULT_MODEL if model is None else model if isinstance(model, str) and model in \
            SHIPPED_MODELS else "default"
    detectors = {model_name: detector}
    for name, spec in (extra_models or {}).items():
        if name in detectors:
            raise InputError(f"extra_models: expected names other than {sorted(detectors)}, got {name!r} again")
        detectors[name] = _build_detector(spec)
    try:  # the thresholds /v1/count uses: the given ones, else the library's (those of `shelfscan count`)
        counting = import_module("shelfscan.counting")
        counting_info = {"conf": counting.WEAK_CONF if count_conf is None else count_conf,
                         "confirm_below": counting.COUNT_CONF if confirm_below is None else confirm_below}
    except ImportError:  # /v1/count answers 501
        counting_info = None
    runtime = "onnxruntime" if type(detector.model).__name__ == "OnnxDetectorModel" else "pytorch"
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shelfscan-infer")
    waiting = {"n": 0}
    pages = {name: (resources.files("shelfscan.serve") / "static" / name).read_bytes()
             for name in ("index.html", "app.js")}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    # /docs is served from vendored files by shelfscan.serve.web (FastAPI's default loads Swagger UI from a CDN)
    app = FastAPI(title="shelfscan", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Detect every product on a shelf photo, group them into product types, count them.")
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, max_bytes=max_bytes, timeout_s=timeout_s)
    if api_key is not None:
        app.add_middleware(ApiKeyGuard, api_key=api_key, header=API_KEY_HEADER, prefix="/v1/")
    # the guard above does the check (before the body is read); this declares the header in the OpenAPI docs
    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                              description="required when the server was started with --api-key")
    if cors:  # outermost: preflight requests carry no API key
        from fastapi.middleware.cors import CORSMiddleware

        origins = ["*"] if cors is True else list(cors)
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=[API_KEY_HEADER, "Content-Type"])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: {e.get('msg')}"
                 for e in exc.errors()]
        return _error(422, "; ".join(parts) or "invalid request")

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(ShelfscanError)
    async def _shelfscan_error(request: Request, exc: ShelfscanError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:  # uvicorn logs the traceback
        return _error(500, f"internal error ({type(exc).__name__}); the server logged the details")

    def job(state: _Job, file, work, args: tuple) -> tuple[dict, float]:
        """On the inference pool: read and decode the upload, then ``work(rgb, job, *args)`` -> its JSON dict."""
        with _torch_checks(state):
            state.check()  # the request gave up while this job waited: never start it
            t0 = time.perf_counter()
            file.seek(0)
            rgb = decode_upload(file.read(max_bytes + 1), max_bytes=max_bytes, max_pixels=max_pixels)
            decode_ms = (time.perf_counter() - t0) * 1e3
            try:
                state.check()
                out = work(rgb, state, *args)
                out["image"] = {**out["image"], "width": int(rgb.shape[1]), "height": int(rgb.shape[0])} \
                    if isinstance(out.get("image"), dict) else out.get("image")
                return out, decode_ms
            finally:
                big = rgb.size > 3 * 2**24  # more than 16 MP
                del rgb
                if big:
                    _release_memory()

    async def run_job(upload: UploadFile, work, *args) -> tuple[dict, float]:
        """Check the upload's header now, then queue its decoding and ``work`` as one job on the inference pool;
        503 when the queue is full or the job takes over ``timeout_s`` (then it is cancelled)."""
        await run_in_threadpool(probe_upload, upload.file, max_bytes=max_bytes, max_pixels=max_pixels)
        if waiting["n"] >= max_queue:
            raise StarletteHTTPException(503, f"server busy: expected fewer than {max_queue} queued requests, "
                                              f"got {waiting['n']}; retry later", headers={"Retry-After": "5"})
        waiting["n"] += 1
        state = _Job(timeout_s)
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, job, state, upload.file, work, args)
            return await asyncio.wait_for(future, timeout_s)
        except (asyncio.TimeoutError, JobCancelled):  # (the job may see its deadline a moment before we do)
            state.cancelled = True  # a queued job never starts; a running one stops at its next check
            raise StarletteHTTPException(503, f"processing: expected a result within {timeout_s:g} s, got none "
                                              "(server busy or image too hard); retry later",
                                         headers={"Retry-After": "5"}) from None
        except MemoryError:
            raise StarletteHTTPException(503, "processing: expected enough memory for this image, got too little; "
                                              "retry later or send a smaller photo") from None
        finally:
            waiting["n"] -= 1

    def pick(name: str | None):
        if name is None:
            return detector
        if name not in detectors:
            raise StarletteHTTPException(404, f"model: expected one of {sorted(detectors)}, got {name!r}")
        return detectors[name]

    image_field = File(..., description=f"the shelf photo ({', '.join(ALLOWED_FORMATS)})")
    model_query = Query(None, description=f"which served model (default {model_name!r}); see GET /healthz")
    images_flag = Query(False, description="also return annotated images as base64 JPEG")
    imgsz_param = Query(None, description=IMGSZ_HELP)
    accepted = ("images", "model", "imgsz")  # the query parameters of both /v1 routes (others: 422)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"status": "ok", "version": __version__, "runtime": runtime, "classes": detector.class_names,
                "imgsz": detector.imgsz, "conf": detector.conf, "max_bytes": max_bytes, "max_pixels": max_pixels,
                "api_key_required": api_key is not None, "default_model": model_name, "count": counting_info,
                "models": {n: {"classes": d.class_names, "imgsz": d.imgsz, "auto": d.auto, "noun": d.noun}
                           for n, d in detectors.items()}}

    @app.post("/v1/detect", tags=["v1"], dependencies=[Depends(key_header),
                                                       Depends(known_query("/v1/detect", accepted))])
    async def detect(image: UploadFile = image_field, images: bool = images_flag,
                     model: str | None = model_query, imgsz: str | None = imgsz_param) -> dict:
        """Boxes of every product: ``{"image", "count", "noun", "imgsz", "class_names", "counts",
        "detections": [...], "time_ms"}``; ``counts`` is boxes per class name, ``imgsz`` the working size used."""
        chosen = pick(model).with_imgsz(imgsz_query(imgsz))  # the request's own copy: its size, its last_imgsz
        t0 = time.perf_counter()
        out, decode_ms = await run_job(image, detect_answer, chosen, safe_name(image.filename), images)
        out["time_ms"] = {"decode": round(decode_ms, 1), "total": round((time.perf_counter() - t0) * 1e3, 1)}
        return out

    @app.post("/v1/count", tags=["v1"], dependencies=[Depends(key_header),
                                                      Depends(known_query("/v1/count", accepted))])
    async def count(image: UploadFile = image_field, images: bool = images_flag,
                    model: str | None = model_query, imgsz: str | None = imgsz_param) -> dict:
        """Products grouped into types with counts and shares (the ``ShelfCount`` JSON of shelfscan.counting,
        with ``"gaps": {"count", "boxes", "share_of_width"}`` from a model with a gap class), plus ``noun`` and
        the ``imgsz`` used; ``annotated_jpeg`` (boxes coloured by type, legend) and ``types_jpeg`` (contact
        sheet) with ``images=true``."""
        size = imgsz_query(imgsz)  # 422 before anything else runs
        try:
            count_products = import_module("shelfscan.counting").count  # optional: the server runs without it
        except ImportError:
            count_products = None
        if count_products is None or counting_info is None:
            raise StarletteHTTPException(501, "POST /v1/count: expected shelfscan.counting in this build, got "
                                              "none; use POST /v1/detect")
        chosen = pick(model).with_imgsz(size)
        t0 = time.perf_counter()
        out, decode_ms = await run_job(image, count_answer, chosen, count_products, group_method, counting_info["conf"],
                                       counting_info["confirm_below"], images)
        out["image"] = safe_name(image.filename)  # the upload's file name (the library only knows "image")
        out["time_ms"] = {"decode": round(decode_ms, 1), "total": round((time.perf_counter() - t0) * 1e3, 1)}
        return out

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(pages["index.html"], media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @app.get("/static/app.js", include_in_schema=False)
    def app_js() -> Response:
        return Response(pages["app.js"], media_type="text/javascript; charset=utf-8", headers=PAGE_HEADERS)

    from shelfscan.serve.web import add_live_routes

    add_live_routes(app, live_models, version=__version__)
    app.state.detector = detector
    app.state.detectors = detectors
    return app
