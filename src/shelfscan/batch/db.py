"""The results database: SQLite by default (``DIR/scans.db``), PostgreSQL (or any SQLAlchemy URL) by ``--db``.

The database is written by the batch driver *before* the photo's line is appended to ``results.jsonl``, in one
transaction per chunk of photos. So a kill between the two leaves a row without its line: the photo is counted
again and its row replaced (rows are unique on image, sha256, model and settings), never doubled. Lines of
``results.jsonl`` that the database lacks (a database added on a later run) are copied in at the start of a run,
without type embeddings (``shelfscan diff`` says so when it meets such a scan).
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa

from shelfscan.batch import schema as t
from shelfscan.batch.records import key_of
from shelfscan.errors import InputError, expect


def engine_for(url: str) -> sa.Engine:
    """A SQLAlchemy engine for ``url`` with the schema created or upgraded. ``postgresql://`` URLs use psycopg
    (version 3, the ``[db]`` extra) unless they name a driver; SQLite enforces foreign keys."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise InputError(f"--db: expected a SQLAlchemy URL such as sqlite:///scans.db or "
                         f"postgresql://user@host/db (with pip install 'shelfscan[db]'), got {url!r} ({exc})") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    try:
        t.ensure_schema(engine)
    except sa.exc.OperationalError as exc:
        raise InputError(f"--db: expected a reachable database at "
                         f"{engine.url.render_as_string(hide_password=True)}, got {exc.orig}") from exc
    return engine


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve().as_posix()}"


@dataclass
class ShelfIds:
    """Which shelf a photo shows: a regex with a named group ``shelf`` searched in its path, and/or a csv of
    ``path,shelf`` rows (the csv wins). ``unmatched`` counts the photos that got none (reported by the batch)."""

    pattern: re.Pattern | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    unmatched: int = 0

    @classmethod
    def from_args(cls, regex: str | None, csv_path: str | None) -> "ShelfIds":
        pattern = None
        if regex is not None:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise InputError(f"--shelf-id: expected a regular expression, got {regex!r} ({exc})") from None
            expect("shelf" in pattern.groupindex, "--shelf-id", "a regex with a named group (?P<shelf>...)", regex)
        mapping = {}
        if csv_path is not None:
            with open(csv_path, newline="", encoding="utf-8-sig") as f:
                for number, row in enumerate(csv.reader(f), 1):
                    if len(row) != 2:
                        raise InputError(f"{csv_path}:{number}: expected 'path,shelf', got {row!r}")
                    if number == 1 and row == ["path", "shelf"]:
                        continue
                    mapping[Path(row[0]).resolve().as_posix()] = row[1]
        return cls(pattern, mapping)

    def __call__(self, image: str) -> str | None:
        if image in self.mapping:
            return self.mapping[image]
        found = self.pattern.search(image) if self.pattern is not None else None
        if found is None or found.group("shelf") is None:
            self.unmatched += self.pattern is not None or bool(self.mapping)  # no rule given: nothing to report
            return None
        return found.group("shelf")


def _scan_row(record: dict, shelf_id: str | None, now: datetime) -> dict:
    gaps = record.get("gaps") or None
    return {"image": record["image"], "sha256": record["sha256"], "shelf_id": shelf_id,
            "taken_at": datetime.fromisoformat(record["taken_at"]) if record.get("taken_at") else None,
            "model": record["model"], "settings": key_of(record)[3], "status": record["status"],
            "error": record["error"], "total": record.get("total"), "n_types": record.get("n_types"),
            "n_gaps": None if gaps is None else gaps["count"],
            "gap_share": None if gaps is None else gaps["share_of_width"], "created_at": now}


def _insert_scan(conn: sa.Connection, record: dict, embeddings: bytes, shelf_id: str | None) -> int:
    from shelfscan.batch.worker import pack_array, unpack_array

    row = _scan_row(record, shelf_id, datetime.now())
    old = sa.and_(*(t.scans.c[k].is_(None) if row[k] is None else t.scans.c[k] == row[k]
                    for k in ("image", "sha256", "model", "settings")))
    for old_id in conn.execute(sa.select(t.scans.c.id).where(old)).scalars().all():  # counted again: replace
        conn.execute(t.types.delete().where(t.types.c.scan_id == old_id))
        conn.execute(t.gaps.delete().where(t.gaps.c.scan_id == old_id))
        conn.execute(t.scans.delete().where(t.scans.c.id == old_id))
    scan_id = conn.execute(t.scans.insert().values(**row)).inserted_primary_key[0]
    groups = record.get("groups") or []
    means = unpack_array(embeddings)
    type_rows = [{"scan_id": scan_id, "type_id": g["id"], "count": g["count"],
                  "share_of_facings": g["share_of_facings"], "share_of_width": g["share_of_width"],
                  "example_box": json.dumps(g["example_box"]),
                  "embedding": pack_array(means[i]) if i < len(means) else None} for i, g in enumerate(groups)]
    if type_rows:
        conn.execute(t.types.insert(), type_rows)
    gap_boxes = (record.get("gaps") or {}).get("boxes") or []
    if gap_boxes:
        conn.execute(t.gaps.insert(), [{"scan_id": scan_id, "gap_id": i, "box": json.dumps(b)}
                                       for i, b in enumerate(gap_boxes)])
    return scan_id


def write_scans(engine: sa.Engine, results: Iterable[tuple[dict, bytes]], shelf_ids: ShelfIds) -> None:
    """Insert (or replace) the scans of ``results`` ((record, embeddings bytes) pairs) in one transaction."""
    with engine.begin() as conn:
        for record, embeddings in results:
            _insert_scan(conn, record, embeddings, shelf_ids(record["image"]))


def stored_keys(engine: sa.Engine) -> set[tuple]:
    """The (image, sha256, model, settings) of every scan in the database."""
    c = t.scans.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.image, c.sha256, c.model, c.settings)).all()
    return {(r[0], r[1] or "", r[2], r[3]) for r in rows}


def backfill(engine: sa.Engine, records: dict[tuple, dict], shelf_ids: ShelfIds) -> int:
    """Copy the records the database lacks into it (no embeddings); returns how many."""
    have = stored_keys(engine)
    missing = [(r, b"") for k, r in records.items() if k not in have]
    if missing:
        write_scans(engine, missing, shelf_ids)
    return len(missing)
