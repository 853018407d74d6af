"""``run_batch``: count every photo of the sources once, resumably, into ``results.jsonl`` and the database.

Order of a run: list the photos; read ``results.jsonl`` (ignoring a torn last line); copy records the database
lacks into it; hash the photos that already have a record for this model and settings (only those: a new
path needs no hash up front) and skip those whose bytes are unchanged; count the rest with the engine; every
chunk of results goes to the database (one transaction), then to ``results.jsonl`` (whole lines, fsync). See
:mod:`shelfscan.batch.records` and :mod:`shelfscan.batch.db` for why a kill at any moment is safe.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from shelfscan.batch.db import ShelfIds, backfill, engine_for, sqlite_url, write_scans
from shelfscan.batch.engines import EngineConfig, run_engine
from shelfscan.batch.records import ResultsLog, read_results
from shelfscan.batch.settings import CountSettings, count_models_id, file_sha256, record_key
from shelfscan.batch.sources import collect_photos
from shelfscan.errors import InputError

DB_FILE = "scans.db"
CHUNK = 8            # results written together (one transaction, one fsync)
CHUNK_SECONDS = 5.0  # ... or after this long, whichever comes first


@dataclass
class BatchSummary:
    """What a run did. photos: listed; skipped: already recorded; counted / failed: recorded now;
    problems: inputs and lines that were not counted, with the reason; db_url: where the scans went."""

    photos: int = 0
    skipped: int = 0
    counted: int = 0
    failed: int = 0
    backfilled: int = 0
    problems: list[str] = field(default_factory=list)
    db_url: str = ""


def _safe_sha(path: str) -> str:
    try:
        return file_sha256(path)
    except OSError:
        return ""  # unreadable: matches the failed record written for it


def plan(paths: Sequence[str], done: dict[tuple, dict], model: str, settings_key: str,
         hash_threads: int = 4) -> list[str]:
    """The paths still to count: those with no record for this model and settings, or whose bytes changed."""
    recorded = {(k[0], k[2], k[3]) for k in done}
    candidates = [p for p in paths if (p, model, settings_key) in recorded]
    with ThreadPoolExecutor(hash_threads) as pool:  # hashing is I/O bound and releases the GIL
        shas = dict(zip(candidates, pool.map(_safe_sha, candidates)))
    return [p for p in paths if p not in shas or record_key(p, shas[p], model, settings_key) not in done]


def _flush(log: ResultsLog, engine, pending: list, shelf_ids: ShelfIds) -> None:
    """Database first, then the lines: a kill in between leaves a row whose photo is counted again and its row
    replaced, never a line without its row."""
    if pending:
        write_scans(engine, [(json.loads(r.line), r.embeddings) for r in pending], shelf_ids)
        log.append([r.line for r in pending])
        pending.clear()


def run_batch(sources: Sequence[str], out_dir: str | Path, settings: CountSettings, cfg: EngineConfig,
              db_url: str | None = None, shelf_ids: ShelfIds | None = None, progress: bool = True) -> BatchSummary:
    """Count the photos of ``sources`` not yet recorded in ``out_dir`` (see the module docstring)."""
    from tqdm import tqdm

    paths, problems = collect_photos(sources)
    if not paths:
        raise InputError(f"{' '.join(map(str, sources))}: expected photos (folders, image files or .txt lists), "
                         f"got none" + "".join(f"\n  {p}" for p in problems))
    shelf_ids = shelf_ids or ShelfIds()
    summary = BatchSummary(photos=len(paths), problems=problems)
    model, settings_key = count_models_id(settings.model), settings.key()
    with ResultsLog(out_dir) as log:
        found = read_results(log.path)
        if log.cut_bytes:
            summary.problems.append(f"{log.path}: a torn last line ({log.cut_bytes} bytes, an interrupted "
                                    f"write) was cut; its photo is counted again")
        summary.problems += found.problems
        summary.db_url = db_url or sqlite_url(Path(out_dir) / DB_FILE)
        engine = engine_for(summary.db_url)
        summary.backfilled = backfill(engine, found.records, shelf_ids)
        todo = plan(paths, found.records, model, settings_key)
        summary.skipped = len(paths) - len(todo)
        pending, last = [], time.monotonic()
        bar = tqdm(total=len(todo), unit="photo", desc=f"batch ({cfg.engine})", disable=not progress or not todo)
        for result in run_engine(todo, settings, model, cfg):
            pending.append(result)
            failed = json.loads(result.line)["status"] != "ok"
            summary.failed += failed
            summary.counted += not failed
            bar.update(1)
            if len(pending) >= CHUNK or time.monotonic() - last > CHUNK_SECONDS:
                _flush(log, engine, pending, shelf_ids)
                last = time.monotonic()
        _flush(log, engine, pending, shelf_ids)
        bar.close()
        engine.dispose()
    if shelf_ids.unmatched:
        summary.problems.append(f"{shelf_ids.unmatched} scans got no shelf id (--shelf-id / --shelf-map matched "
                                f"nothing in their path): stored with shelf_id NULL")
    return summary
