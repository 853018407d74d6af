"""Synthetic dense shelves: photos of 50-300 products with tight boxes and SKU identities.

``render_shelf(seed)`` gives one photo and its :class:`~shelfscan.detections.Detections`;
``write_synthetic_dataset`` writes many in the SKU-110K layout; a :class:`Catalog` holds the SKUs' fronts.
They need OpenCV (the ``[synth]`` extra): the names load on first use and, without it, raise an InputError that
says what to install; :mod:`shelfscan.synth.defaults` (the default sizes) reads without it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shelfscan.lazy import lazy_attributes

if TYPE_CHECKING:
    from shelfscan.synth.catalog import Catalog, default_catalog
    from shelfscan.synth.shelf import render_shelf
    from shelfscan.synth.writer import image_seed, write_synthetic_dataset

__all__ = ["Catalog", "default_catalog", "image_seed", "render_shelf", "write_synthetic_dataset"]
_HOMES = {"Catalog": "catalog", "default_catalog": "catalog", "render_shelf": "shelf", "image_seed": "writer",
          "write_synthetic_dataset": "writer"}


def _need_opencv() -> None:
    from shelfscan.imageops import import_cv2

    import_cv2("synthetic shelves (shelfscan.synth)")  # OpenCV comes with the [synth] extra: say so, not ImportError


__getattr__ = lazy_attributes(__name__, _HOMES, before=_need_opencv)
