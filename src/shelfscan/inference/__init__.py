"""Running a detector on photos: :class:`Detector` and its settings, :class:`InferenceConfig`.

``Detector`` is imported on first use, so reading the settings (``shelfscan --help``, the CLI defaults) loads
neither OpenCV nor a runtime.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.inference.config import InferenceConfig

if TYPE_CHECKING:
    from shelfscan.inference.detector import Detector

__all__ = ["Detector", "InferenceConfig"]


def __getattr__(name: str):
    if name == "Detector":
        from shelfscan.inference.detector import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
