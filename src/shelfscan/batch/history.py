"""A shelf's history: its scans over time (totals, types, gap share), as CSV or as HTML with an inline SVG plot.

Only scans counted without error are listed; a scan's time is ``taken_at`` (EXIF, else file time); scans with
no shelf id are grouped under ``(none)``.
"""
from __future__ import annotations

import csv
import html
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from shelfscan.batch import schema as t
from shelfscan.batch.svg import line_chart
from shelfscan.errors import InputError

NO_SHELF = "(none)"
TOP_TYPES = 5  # types listed per scan (largest first)


@dataclass
class ScanRow:
    """One scan in a history."""

    shelf_id: str
    scan_id: int
    taken_at: str
    image: str
    total: int
    n_types: int
    n_gaps: int | None
    gap_share: float | None
    top_types: str  # "count, count, ..." of the largest TOP_TYPES types


def parse_since(text: str | None) -> datetime | None:
    """``--since``: an ISO date or date-time, or None."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since: expected an ISO date such as 2026-05-01 or 2026-05-01T08:00, got {text!r}") \
            from None


def load_history(engine: sa.Engine, shelf: str | None = None, since: datetime | None = None) -> list[ScanRow]:
    """The ok scans (of one shelf, from a date), by shelf then time."""
    s = t.scans.c
    query = sa.select(s.id, s.shelf_id, s.taken_at, s.image, s.total, s.n_types, s.n_gaps, s.gap_share) \
        .where(s.status == "ok").order_by(s.shelf_id, s.taken_at, s.id)
    if shelf is not None:
        query = query.where(s.shelf_id == shelf)
    if since is not None:
        query = query.where(s.taken_at >= since)
    with engine.connect() as conn:
        scans = conn.execute(query).all()
        counts: dict[int, list[int]] = {}
        ids = [r.id for r in scans]
        for i in range(0, len(ids), 500):
            rows = conn.execute(sa.select(t.types.c.scan_id, t.types.c.count).where(
                t.types.c.scan_id.in_(ids[i:i + 500])).order_by(t.types.c.scan_id, t.types.c.type_id)).all()
            for scan_id, n in rows:
                counts.setdefault(scan_id, []).append(n)
    return [ScanRow(r.shelf_id or NO_SHELF, r.id, r.taken_at.isoformat() if r.taken_at else "", r.image, r.total,
                    r.n_types, r.n_gaps, r.gap_share,
                    ", ".join(map(str, sorted(counts.get(r.id, []), reverse=True)[:TOP_TYPES])))
            for r in scans]


def write_csv(rows: list[ScanRow], path: Path) -> None:
    fields = list(ScanRow.__dataclass_fields__)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})


def _shelf_section(shelf: str, rows: list[ScanRow]) -> str:
    times = [r.taken_at for r in rows]
    chart = line_chart(times, {"products": [r.total for r in rows]},
                       {"gap share": [r.gap_share for r in rows]}, title=f"shelf {shelf}")
    head = "".join(f"<th>{h}</th>" for h in ("scan", "taken at", "products", "types", "gaps", "gap share",
                                              "largest types", "image"))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            r.scan_id, r.taken_at, r.total, r.n_types, "" if r.n_gaps is None else r.n_gaps,
            "" if r.gap_share is None else f"{r.gap_share:.1%}", r.top_types, r.image)) + "</tr>" for r in rows)
    return f"<h2>shelf {html.escape(shelf)}</h2>\n{chart}\n<table><tr>{head}</tr>{body}</table>"


def write_html(rows: list[ScanRow], path: Path) -> None:
    shelves: dict[str, list[ScanRow]] = {}
    for row in rows:
        shelves.setdefault(row.shelf_id, []).append(row)
    sections = "\n".join(_shelf_section(s, r) for s, r in shelves.items()) or "<p>no scans</p>"
    path.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>shelfscan history</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}</style></head><body>
<h1>shelfscan history</h1><p>{len(rows)} scans, {len(shelves)} shelves</p>
{sections}</body></html>
""")


def write_report(rows: list[ScanRow], out: str | Path) -> Path:
    """``out`` by its suffix: ``.csv`` or ``.html``."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".html", ".htm"):
        raise InputError(f"--out: expected a .csv or .html file, got {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    (write_csv if suffix == ".csv" else write_html)(rows, out)
    return out
