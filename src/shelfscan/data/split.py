"""Seeded, documented held-out splits for datasets that ship without named splits (e.g. a flat YOLO folder)."""
from __future__ import annotations

import numpy as np

from shelfscan.data.records import Dataset, LoadReport
from shelfscan.errors import InputError


def holdout_split(dataset: Dataset, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Split ``dataset`` into (train, held-out) with ``round(fraction · N)`` held-out images.

    The images are ordered by name before a ``numpy.random.default_rng(seed)`` permutation, so the split depends
    only on the image names, the fraction and the seed — not on the order a reader listed the files in. The same
    arguments give the same split in ``shelfscan train --holdout`` and ``shelfscan val --holdout``.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"holdout fraction: expected a number strictly between 0 and 1, got {fraction}")
    records = sorted(dataset.images, key=lambda r: r.name)
    n_held = round(fraction * len(records))
    if n_held == 0 or n_held == len(records):
        raise InputError(f"holdout fraction {fraction}: expected it to leave at least one image on each side of a "
                         f"{len(records)}-image dataset, got {n_held} held out")
    order = np.random.default_rng(seed).permutation(len(records))
    held_idx = set(order[:n_held].tolist())
    train = [r for i, r in enumerate(records) if i not in held_idx]
    held = [r for i, r in enumerate(records) if i in held_idx]
    return (Dataset(dataset.root, list(dataset.class_names), train, dataset.report),
            Dataset(dataset.root, list(dataset.class_names), held, LoadReport(source=dataset.report.source)))


def repeat_factors(dataset: Dataset, threshold: float = 0.3) -> np.ndarray:
    """LVIS-style repeat factor per image, for class-balanced sampling.

    A class seen in a fraction ``f`` of the images gets ``r = max(1, sqrt(threshold / f))``; an image takes the
    largest ``r`` of the classes it contains (images without boxes: 1). Returns float64 (N,).
    """
    n = len(dataset.images)
    if n == 0:
        return np.zeros(0)
    k = max(1, len(dataset.class_names))
    seen = np.zeros(k)
    for r in dataset.images:
        seen[np.unique(r.boxes.class_id)] += 1
    freq = seen / n
    class_r = np.where(freq > 0, np.maximum(1.0, np.sqrt(threshold / np.maximum(freq, 1e-12))), 1.0)
    return np.array([class_r[np.unique(r.boxes.class_id)].max() if len(r.boxes) else 1.0 for r in dataset.images])
