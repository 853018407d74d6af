"""The live camera page: routes for the page, its service worker, manifest, the vendored onnxruntime-web files
and the ONNX models it runs in the browser.

Everything here is static and same-origin (no CDN). Every response carries the cross-origin isolation headers
(COOP ``same-origin`` + COEP ``require-corp``) so onnxruntime-web can use WASM threads (``SharedArrayBuffer``).
Paths from requests never reach the file system: files are looked up in fixed tables built at start-up.

Routes:
    ``GET /live``                   the camera page (``live.html``)
    ``GET /live/config.json``       models the page can run, with their class names, nouns and working sizes, and
                                    the page's settings (``defaults``: :class:`LivePage`)
    ``GET /sw.js``                  the service worker (scope ``/``): precaches the page, runtime and models
    ``GET /manifest.webmanifest``   PWA manifest; icons under ``/static/``
    ``GET /vendor/ort/<file>``      onnxruntime-web, vendored by ``make web`` (404 with a hint when absent)
    ``GET /models/<name>.onnx``     the ONNX models named in the config
    ``GET /docs``                   Swagger UI for ``/openapi.json``, from the vendored swagger-ui-dist (works
                                    offline; without ``make web`` a page links to the raw ``/openapi.json``)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response

from shelfscan.inference.config import InferenceConfig
from shelfscan.inference.predict import default_topk
from shelfscan.inference.tiling import PAD_VALUE
from shelfscan.serve.errors import json_error

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
LIVE_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
            "connect-src 'self' blob: data:; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
            "style-src 'self' 'unsafe-inline'; manifest-src 'self'")
STATIC_FILES = {  # name -> media type of the page's own files (package data in shelfscan/serve/static)
    "live.html": "text/html; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}


@dataclass(frozen=True)
class LivePage:
    """The live camera page's settings, sent in ``/live/config.json`` as ``defaults`` (the page repeats none).

    Attributes:
        sizes: working sizes offered (the browser runs the network on every camera frame, so small ones).
        size: the one it starts at (``?size=`` overrides it). conf: its score threshold (``?conf=``).
        iou, max_det, pre_nms_topk: its NMS, as the library's (:class:`InferenceConfig`, ``default_topk``).
        pad: the grey the frame is padded with to a multiple of 32, as every network input.
    """

    sizes: tuple[int, ...] = (256, 320, 416, 512, 640)
    size: int = 256
    conf: float = 0.3
    iou: float = InferenceConfig.iou
    max_det: int = InferenceConfig.max_det
    pre_nms_topk: int = default_topk(InferenceConfig.max_det)
    pad: int = PAD_VALUE


VENDOR_TYPES = {".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
                ".json": "application/json", "": "text/plain; charset=utf-8"}
VENDOR_DIR = Path(str(resources.files("shelfscan.serve") / "static" / "vendor" / "ort"))
SWAGGER_DIR = Path(str(resources.files("shelfscan.serve") / "static" / "vendor" / "swagger"))


def live_models_default() -> dict[str, Path]:
    """Every shipped model that has an ONNX twin (``weights/<name>.onnx``), by name; none when neither onnx nor
    onnxruntime is installed (nothing could read the files' metadata)."""
    import importlib.util

    from shelfscan.models.checkpoint import SHIPPED_MODELS, WEIGHTS_DIR

    if not (importlib.util.find_spec("onnx") or importlib.util.find_spec("onnxruntime")):
        return {}
    found = {name: WEIGHTS_DIR / Path(getattr(entry, "checkpoint", entry)).with_suffix(".onnx")  # entry or file
             for name, entry in SHIPPED_MODELS.items()}
    return {name: path for name, path in found.items() if path.is_file()}


def _model_info(name: str, path: Path) -> dict:
    """Name, URL and the metadata the page needs (class names, working size) read from the ONNX file."""
    try:
        import onnx
    except ImportError:  # the serve extra without the onnx extra: onnxruntime reads the metadata too
        import onnxruntime

        from shelfscan.inference.onnx_model import onnx_metadata

        meta = onnx_metadata(onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]))
    else:
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    from shelfscan.inference.onnx_model import config_from_metadata
    from shelfscan.models.shipped import model_noun

    config = config_from_metadata(meta)  # as the server's own runtime reads the file
    classes = list(config.class_names)
    return {"name": name, "url": f"/models/{name}.onnx", "class_names": classes, "noun": model_noun(name, classes),
            "imgsz": int(config.imgsz), "bytes": path.stat().st_size}


def _checked_models(live_models: dict[str, Path] | None) -> dict[str, Path]:
    """The live models (default: the shipped ONNX twins); InputError for a name that is not a simple word or a
    path that is not a file."""
    from shelfscan.errors import InputError

    models = dict(live_models_default() if live_models is None else live_models)
    for name, path in models.items():
        if not name.replace("-", "").replace("_", "").isalnum():
            raise InputError(f"live model name: expected letters, digits, - or _, got {name!r}")
        if not Path(path).is_file():
            raise InputError(f"live model {name!r}: expected an ONNX file, got {str(path)!r} (no such file)")
    return models


def _service_worker(template: bytes, version: str, pages: dict[str, bytes], vendor: dict[str, Path],
                    runtime: list[str], models: dict[str, Path], precache: list[str]) -> str:
    """``sw.js`` with its cache name and precache list filled in. The cache name changes whenever anything it
    caches changes (version, page files, runtime file sizes, model sizes and times), so clients update."""
    digest = hashlib.sha256(version.encode())
    for blob in pages.values():
        digest.update(blob)
    for name in runtime:
        digest.update(name.encode() + str(vendor[name].stat().st_size).encode())
    for name, path in models.items():
        digest.update(name.encode() + str(Path(path).stat().st_size).encode() + str(Path(path).stat().st_mtime_ns)
                      .encode())
    return (template.decode().replace("__CACHE_VERSION__", digest.hexdigest()[:16])
            .replace("__PRECACHE__", json.dumps(precache)))


