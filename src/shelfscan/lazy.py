"""Names of a package imported on first use (PEP 562), so a command loads only what it touches."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_attributes(package: str, homes: dict[str, str], before: Callable[[], Any] | None = None):
    """A module ``__getattr__`` for ``package`` that imports ``package.<homes[name]>`` when ``name`` is first read.

    Args:
        package: the package's ``__name__``.
        homes: public name -> submodule (relative to ``package``) that defines it.
        before: called once before each first import (e.g. a check that names a missing extra).

    Returns:
        The function to assign to the package's ``__getattr__``; the value is cached in the package.
    """
    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if before is not None:
            before()
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(import_module(package), name, value)
        return value

    return __getattr__
