"""``shelfscan serve``: the REST API (FastAPI) and the upload page. Needs ``pip install shelfscan[serve]``.

``create_app`` is imported on first use, so the server's settings (:class:`ServeConfig`) read without FastAPI.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.lazy import lazy_attributes
from shelfscan.serve.config import ServeConfig

if TYPE_CHECKING:
    from shelfscan.serve.app import create_app

__all__ = ["ServeConfig", "create_app"]


__getattr__ = lazy_attributes(__name__, {"create_app": "app"})
