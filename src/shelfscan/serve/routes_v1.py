"""The API's own routes: ``GET /healthz``, ``POST /v1/detect`` and ``POST /v1/count`` (multipart field ``image``).

Both ``/v1`` routes take the query parameters ``images``, ``model`` and ``imgsz`` (any other: 422); their answers
are built in :mod:`shelfscan.serve.answers` and run on the :class:`shelfscan.serve.jobs.JobQueue`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from fastapi import Depends, FastAPI, File, Query, UploadFile
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfscan import __version__
from shelfscan.serve.answers import IMGSZ_HELP, count_answer, detect_answer, imgsz_query, known_query, safe_name
from shelfscan.serve.jobs import JobQueue
from shelfscan.serve.limits import ALLOWED_FORMATS

API_KEY_HEADER = "X-API-Key"
ACCEPTED_QUERY = ("images", "model", "imgsz")  # the query parameters of both /v1 routes (others: 422)


@dataclass
class ServedModels:
    """The detectors the API offers, by the name clients pass as ``model``; ``default`` answers without one."""

    default: str
    detectors: dict[str, Any] = field(default_factory=dict)

    @property
    def detector(self):
        return self.detectors[self.default]

    def pick(self, name: str | None):
        """The detector called ``name`` (None: the default); 404 for a name not served."""
        if name is None:
            return self.detector
        if name not in self.detectors:
            raise StarletteHTTPException(404, f"model: expected one of {sorted(self.detectors)}, got {name!r}")
        return self.detectors[name]


@dataclass
class ApiSettings:
    """What the routes report in ``/healthz`` and use per request (see ``create_app`` for each one)."""

    max_bytes: int
    max_pixels: int
    api_key_required: bool
    counting_info: dict  # {"conf", "confirm_below"} of /v1/count
    group_method: str | None


def _elapsed(decode_ms: float, t0: float) -> dict:
    return {"decode": round(decode_ms, 1), "total": round((time.perf_counter() - t0) * 1e3, 1)}


def add_health_route(app: FastAPI, served: ServedModels, settings: ApiSettings) -> None:
    """``GET /healthz``: version, runtime, the default model's classes and sizes, limits and every served model."""
    detector = served.detector
    runtime = "onnxruntime" if type(detector.model).__name__ == "OnnxDetectorModel" else "pytorch"

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"status": "ok", "version": __version__, "runtime": runtime, "classes": detector.class_names,
                "imgsz": detector.imgsz, "conf": detector.conf, "max_bytes": settings.max_bytes,
                "max_pixels": settings.max_pixels, "api_key_required": settings.api_key_required,
                "default_model": served.default, "count": settings.counting_info,
                "models": {n: {"classes": d.class_names, "imgsz": d.imgsz, "auto": d.auto, "noun": d.noun}
                           for n, d in served.detectors.items()}}


def add_v1_routes(app: FastAPI, served: ServedModels, queue: JobQueue, settings: ApiSettings) -> None:
    """``POST /v1/detect`` and ``POST /v1/count``; the ``X-API-Key`` header is declared for the OpenAPI docs
    (the check itself is :class:`shelfscan.serve.limits.ApiKeyGuard`, before the body is read)."""
    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                              description="required when the server was started with --api-key")
    image_field = File(..., description=f"the shelf photo ({', '.join(ALLOWED_FORMATS)})")
    model_query = Query(None, description=f"which served model (default {served.default!r}); see GET /healthz")
    images_flag = Query(False, description="also return annotated images as base64 JPEG")
    imgsz_param = Query(None, description=IMGSZ_HELP)

    @app.post("/v1/detect", tags=["v1"], dependencies=[Depends(key_header),
                                                       Depends(known_query("/v1/detect", ACCEPTED_QUERY))])
    async def detect(image: UploadFile = image_field, images: bool = images_flag,
                     model: str | None = model_query, imgsz: str | None = imgsz_param) -> dict:
        """Boxes of every product: ``{"image", "count", "noun", "imgsz", "class_names", "counts",
        "detections": [...], "time_ms"}``; ``counts`` is boxes per class name, ``imgsz`` the working size used."""
        chosen = served.pick(model).with_imgsz(imgsz_query(imgsz))  # the request's own copy, at its size
        t0 = time.perf_counter()
        out, decode_ms = await queue.run(image, detect_answer, chosen, safe_name(image.filename), images)
        out["time_ms"] = _elapsed(decode_ms, t0)
        return out

    @app.post("/v1/count", tags=["v1"], dependencies=[Depends(key_header),
                                                      Depends(known_query("/v1/count", ACCEPTED_QUERY))])
    async def count(image: UploadFile = image_field, images: bool = images_flag,
                    model: str | None = model_query, imgsz: str | None = imgsz_param) -> dict:
        """Products grouped into types with counts and shares (the ``ShelfCount`` JSON of shelfscan.counting,
        with ``"gaps": {"count", "boxes", "share_of_width"}`` from a model with a gap class), plus ``noun`` and
        the ``imgsz`` used; ``annotated_jpeg`` (boxes coloured by type, legend) and ``types_jpeg`` (contact
        sheet) with ``images=true``."""
        size = imgsz_query(imgsz)  # 422 before anything else runs
        count_products = import_module("shelfscan.counting").count

        info = settings.counting_info
        chosen = served.pick(model).with_imgsz(size)
        t0 = time.perf_counter()
        out, decode_ms = await queue.run(image, count_answer, chosen, count_products, settings.group_method,
                                         info["conf"], info["confirm_below"], images)
        out["image"] = safe_name(image.filename)  # the upload's file name (the library only knows "image")
        out["time_ms"] = _elapsed(decode_ms, t0)
        return out
