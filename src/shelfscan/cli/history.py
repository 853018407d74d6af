"""``shelfscan history``: a shelf's scans over time from the results database (totals, types, gap share), as
CSV or as HTML with a plot."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="scans of shelves over time, from a batch's database", description=__doc__)
    p.add_argument("--db", required=True, metavar="URL",
                   help="SQLAlchemy URL (sqlite:///DIR/scans.db, postgresql://...) or a path to a .db file")
    p.add_argument("--shelf", default=None, metavar="ID", help="only this shelf (default: every shelf)")
    p.add_argument("--since", default=None, metavar="DATE", help="only scans taken from this ISO date or time")
    p.add_argument("--out", required=True, help="report.csv or report.html")
    p.set_defaults(func=run)


def db_url(text: str) -> str:
    """A URL as given, or ``sqlite:///`` + the path of an existing file."""
    from pathlib import Path

    from shelfscan.batch.db import sqlite_url
    from shelfscan.errors import InputError

    if "://" in text:
        return text
    if not Path(text).is_file():
        raise InputError(f"--db: expected a SQLAlchemy URL or an existing SQLite file, got {text!r}")
    return sqlite_url(text)


def run(args: argparse.Namespace) -> int:
    from shelfscan.batch import require_sqlalchemy

    require_sqlalchemy()
    from shelfscan.batch.db import engine_for
    from shelfscan.batch.history import load_history, parse_since, write_report

    engine = engine_for(db_url(args.db))
    rows = load_history(engine, args.shelf, parse_since(args.since))
    path = write_report(rows, args.out)
    print(f"{len(rows)} scans of {len({r.shelf_id for r in rows})} shelves -> {path}")
    return 0 if rows else 1