def add_live_routes(app: FastAPI, live_models: dict[str, Path] | None = None, *, version: str = "") -> None:
    """Register the live page's routes on ``app``.

    Args:
        live_models: name -> ONNX file the page may run (default: the shipped models' ONNX twins). The first is
            the page's default. Names must be simple words (they become URLs).
    """
    models = _checked_models(live_models)
    static = resources.files("shelfscan.serve") / "static"
    pages = {name: (static / name).read_bytes() for name in STATIC_FILES}
    vendor = {p.name: p for p in VENDOR_DIR.iterdir() if p.is_file()} if VENDOR_DIR.is_dir() else {}
    infos = [_model_info(name, Path(path)) for name, path in models.items()]
    runtime = sorted(n for n in vendor if n.endswith((".mjs", ".wasm")))
    config = {"models": infos, "runtime": [f"/vendor/ort/{n}" for n in runtime], "defaults": asdict(LivePage()),
              "runtime_ready": "ort.min.mjs" in vendor,
              "hint": None if "ort.min.mjs" in vendor else
              "onnxruntime-web is not vendored in this install: run `make web` in the shelfscan source tree"}
    precache = ["/live", "/live/config.json", "/static/live.js", "/manifest.webmanifest", "/static/icon-192.png",
                "/static/icon-512.png", *config["runtime"], *(m["url"] for m in infos)]
    sw = _service_worker(pages["sw.js"], version, pages, vendor, runtime, models, precache)
    _add_page_routes(app, pages, config, sw)
    _add_vendor_routes(app, vendor, config["hint"])
    _add_docs_routes(app)
    _add_model_routes(app, models)


def _add_page_routes(app: FastAPI, pages: dict[str, bytes], config: dict, sw: str) -> None:
    """``/live``, ``/live/config.json``, ``/static/live.js``, the icons, the manifest and ``/sw.js``."""
    page_headers = {**ISOLATION_HEADERS, "Content-Security-Policy": LIVE_CSP}

    def static_response(name: str) -> Response:
        return Response(pages[name], media_type=STATIC_FILES[name], headers=page_headers)

    @app.get("/live", include_in_schema=False)
    def live() -> Response:
        return static_response("live.html")

    @app.get("/live/config.json", include_in_schema=False)
    def live_config() -> JSONResponse:
        return JSONResponse(config, headers=ISOLATION_HEADERS)

    @app.get("/static/live.js", include_in_schema=False)
    def live_js() -> Response:
        return static_response("live.js")

    @app.get("/static/{name}.png", include_in_schema=False)
    def icon(name: str) -> Response:
        file = f"{name}.png"
        if file not in pages:
            return json_error(404, f"expected an icon name, got {file!r}")
        return static_response(file)

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest() -> Response:
        return static_response("manifest.webmanifest")

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        return Response(sw, media_type=STATIC_FILES["sw.js"],
                        headers={**page_headers, "Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


def _add_vendor_routes(app: FastAPI, vendor: dict[str, Path], hint: str | None) -> None:
    """``/vendor/ort/<file>``: the vendored onnxruntime-web files (404 with ``hint`` when absent)."""

    @app.get("/vendor/ort/{name}", include_in_schema=False)
    def vendored(name: str) -> Response:
        path = vendor.get(name)
        if path is None:
            return json_error(404, f"/vendor/ort/{name}: not found; {hint or f'expected one of {sorted(vendor)}'}",
                              ISOLATION_HEADERS)
        return FileResponse(path, media_type=VENDOR_TYPES.get(path.suffix, "application/octet-stream"),
                            headers=ISOLATION_HEADERS)


def _add_docs_routes(app: FastAPI) -> None:
    """``/docs`` (Swagger UI from the vendored swagger-ui-dist, else a page linking ``/openapi.json``) and
    ``/vendor/swagger/<file>``."""
    swagger = {p.name: p for p in SWAGGER_DIR.iterdir() if p.is_file()} if SWAGGER_DIR.is_dir() else {}

    @app.get("/vendor/swagger/{name}", include_in_schema=False)
    def swagger_file(name: str) -> Response:
        path = swagger.get(name)
        if path is None:
            return json_error(404, f"/vendor/swagger/{name}: expected one of {sorted(swagger)}, got none")
        media = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}.get(path.suffix,
                                                                                                  "application/json")
        return FileResponse(path, media_type=media)

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        if "swagger-ui-bundle.js" not in swagger:
            return Response("<!doctype html><title>shelfscan API</title><p>The interactive API page needs "
                            "swagger-ui-dist, which is not vendored in this install (run <code>make web</code> in "
                            "the shelfscan source tree). The API description is at "
                            "<a href=\"/openapi.json\">/openapi.json</a>.</p>", media_type="text/html")
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} API",
                                   swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/vendor/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/icon-192.png")


def _add_model_routes(app: FastAPI, models: dict[str, Path]) -> None:
    """``/models/<name>.onnx``: the ONNX files the page may run."""

    @app.get("/models/{name}.onnx", include_in_schema=False)
    def model_file(name: str) -> Response:
        if name not in models:
            return json_error(404, f"/models/{name}.onnx: expected one of {sorted(models)}, got none",
                              ISOLATION_HEADERS)
        return FileResponse(models[name], media_type="application/octet-stream", headers=ISOLATION_HEADERS)
