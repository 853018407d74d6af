"""``count(image)``: detect the products of a photo, group them into types and count each type (Python API of
``shelfscan count``)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from shelfscan.counting.config import CountConfig
from shelfscan.counting.shelf_count import ShelfCount, group_products

# The score thresholds of counting (CountConfig.count_conf: boxes counted at all; CountConfig.confirm_below: boxes
# that form types) and how they were chosen: shelfscan.counting.config.


@lru_cache(maxsize=8)
def _default_detector(**options):
    """The shipped shelf model with ``options`` (``InferenceConfig`` fields; ``conf`` defaults to counting's)."""
    from shelfscan.inference import Detector

    options.setdefault("conf", CountConfig.count_conf)
    return Detector(None, **options)


def count(image: Any, *, detector=None, embedder=None, method: str = CountConfig.method, conf: float | None = None,
          confirm_below: float | None = CountConfig.confirm_below, name: str | None = None, k: int | None = None,
          distance_threshold: float | None = None, linkage: str = CountConfig.linkage,
          imgsz: int | str | None = None, **detector_options) -> ShelfCount:
    """Products of one photo grouped into types, with counts.

    Args:
        image: (H, W, 3) uint8 RGB array, PIL image or path.
        detector: a :class:`shelfscan.inference.Detector` (default: the shipped shelf model on CPU with score
            threshold ``CountConfig.count_conf`` = 0.5, built once per set of options).
        embedder: a :class:`shelfscan.embed.CropEmbedder` (default: one shared CPU embedder at the detector's
            ``precision``: ``"auto"`` runs its int8 network).
        method: clustering method (``"auto"``, ``"agglomerative"``, ``"hdbscan"``, ``"kmeans"``).
        conf: keep only boxes scoring at least this (default: the detector's own threshold; without a
            ``detector``, the default detector is built with it).
        confirm_below: boxes scoring under this (default ``CountConfig.confirm_below`` = 0.65) do not form types;
            each is counted only when it looks like a type formed by the others (None or 0: every box forms types).
        name: image name in the result (default: the file name of a path).
        k, distance_threshold, linkage: see :func:`~shelfscan.counting.group_products`.
        imgsz, **detector_options: options of the default :class:`~shelfscan.inference.Detector` (``imgsz``,
            ``iou``, ``max_det``, ``tta``, ``merger``, ...); refused together with ``detector``.

    Example:
        >>> import shelfscan.counting as sc
        >>> result = sc.count("shelf.jpg")
        >>> result.counts()            # {type id: facings}
        >>> result.save("out/shelf")   # counts.json, annotated.jpg, types.jpg
    """
    from shelfscan.data.images import as_rgb
    from shelfscan.errors import InputError

    if isinstance(image, (str, Path)) and name is None:
        name = Path(image).name
    image = as_rgb(image, "count image")
    if imgsz is not None:
        detector_options["imgsz"] = imgsz
    if detector is None:
        if conf is not None:
            detector_options["conf"] = conf
        detector = _default_detector(**detector_options)
    elif detector_options:
        raise InputError(f"count: expected detector options ({sorted(detector_options)}) only without a detector, "
                         f"got both (set them on the Detector you pass)")
    detections = detector.predict(image)
    if embedder is None:  # the crop network runs at the detector's precision (int8 on a CPU by default)
        from shelfscan.counting.shelf_count import default_embedder

        config = getattr(detector, "config", None)
        embedder = default_embedder(precision=getattr(config, "precision", CountConfig.embed_precision))
    if conf is not None:
        detections = detections.with_scores_above(conf)
    return group_products(image, detections, method=method, embedder=embedder, name=name, k=k,
                          distance_threshold=distance_threshold, linkage=linkage,
                          confirm_below=confirm_below or None, noun=getattr(detector, "noun", "products"))
