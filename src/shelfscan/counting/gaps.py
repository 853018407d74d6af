"""Empty shelf space ("gaps"): boxes of the class ``gap`` that a two-class shelf model (product + gap) finds.

A gap is where a product belongs but none stands: the shelf is out of stock there. Gaps are never products:
they are split off before products are grouped into types (:func:`split_gaps`), never counted in ``total`` or in
a type, and reported on their own in ``counts.json`` (:func:`gap_fields`):

    "gaps": {"count": 3, "boxes": [[x1, y1, x2, y2], ...], "share_of_width": 0.12}

``share_of_width`` = the gaps' widths / (the counted products' widths + the gaps' widths): the part of the
shelf's front that is empty. Models without a ``gap`` class report no ``gaps`` field at all (unknown, not zero).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from shelfscan.box_ops import box_sizes
from shelfscan.detections import Detections
from shelfscan.errors import InputError
from shelfscan.models.config import GAP_CLASS

# "product" names every class that is not a gap (the shelf model's product class is SKU-110K's "object")
PRODUCT_ALIAS = "product"
GAP_COLOUR = (230, 30, 30)  # RGB: gaps are drawn red (outline + hatching), whatever the palette gives products


def has_gap_class(class_names: Sequence[str]) -> bool:
    """Whether a model (or detections) with these class names can report gaps."""
    return GAP_CLASS in list(class_names)


def gap_mask(detections: Detections) -> np.ndarray:
    """bool (N,): the boxes whose class is ``gap``."""
    names = list(detections.class_names)
    if GAP_CLASS not in names or len(detections) == 0:
        return np.zeros(len(detections), bool)
    return np.asarray(detections.class_id) == names.index(GAP_CLASS)


def split_gaps(detections: Detections) -> tuple[Detections, Detections]:
    """(products, gaps) of ``detections``: the boxes of every other class, and the ``gap`` boxes."""
    mask = gap_mask(detections)
    return detections[~mask], detections[mask]


def _widths(xyxy: np.ndarray) -> float:
    """Summed width of the boxes (N, 4) xyxy, inverted ones counting 0."""
    return float(box_sizes(xyxy)[:, 0].sum())


def gap_share_of_width(gaps: Detections, products: Detections) -> float:
    """Gap widths / (product widths + gap widths); 0.0 when there is neither."""
    g, p = _widths(gaps.xyxy), _widths(products.xyxy)
    return g / (g + p) if g + p > 0 else 0.0


def gap_fields(gaps: Detections, products: Detections) -> dict:
    """The ``"gaps"`` object of ``counts.json``: ``{"count", "boxes", "share_of_width"}``."""
    return {"count": int(len(gaps)),
            "boxes": [[round(float(v), 1) for v in box] for box in np.asarray(gaps.xyxy).reshape(-1, 4)],
            "share_of_width": round(gap_share_of_width(gaps, products), 4)}


def select_classes(detections: Detections, classes: Sequence[str] | None) -> Detections:
    """The boxes of ``detections`` whose class is in ``classes`` (None: all). ``"product"`` stands for every
    class that is not ``gap`` (a one-class model's products, e.g. ``object``).

    Raises:
        InputError: a name that is neither ``product`` nor one of the model's classes.
    """
    if classes is None:
        return detections
    names = list(detections.class_names)
    wanted = set()
    for c in classes:
        if c == PRODUCT_ALIAS:
            wanted |= {i for i, n in enumerate(names) if n != GAP_CLASS}
        elif c in names:
            wanted.add(names.index(c))
        else:
            raise InputError(f"--classes: expected names among {[PRODUCT_ALIAS] + names}, got {c!r}")
    keep = np.isin(np.asarray(detections.class_id), sorted(wanted)) if len(detections) else np.zeros(0, bool)
    return detections[keep]


def parse_classes(text: str | None) -> list[str] | None:
    """``--classes product,gap`` -> ``["product", "gap"]``; None or ``all`` -> None (every class)."""
    if text is None or text.strip() in ("", "all"):
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def draw_gaps(image: np.ndarray, gaps_xyxy: np.ndarray, *, thickness: int | None = None) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) RGB uint8 with each gap box outlined in red and hatched with red
    diagonals (so it reads as empty space, not as one more product colour)."""
    from shelfscan.drawing import hatch, rectangle

    out = np.ascontiguousarray(image.copy())
    t = thickness or max(1, round(max(image.shape[:2]) / 500))
    step = max(6, round(max(image.shape[:2]) / 120))
    h, w = out.shape[:2]
    for x1, y1, x2, y2 in np.round(np.asarray(gaps_xyxy, np.float64).reshape(-1, 4)).astype(int).tolist():
        x1, x2 = max(0, min(x1, w - 1)), max(0, min(x2, w - 1))
        y1, y2 = max(0, min(y1, h - 1)), max(0, min(y2, h - 1))
        if x2 <= x1 or y2 <= y1:
            continue
        hatch(out, (x1, y1, x2, y2), GAP_COLOUR, step, max(1, t // 2))  # 45° lines inside the box
        rectangle(out, (x1, y1, x2, y2), GAP_COLOUR, t)
    return out


def describe(n_products: int, n_gaps: int | None, noun: str = "products") -> str:
    """``"143 products"`` or, when gaps are known, ``"143 products, 4 gaps"``; ``noun`` names the boxes
    (``"items"`` for a tagging model, see :func:`shelfscan.models.shipped.model_noun`)."""
    return f"{n_products} {noun}" + ("" if n_gaps is None else f", {n_gaps} gap{'s' if n_gaps != 1 else ''}")


__all__ = ["GAP_CLASS", "PRODUCT_ALIAS", "GAP_COLOUR", "has_gap_class", "gap_mask", "split_gaps",
           "gap_share_of_width", "gap_fields", "select_classes", "parse_classes", "draw_gaps", "describe"]
