"""Running a detector on photos: :class:`Detector` and its settings, :class:`InferenceConfig`.

``Detector`` is imported on first use, so reading the settings (``shelfscan --help``, the CLI defaults) loads
neither OpenCV nor a runtime.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.inference.config import InferenceConfig
from shelfscan.lazy import lazy_attributes

if TYPE_CHECKING:
    from shelfscan.inference.detector import Detector

__all__ = ["Detector", "InferenceConfig"]


__getattr__ = lazy_attributes(__name__, {"Detector": "detector"})
