"""The results database: SQLite schema, versions and rows; the same against a real PostgreSQL server."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy", reason="the results database needs SQLAlchemy (pip install 'shelfscan[db]')")

from tests.batch.conftest import settings_and_config  # noqa: E402


def _check_rows(url: str, results_jsonl: Path) -> None:
    """Every record has its scan row; types and gaps match the record."""
    from shelfscan.batch import schema as t

    records = {r["image"]: r for r in map(json.loads, results_jsonl.read_text().splitlines())}
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(t.schema_version.c.version)).scalars().all() == [t.LATEST]
        scans = {r.image: r for r in conn.execute(sa.select(t.scans)).all()}
        assert set(scans) == set(records)
        for image, rec in records.items():
            row = scans[image]
            assert (row.status, row.sha256, row.total, row.n_types) == (rec["status"], rec["sha256"], rec["total"],
                                                                        rec["n_types"])
            types = conn.execute(sa.select(t.types).where(t.types.c.scan_id == row.id)
                                 .order_by(t.types.c.type_id)).all()
            assert [(x.type_id, x.count) for x in types] == [(g["id"], g["count"]) for g in rec["groups"] or []]
            assert all(x.embedding for x in types)
            if rec["status"] == "ok":
                assert row.shelf_id == "shelf" and row.taken_at is not None and row.created_at is not None
                assert row.n_gaps is None  # the shipped model has no gap class: unknown, not zero
    engine.dispose()


def test_sqlite_rows(counted):
    _check_rows(f"sqlite:///{counted / 'scans.db'}", counted / "results.jsonl")


def test_schema_versions(tmp_path):
    from shelfscan.batch import schema as t
    from shelfscan.batch.db import engine_for
    from shelfscan.errors import InputError

    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = engine_for(url)
    assert t.ensure_schema(engine) == t.LATEST  # already there: nothing to do
    assert set(sa.inspect(engine).get_table_names()) == {"schema_version", "scans", "types", "gaps"}
    with engine.begin() as conn:
        conn.execute(t.schema_version.update().values(version=t.LATEST + 1))
    with pytest.raises(InputError, match="schema version"):
        engine_for(url)


def test_backfill_from_results_jsonl(counted_copy, shelf_pair):
    """A database added on a later run gets the earlier records copied in, without a recount."""
    from shelfscan.batch.runner import run_batch

    url = f"sqlite:///{counted_copy / 'later.db'}"
    summary = run_batch([shelf_pair.folder], counted_copy, *settings_and_config(), db_url=url, progress=False)
    assert (summary.skipped, summary.backfilled) == (3, 3)
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from scans")).scalar() == 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL server (Debian's postgresql package), on a Unix socket; skip where absent."""
    pytest.importorskip("psycopg", reason="PostgreSQL needs psycopg (pip install 'shelfscan[db]')")
    bins = [Path(p) for p in ("/usr/lib/postgresql", "/usr/local/pgsql")]
    initdb = shutil.which("initdb") or next((str(x) for b in bins if b.is_dir() for x in b.glob("*/bin/initdb")), None)
    if initdb is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql): PostgreSQL test skipped")
    bin_dir = Path(os.path.realpath(initdb)).parent
    root = Path(tempfile.mkdtemp(prefix="shelfscan-pg-"))  # not under pytest's 0700 root-owned folders
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run(prefix + [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E",
                             "UTF8"], check=True, capture_output=True)
    subprocess.run(prefix + [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                             f"-k {sock} -p {port} -c listen_addresses=''", "start"], check=True,
                   capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(prefix + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_rows(postgres, shelf_pair, tmp_path):
    from shelfscan.batch.db import ShelfIds
    from shelfscan.batch.runner import run_batch

    listing = tmp_path / "two.txt"
    listing.write_text(f"{shelf_pair.folder / 'b_shelf.png'}\n{shelf_pair.folder / 'broken.jpg'}\n")
    out = tmp_path / "out"
    summary = run_batch([listing], out, *settings_and_config(), db_url=postgres,
                        shelf_ids=ShelfIds.from_args(r"(?P<shelf>shelf)", None), progress=False)
    assert (summary.counted, summary.failed) == (1, 1)
    _check_rows(postgres.replace("postgresql://", "postgresql+psycopg://"), out / "results.jsonl")
    again = run_batch([listing], out, *settings_and_config(), db_url=postgres, progress=False)
    assert (again.skipped, again.backfilled) == (2, 0)
