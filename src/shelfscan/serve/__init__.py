"""``shelfscan serve``: the REST API (FastAPI) and the upload page. Needs ``pip install shelfscan[serve]``.

``create_app`` is imported on first use, so the server's settings (:class:`ServeConfig`) read without FastAPI.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.serve.config import ServeConfig

if TYPE_CHECKING:
    from shelfscan.serve.app import create_app

__all__ = ["ServeConfig", "create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from shelfscan.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
