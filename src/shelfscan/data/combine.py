"""Training on several datasets at once: their images pooled, their class lists joined by name."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from shelfscan.data.records import Dataset, LoadReport
from shelfscan.detections import Detections
from shelfscan.errors import InputError


def concat_datasets(datasets: list[Dataset]) -> Dataset:
    """Pool the images of ``datasets`` into one :class:`Dataset`.

    Classes are matched by name: the joined class list is the first dataset's names followed by names first seen
    in later ones, and every box's ``class_id`` is rewritten to index that list. Each record keeps its ``path``.
    The same image file listed twice is an error (it would be trained on twice and could leak into a held-out
    split) unless the two datasets label different classes (e.g. teacher product boxes and human gap boxes of
    the same photos): then its boxes are merged into one record whose ``labelled`` holds both class sets.
    Every pooled record's ``labelled`` names the classes its dataset(s) label, so a loss can ignore the others
    (a photo from a products-only dataset does not teach that its empty shelf space is background). Two
    different files with the same name (``0001.jpg`` in two datasets) both stay; the later one is
    renamed ``<its dataset folder's name>/<name>`` (or ``<dataset number>/<name>``) so names stay unique.

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
    files: dict[Path, str] = {}
    taken: set[str] = set()
    images = []
    where: dict[Path, int] = {}  # image file -> index in images (to merge the boxes of another dataset)
    report = LoadReport(source=" + ".join(ds.report.source or str(ds.root) for ds in datasets))
    for number, ds in enumerate(datasets):
        remap = np.array([names.index(c) for c in ds.class_names], dtype=np.int64)
        for rec in ds.images:
            file = Path(rec.path).resolve()
            rec_labelled = tuple(rec.labelled if rec.labelled is not None else ds.class_names)
            if file in files and not set(images[where[file]].labelled) & set(rec_labelled):
                _merge_into(images, where[file], rec, remap, names, rec_labelled)
                continue
            if file in files:
                raise InputError(f"image {file}: expected each image file in one dataset only, got it in both "
                                 f"{files[file]} and {ds.root}")
            files[file] = str(ds.root)
            name = rec.name
            for candidate in (name, f"{Path(ds.root).name}/{name}", f"{number}/{name}"):
                if candidate not in taken:
                    name = candidate
                    break
            else:
                raise InputError(f"image {rec.name!r} of {ds.root}: expected a name not used by another dataset, "
                                 f"got {rec.name!r}, {Path(ds.root).name}/{rec.name} and {number}/{rec.name} all taken")
            taken.add(name)
            b = rec.boxes
            ids = remap[b.class_id] if len(b) else b.class_id
            where[file] = len(images)
            images.append(replace(rec, name=name, boxes=Detections(b.xyxy, b.scores, ids, list(names), dict(b.data)),
                                  labelled=rec_labelled))
        report.merge(ds.report)
    return Dataset(datasets[0].root, names, images, report)


def _merge_into(images: list, k: int, rec, remap: np.ndarray, names: list[str], labelled: tuple[str, ...]) -> None:
    """Add the boxes of ``rec`` (same image file, other classes) to ``images[k]``; union of labelled classes."""
    first, b = images[k], rec.boxes
    ids = remap[b.class_id] if len(b) else b.class_id
    xyxy = np.concatenate([first.boxes.xyxy.reshape(-1, 4), b.xyxy.reshape(-1, 4)]).astype(first.boxes.xyxy.dtype)
    cls = np.concatenate([first.boxes.class_id, ids]).astype(np.int64)
    scores = None
    if first.boxes.scores is not None and b.scores is not None:
        scores = np.concatenate([first.boxes.scores, b.scores])
    merged = Detections(xyxy, scores, cls, list(names))
    images[k] = replace(first, boxes=merged, labelled=tuple(first.labelled) + tuple(
        c for c in labelled if c not in first.labelled))


__all__ = ["concat_datasets"]
