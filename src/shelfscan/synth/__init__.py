"""Synthetic dense shelves: photos of 50-300 products with tight boxes and SKU identities.

``render_shelf(seed)`` gives one photo and its :class:`~shelfscan.detections.Detections`;
``write_synthetic_dataset`` writes many in the SKU-110K layout; a :class:`Catalog` holds the SKUs' fronts.
"""
from shelfscan.imageops import import_cv2

import_cv2("synthetic shelves (shelfscan.synth)")  # OpenCV comes with the [synth] extra: say so, not ImportError

from shelfscan.synth.catalog import Catalog, default_catalog  # noqa: E402
from shelfscan.synth.shelf import render_shelf  # noqa: E402
from shelfscan.synth.writer import image_seed, write_synthetic_dataset  # noqa: E402

__all__ = ["Catalog", "default_catalog", "image_seed", "render_shelf", "write_synthetic_dataset"]
