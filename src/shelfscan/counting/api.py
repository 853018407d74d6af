"""``count(image)``: detect the products of a photo, group them into types and count each type (Python API of
``shelfscan count``)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from shelfscan.counting.shelf_count import ShelfCount, group_products

# Score threshold of the boxes that are counted (``shelfscan count --conf`` and the default detector of
# ``count``). Counting wants fewer false boxes than detection: a false box often becomes a product type of its own.
# Chosen with benchmarks/count_synthetic.py and the v4 shelf model: per-shelf mCIoU 0.868 / 0.883 / 0.877 / 0.860
# at 0.5 / 0.6 / 0.65 / 0.7 on seeds 1000-1023, and 0.833 / 0.844 at 0.5 / 0.6 on the unseen seeds 2000-2023.
COUNT_CONF = 0.6


@lru_cache(maxsize=2)
def _default_detector(device: str = "cpu"):
    from shelfscan.inference import Detector

    return Detector(None, device=device, conf=COUNT_CONF)


def count(image: Any, *, detector=None, embedder=None, method: str = "auto", conf: float | None = None,
          name: str | None = None, k: int | None = None, distance_threshold: float | None = None) -> ShelfCount:
    """Products of one photo grouped into types, with counts.

    Args:
        image: (H, W, 3) uint8 RGB array, PIL image or path.
        detector: a :class:`shelfscan.inference.Detector` (default: the shipped shelf model on CPU with score
            threshold ``COUNT_CONF`` = 0.6, built once).
        embedder: a :class:`shelfscan.embed.CropEmbedder` (default: one shared CPU embedder).
        method: clustering method (``"auto"``, ``"agglomerative"``, ``"hdbscan"``, ``"kmeans"``).
        conf: keep only boxes scoring at least this (default: the detector's own threshold).
        name: image name in the result (default: the file name of a path).
        k, distance_threshold: see :func:`~shelfscan.counting.group_products`.

    Example:
        >>> import shelfscan.counting as sc
        >>> result = sc.count("shelf.jpg")
        >>> result.counts()            # {type id: facings}
        >>> result.save("out/shelf")   # counts.json, annotated.jpg, types.jpg
    """
    from shelfscan.embed.crops import check_rgb_image

    if isinstance(image, (str, Path)):
        from shelfscan.data.images import read_image

        name = Path(image).name if name is None else name
        image = read_image(image)
    elif hasattr(image, "convert"):
        import numpy as np

        image = np.asarray(image.convert("RGB"))
    image = check_rgb_image(image, "count image")
    detector = _default_detector() if detector is None else detector
    detections = detector.predict(image)
    if conf is not None:
        detections = detections.with_scores_above(conf)
    return group_products(image, detections, method=method, embedder=embedder, name=name, k=k,
                          distance_threshold=distance_threshold)
