"""``shelfscan diff``: what changed between two scans of one shelf (types vanished or appeared, count changes
per type matched by crop similarity, gaps opened or closed)."""
from __future__ import annotations

import argparse

from shelfscan.batch.matching import GAP_IOU, SIM_THRESHOLD


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="changes between two scans of a shelf", description=__doc__)
    p.add_argument("scan_a", type=int, help="id of the earlier scan (scans.id; see shelfscan history)")
    p.add_argument("scan_b", type=int, help="id of the later scan")
    p.add_argument("--db", required=True, metavar="URL", help="SQLAlchemy URL or a path to a SQLite .db file")
    p.add_argument("--threshold", type=float, default=SIM_THRESHOLD,
                   help=f"cosine similarity for two types to be one product (default {SIM_THRESHOLD})")
    p.add_argument("--gap-iou", type=float, default=GAP_IOU, help=f"IoU for two gaps to be one (default {GAP_IOU})")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from shelfscan.batch import require_sqlalchemy

    require_sqlalchemy()
    from shelfscan.batch.db import engine_for
    from shelfscan.batch.diff import diff_scans
    from shelfscan.cli.history import db_url

    result = diff_scans(engine_for(db_url(args.db)), args.scan_a, args.scan_b, args.threshold, args.gap_iou)
    print(json.dumps(result.to_json(), indent=1) if args.json else result.text())
    return 0
