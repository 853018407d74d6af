"""``results.jsonl``: one JSON line per photo, appended by one writer, safe against ``kill -9`` at any moment.

Design (why a kill never leaves a partial or duplicated record):

- Only the driver process writes the file (workers and Ray actors return results to it); a lock file
  (``results.lock``, ``fcntl.flock``) refuses a second batch on the same folder while one runs.
- Records are appended as whole lines (``\\n``-terminated), then flushed and ``fsync``-ed before the photos are
  taken as done. A kill during a write can leave only a torn *last* line (no final newline): readers ignore it,
  and the next writer cuts the file back to its last newline before appending, so a torn line can never glue
  onto the next record. The photo of the torn line has no complete record, so it is counted again.
- A photo is done when a complete line with its :func:`~shelfscan.batch.settings.record_key` (path, sha256,
  model, settings) exists; a re-run skips it. Should a key appear twice (e.g. a file edited by hand), the last
  line wins and the repeat is reported, never silently kept twice.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from shelfscan.batch.settings import record_key
from shelfscan.errors import InputError

RESULTS_FILE = "results.jsonl"
LOCK_FILE = "results.lock"
RECORD_FIELDS = ("image", "sha256", "model", "settings", "status", "error", "taken_at", "total", "n_types",
                 "silhouette", "groups", "gaps")


def key_of(record: dict) -> tuple[str, str, str, str]:
    """The :func:`record_key` of a record read back from the file."""
    return record_key(record["image"], record["sha256"] or "", record["model"],
                      json.dumps(record["settings"], sort_keys=True, separators=(",", ":")))


def record_line(record: dict) -> str:
    """One record as its line (fields in :data:`RECORD_FIELDS` order, newline-terminated)."""
    return json.dumps({k: record.get(k) for k in RECORD_FIELDS}, separators=(",", ":")) + "\n"


@dataclass
class ReadResults:
    """What :func:`read_results` found.

    Attributes:
        records: complete records by key, in file order (the last line of a repeated key).
        torn_bytes: length of a torn last line that was ignored (0: none).
        problems: lines in the middle that are not records (``path:line: expected ..., got ...``) and repeats.
    """

    records: dict[tuple, dict] = field(default_factory=dict)
    torn_bytes: int = 0
    problems: list[str] = field(default_factory=list)


def read_results(path: str | Path) -> ReadResults:
    """Read ``results.jsonl`` (missing file: nothing done yet), ignoring a torn last line."""
    out = ReadResults()
    path = Path(path)
    if not path.is_file():
        return out
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    out.torn_bytes = len(data) - end
    repeats = 0
    for number, raw in enumerate(data[:end].splitlines(), 1):
        try:
            record = json.loads(raw)
            key = key_of(record)
        except (ValueError, KeyError, TypeError) as exc:
            out.problems.append(f"{path}:{number}: expected a JSON record with {', '.join(RECORD_FIELDS[:4])}, "
                                f"got {raw[:60]!r} ({type(exc).__name__}); its photo will be counted again")
            continue
        repeats += key in out.records
        out.records.pop(key, None)
        out.records[key] = record
    if repeats:
        out.problems.append(f"{path}: {repeats} records repeat an earlier one (same photo, model and settings); "
                            f"the last of each is kept")
    return out


class ResultsLog:
    """The one writer of ``DIR/results.jsonl`` (use as a context manager: holds the folder's lock)."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        self.path = self.dir / RESULTS_FILE
        self._lock = None
        self._file = None
        self.cut_bytes = 0  # length of the torn last line cut when the log was opened

    def __enter__(self) -> "ResultsLog":
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.dir / LOCK_FILE, "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise InputError(f"{self.dir}: expected no other batch writing to this folder, got one holding "
                             f"{self.dir / LOCK_FILE}") from None
        self.cut_bytes = self.cut_torn_tail()
        self._file = open(self.path, "ab")
        return self

    def cut_torn_tail(self) -> int:
        """Truncate the file after its last newline (a line torn by a kill); returns the bytes cut."""
        if not self.path.is_file():
            return 0
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            keep = size
            while keep > 0:  # scan back for the last newline, 64 KiB at a time
                start = max(0, keep - 65536)
                f.seek(start)
                chunk = f.read(keep - start)
                at = chunk.rfind(b"\n")
                if at >= 0:
                    keep = start + at + 1
                    break
                keep = start
            if keep < size:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
        return size - keep

    def append(self, lines: list[str]) -> None:
        """Append whole lines, flush and fsync (after this returns, the records survive a kill or power loss)."""
        if not lines:
            return
        self._file.write("".join(lines).encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
        if self._lock is not None:
            self._lock.close()  # releases the flock
