"""``shelfscan serve``: a REST API and an upload page for detecting and counting products (FastAPI + uvicorn).

POST /v1/detect and POST /v1/count take a photo (multipart field ``image``) and answer JSON; GET / is the upload
page, GET /healthz the health check, /docs the OpenAPI documentation. Listens on 127.0.0.1 unless --host says
otherwise; with --api-key (or the SHELFSCAN_API_KEY environment variable) every /v1 call must send the key in the
X-API-Key header.
"""
from __future__ import annotations

import argparse
import os
import sys

from shelfscan.cli.common import add_inference, add_model, inference_config
from shelfscan.counting.config import CountConfig
from shelfscan.inference.config import InferenceConfig
from shelfscan.serve.config import MIB, ServeConfig

API_KEY_ENV = "SHELFSCAN_API_KEY"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the REST API and the upload page", description=__doc__)
    d = ServeConfig
    p.add_argument("--host", default=d.host, help=f"address to listen on (default {d.host}: this machine only)")
    p.add_argument("--port", type=int, default=d.port, help=f"TCP port (default {d.port})")
    add_model(p)
    add_inference(p)
    p.add_argument("--threads", type=int, default=InferenceConfig.threads,
                   help="CPU threads per inference (torch / ONNX Runtime)")
    p.add_argument("--workers", type=int, default=d.workers,
                   help=f"inferences run at the same time (default {d.workers}; more only helps with spare cores)")
    p.add_argument("--api-key", default=None,
                   help=f"require this key in X-API-Key on /v1 calls (default: ${API_KEY_ENV} when set)")
    p.add_argument("--max-mb", type=float, default=d.max_bytes / MIB,
                   help=f"largest accepted image file in MB (default {d.max_bytes / MIB:g})")
    p.add_argument("--max-megapixels", type=float, default=d.max_pixels / MIB,
                   help="largest accepted image in megapixels (2^20 pixels), checked before decoding "
                        f"(default {d.max_pixels / MIB:g})")
    p.add_argument("--timeout", type=float, default=d.timeout_s,
                   help=f"seconds an upload may take to arrive, and a result to be computed (default {d.timeout_s:g})")
    p.add_argument("--header-timeout", type=float, default=d.header_timeout, metavar="S",
                   help="seconds a connection may take to send a request head, from opening or from its last "
                        "response; idle and trickling (slowloris) connections are closed after it "
                        f"(default {d.header_timeout:g})")
    p.add_argument("--cors", action="append", metavar="ORIGIN", default=None,
                   help="allow browser pages from ORIGIN (repeatable; '*' for any); default: no CORS")
    p.add_argument("--also", action="append", metavar="NAME[=PATH]", default=None,
                   help="offer another model too (a shipped name, or NAME=PATH); requests pick it with ?model=NAME "
                        "(default: with no --model, every other shipped model; 'none' offers only --model)")
    p.add_argument("--group-method", default=None, help="grouping method for /v1/count (default: the library's)")
    p.add_argument("--count-conf", type=float, default=None, metavar="S",
                   help=f"/v1/count counts boxes scoring >= S (default {CountConfig.count_conf}, as `shelfscan count`; "
                        "--conf still applies first and is what /v1/detect uses)")
    p.add_argument("--confirm-below", type=float, default=None, metavar="S",
                   help="/v1/count: boxes scoring under S only join product types they look like "
                        f"(default {CountConfig.confirm_below}, as `shelfscan count`; 0: every counted box forms "
                        "types)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shelfscan.errors import InputError

    try:
        import uvicorn

        from shelfscan.serve import create_app
    except ImportError as exc:
        raise InputError(f"shelfscan serve: expected the serve extras (pip install 'shelfscan[serve]'), got "
                         f"{exc}") from exc
    from shelfscan.inference import Detector

    for name, value in (("--port", args.port), ("--max-mb", args.max_mb), ("--timeout", args.timeout),
                        ("--header-timeout", args.header_timeout),
                        ("--max-megapixels", args.max_megapixels), ("--workers", args.workers)):
        if not value > 0:
            raise InputError(f"{name}: expected a positive number, got {value!r}")
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV) or None
    config = inference_config(args)
    detector = Detector(args.model, config=config)
    from shelfscan.models.checkpoint import DEFAULT_MODEL, SHIPPED_MODELS, WEIGHTS_DIR

    main_name = DEFAULT_MODEL if args.model is None else args.model
    shipped = main_name in SHIPPED_MODELS
    if args.also is None:  # with a shipped --model, every other shipped model whose weights are installed
        extra = {n: n for n, f in SHIPPED_MODELS.items()
                 if shipped and n != main_name and (WEIGHTS_DIR / getattr(f, "checkpoint", f)).is_file()}
    else:
        extra = {}
        for item in args.also:
            if item == "none":
                continue
            name, _, path = item.partition("=")
            if not name or (not path and name not in SHIPPED_MODELS):
                raise InputError(f"--also: expected a shipped name {sorted(SHIPPED_MODELS)} or NAME=PATH, "
                                 f"got {item!r}")
            extra[name] = path or name
    # the other models run at their own size (--imgsz is the main model's), with the same other settings
    extra = {n: Detector(spec, config=config, imgsz=None) for n, spec in extra.items()}
    cors = True if args.cors == ["*"] else (args.cors or False)
    app = create_app(detector, api_key=api_key, max_bytes=int(args.max_mb * MIB), timeout_s=args.timeout,
                     cors=cors, max_pixels=int(args.max_megapixels * MIB),
                     workers=args.workers, group_method=args.group_method, count_conf=args.count_conf,
                     confirm_below=args.confirm_below, extra_models=extra,
                     model_name=main_name if shipped else None)
    if api_key is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"shelfscan serve: warning: listening on {args.host} without an API key; anyone who can reach this "
              f"port can use the API (set --api-key or ${API_KEY_ENV})", file=sys.stderr)
    from shelfscan.serve.limits import server_options

    # h11 with a deadline for request heads, and no connection-counting limit_concurrency: idle and slow
    # sockets are closed and never block others; the app's queue bounds the work (see serve.limits)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                **server_options(header_timeout=args.header_timeout))
    return 0
