"""Exceptions raised for users of shelfscan.

Every message says what was expected and what came, and where (``path:line``) when a file is involved.
"""
from __future__ import annotations

from pathlib import Path


class ShelfscanError(Exception):
    """Base class of every error shelfscan raises on purpose."""


class InputError(ShelfscanError, ValueError):
    """An argument or a file does not have the expected shape, type or content."""


class FormatError(InputError):
    """A file could not be parsed. ``str(err)`` is ``path:line: expected ..., got ...``."""

    def __init__(self, path: str | Path, line: int | None, expected: str, got: str) -> None:
        self.path = str(path)
        self.line = line
        self.expected = expected
        self.got = got
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: expected {expected}, got {got}")


def expect(condition: bool, what: str, expected: str, got: object) -> None:
    """Raise :class:`InputError` ``"{what}: expected {expected}, got {got!r}"`` unless ``condition``.

    Used instead of ``assert`` for checks on user input (asserts vanish under ``python -O``).
    """
    if not condition:
        raise InputError(f"{what}: expected {expected}, got {got!r}")
