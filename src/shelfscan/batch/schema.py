"""The results database's tables (SQLAlchemy Core) and their versioned creation and upgrades.

``schema_version`` holds one row, the version the database is at. :data:`UPGRADES` maps each version to the
function that brings a database from the version before it up to that one; :func:`ensure_schema` runs the
missing ones in order, each in its own transaction with the version bump, so an interrupted upgrade leaves
the database at a whole version. A database newer than this code is refused, never written.

Version 1:

- ``scans``: one row per photo result (``status`` ok or error), unique on (image, sha256, model, settings).
- ``types``: one row per product type of a scan, with its unit mean crop embedding (float16, ``np.save``
  bytes) so ``shelfscan diff`` can match types across scans.
- ``gaps``: one row per empty-shelf box of a scan (two-class models only).
"""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from shelfscan.errors import InputError

metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

scans = sa.Table(
    "scans", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("image", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("shelf_id", sa.Text, index=True),
    sa.Column("taken_at", sa.DateTime),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("total", sa.Integer),
    sa.Column("n_types", sa.Integer),
    sa.Column("n_gaps", sa.Integer),
    sa.Column("gap_share", sa.Float),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("image", "sha256", "model", "settings", name="uq_scans_result"),
)

types = sa.Table(
    "types", metadata,
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("type_id", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("share_of_facings", sa.Float, nullable=False),
    sa.Column("share_of_width", sa.Float, nullable=False),
    sa.Column("example_box", sa.Text, nullable=False),
    sa.Column("embedding", sa.LargeBinary),
)

gaps = sa.Table(
    "gaps", metadata,
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("gap_id", sa.Integer, primary_key=True),
    sa.Column("box", sa.Text, nullable=False),
)


def _create_v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[scans, types, gaps])


UPGRADES: dict[int, Callable[[sa.Connection], None]] = {1: _create_v1}
LATEST = max(UPGRADES)


def current_version(conn: sa.Connection) -> int:
    """The database's schema version (0: empty database)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
    return int(value or 0)


def ensure_schema(engine: sa.Engine) -> int:
    """Create or upgrade the database to :data:`LATEST`; returns the version it was at before."""
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[schema_version])
        before = current_version(conn)
    if before > LATEST:
        raise InputError(f"{engine.url.render_as_string(hide_password=True)}: expected a results database of "
                         f"schema version <= {LATEST} (this shelfscan), got version {before}; upgrade shelfscan")
    for version in range(before + 1, LATEST + 1):
        with engine.begin() as conn:
            UPGRADES[version](conn)
            conn.execute(schema_version.delete())
            conn.execute(schema_version.insert().values(version=version))
    return before
