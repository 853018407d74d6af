"""Batch counting at scale: every photo counted once into ``results.jsonl`` and a results database (local
process pool or Ray Data), then a shelf's history over time and the changes between two scans.

Modules: ``runner`` (:func:`~shelfscan.batch.runner.run_batch`), ``records`` (``results.jsonl``), ``engines``
(local pool, Ray), ``worker`` (one photo), ``db`` / ``schema`` (SQLAlchemy), ``history``, ``diff``,
``matching``. Nothing heavy is imported here, so ``shelfscan --help`` needs neither SQLAlchemy nor Ray.
"""
from __future__ import annotations


def require_sqlalchemy() -> None:
    """InputError saying how to install SQLAlchemy when it is missing (the results database needs it)."""
    from shelfscan.errors import InputError

    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        raise InputError("results database: expected SQLAlchemy installed (pip install 'shelfscan[db]'), got "
                         "no module 'sqlalchemy'") from None
