"""Training on several datasets at once: their images pooled, their class lists joined by name."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from shelfscan.data.records import Dataset, LoadReport
from shelfscan.detections import Detections
from shelfscan.errors import InputError


def concat_datasets(datasets: list[Dataset]) -> Dataset:
    """Pool the images of ``datasets`` into one :class:`Dataset`.

    Classes are matched by name: the joined class list is the first dataset's names followed by names first seen
    in later ones, and every box's ``class_id`` is rewritten to index that list. Image names stay as they are
    (each record keeps its own ``path``); a name that occurs in two datasets is an error, because the same photo
    listed twice would be trained on twice and could leak into a held-out split.

    Args:
        datasets: one or more loaded datasets.

    Returns:
        A dataset rooted at the first one's root, whose report merges all the reports.
    """
    if not datasets:
        raise InputError("concat_datasets: expected at least one dataset, got none")
    if len(datasets) == 1:
        return datasets[0]
    names: list[str] = []
    for ds in datasets:
        names += [c for c in ds.class_names if c not in names]
    seen: dict[str, str] = {}
    images = []
    report = LoadReport(source=" + ".join(ds.report.source or str(ds.root) for ds in datasets))
    for ds in datasets:
        remap = np.array([names.index(c) for c in ds.class_names], dtype=np.int64)
        for rec in ds.images:
            if rec.name in seen:
                raise InputError(f"image {rec.name!r}: expected each image in one dataset only, got it in both "
                                 f"{seen[rec.name]} and {ds.root}")
            seen[rec.name] = str(ds.root)
            b = rec.boxes
            ids = remap[b.class_id] if len(b) else b.class_id
            images.append(replace(rec, boxes=Detections(b.xyxy, b.scores, ids, list(names), dict(b.data))))
        report.merge(ds.report)
    return Dataset(datasets[0].root, names, images, report)


__all__ = ["concat_datasets"]
