"""``shelfscan batch``: count every photo of folders, files or path lists once, resumably, into
``DIR/results.jsonl`` and a results database (SQLite ``DIR/scans.db`` by default, PostgreSQL by ``--db``)."""
from __future__ import annotations

import argparse
import sys

from shelfscan.cli.common import add_model, imgsz_arg
from shelfscan.counting.config import METHODS, CountConfig
from shelfscan.inference.config import InferenceConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="count many photos once each, resumably, into results.jsonl and a database",
                       description=__doc__)
    p.add_argument("sources", nargs="+", help="folders (searched recursively), image files, or .txt files "
                                              "listing one path per line (relative to the list's folder)")
    p.add_argument("--out", required=True, help="folder: results.jsonl (one line per photo), scans.db")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: a process pool; ray: a Ray Data pipeline (pip install 'shelfscan[ray]')")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="Ray cluster to join (default: start a local Ray in this process)")
    p.add_argument("--workers", type=int, default=1, help="parallel counters: processes or Ray actors (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="ONNX Runtime threads per counter (default: this machine's CPUs / workers)")
    p.add_argument("--db", default=None, metavar="URL", help="SQLAlchemy URL of the results database, e.g. "
                   "postgresql://user@host/shelves (default sqlite:///DIR/scans.db)")
    p.add_argument("--shelf-id", default=None, metavar="REGEX",
                   help="regex with a named group 'shelf' searched in each photo's path, e.g. "
                        "'aisle(?P<shelf>\\d+)/'")
    p.add_argument("--shelf-map", default=None, metavar="CSV", help="csv of path,shelf rows (wins over --shelf-id)")
    add_model(p)
    p.add_argument("--imgsz", type=imgsz_arg, default=InferenceConfig.imgsz,
                   help="working size or 'auto' (default: the model's)")
    p.add_argument("--conf", type=float, default=CountConfig.count_conf,
                   help=f"score threshold (default {CountConfig.count_conf})")
    p.add_argument("--confirm-below", type=float, default=CountConfig.confirm_below, metavar="S",
                   help=f"boxes under S count only when they look like a type (default {CountConfig.confirm_below})")
    p.add_argument("--method", default=CountConfig.method, choices=METHODS)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shelfscan.batch import require_sqlalchemy

    require_sqlalchemy()
    from shelfscan.batch.db import ShelfIds
    from shelfscan.batch.engines import EngineConfig, default_threads
    from shelfscan.batch.runner import run_batch
    from shelfscan.batch.settings import CountSettings

    settings = CountSettings(model=args.model, imgsz=args.imgsz, conf=args.conf, method=args.method,
                             confirm_below=args.confirm_below or None)
    cfg = EngineConfig(args.engine, args.workers, args.threads or default_threads(args.workers), args.ray_address)
    shelf_ids = ShelfIds.from_args(args.shelf_id, args.shelf_map)
    summary = run_batch(args.sources, args.out, settings, cfg, db_url=args.db, shelf_ids=shelf_ids,
                        progress=not args.quiet)
    for msg in summary.problems:
        print(f"note: {msg}", file=sys.stderr)
    print(f"{summary.photos} photos: {summary.counted} counted, {summary.failed} failed (recorded with their "
          f"error), {summary.skipped} already done; results in {args.out}/results.jsonl, scans in "
          f"{summary.db_url}" + (f" ({summary.backfilled} copied from results.jsonl)" if summary.backfilled else ""))
    return 1 if summary.failed else 0
