"""Pictures of a shelf's product types: the photo with boxes coloured by type, and a contact sheet of types."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from shelfscan.annotate import draw_boxes, palette
from shelfscan.detections import Detections
from shelfscan.drawing import FONT_PX, fit_in_square, put_text
from shelfscan.embed.crops import box_windows

GREY = (160, 160, 160)


def _type_colour(gid: int, n_types: int) -> tuple[int, int, int]:
    """RGB of type ``gid``: palette entry ``gid + 1`` (entry 0 is red, the colour of gaps), grey for -1."""
    if gid < 0:
        return GREY
    return tuple(int(v) for v in palette(max(n_types, gid + 1) + 1)[gid + 1])


def legend_entries(image: np.ndarray, detections: Detections, groups: Sequence,
                   gaps: Detections | None = None) -> list:
    """The legend's lines (:class:`~shelfscan.counting.legend.LegendEntry`): the types by count, largest first
    (ties by id), then the unassigned boxes (grey) when there are any, then ``gaps`` when the model has a gap class
    (also with none found: "gaps: 0").

    Args:
        image: the photo (H, W, 3) uint8 RGB, for the example crops (each type's most typical box).
        detections: the counted boxes. groups: their types (``ShelfCount.groups``). gaps: the gap boxes or None.
    """
    from shelfscan.counting.gaps import GAP_COLOUR
    from shelfscan.counting.legend import LegendEntry

    h, w = image.shape[:2]
    windows = box_windows(detections.xyxy, w, h) if len(detections) else np.zeros((0, 4), np.int64)

    def crop(window) -> np.ndarray:
        x1, y1, x2, y2 = window.tolist()
        return image[y1:y2, x1:x2]

    n_types = sum(1 for g in groups if g.id >= 0)
    typed = sorted((g for g in groups if g.id >= 0), key=lambda g: (-g.count, g.id))
    entries = [LegendEntry(f"type {g.id}", g.count, _type_colour(g.id, n_types), crop(windows[g.indices[0]]))
               for g in typed if g.count]
    entries += [LegendEntry("unassigned", g.count, GREY, crop(windows[g.indices[0]]))
                for g in groups if g.id < 0 and g.count]
    if gaps is not None:
        first = box_windows(gaps.xyxy[:1], w, h)[0] if len(gaps) else None
        entries.append(LegendEntry("gaps", len(gaps), GAP_COLOUR, None if first is None else crop(first),
                                   hatched=True))
    return entries


def annotate_types(image: np.ndarray, detections: Detections, groups: Sequence, *,
                   gaps: Detections | None = None, noun: str = "products") -> np.ndarray:
    """The photo with every box coloured by its type (unassigned boxes grey, gaps hatched red), and a legend
    panel beside or below it (:mod:`shelfscan.counting.legend`): a title with the totals (``"143 products,
    27 types, 3 gaps"``), then per type its colour, an example crop and ``type N: count``, largest first.

    Args:
        image: the photo (H, W, 3) uint8 RGB (not modified).
        detections: the counted boxes. groups: their types. gaps: gap boxes (a two-class model) or None.
        noun: what the boxes are called in the title (``"products"``, ``"items"``).

    Returns:
        A new uint8 RGB array, larger than the photo by the panel; the photo sits at its top-left corner, its
        pixels changed only where boxes are drawn.
    """
    from shelfscan.counting.gaps import describe, draw_gaps
    from shelfscan.counting.legend import attach_legend

    n = len(detections)
    labels_of = np.full(n, -1, np.int64)
    for g in groups:
        labels_of[g.indices] = g.id
    out = image if gaps is None or not len(gaps) else draw_gaps(image, gaps.xyxy)  # under the product boxes
    out = draw_boxes(out, detections, color_by=np.where(labels_of >= 0, labels_of + 1, -1))  # _type_colour
    n_types = sum(1 for g in groups if g.id >= 0)
    title = describe(n, None, noun) + f", {n_types} type{'s' if n_types != 1 else ''}" + (
        "" if gaps is None else f", {len(gaps)} gap{'s' if len(gaps) != 1 else ''}")
    return attach_legend(out, legend_entries(image, detections, groups, gaps), title)


def _header(gid: int, count: int, cell: int, colour: tuple[int, int, int]) -> np.ndarray:
    out = np.full((cell, cell, 3), colour, np.uint8)
    scale = cell / 160
    name = "unassigned" if gid < 0 else f"type {gid}"
    put_text(out, (6, int(cell * 0.4)), name, round(FONT_PX * scale), (0, 0, 0))
    put_text(out, (6, int(cell * 0.8)), f"x{count}", round(FONT_PX * scale * 1.6), (0, 0, 0))
    return out


def contact_sheet(image: np.ndarray, detections: Detections, groups: Sequence, *, per_type: int = 6,
                  cell: int = 96, max_types: int = 80) -> np.ndarray:
    """One row per type: a coloured cell with its id and count, then up to ``per_type`` of its crops (the most
    typical first), each letterboxed into a ``cell``-pixel square.

    Returns:
        uint8 RGB (rows * cell, (per_type + 1) * cell, 3); a single blank row when there is no product. Types
        beyond ``max_types`` are left out and a last row says how many.
    """
    width = (per_type + 1) * cell
    if not groups:
        out = np.full((cell, width, 3), 255, np.uint8)
        put_text(out, (8, cell // 2), "no products", round(FONT_PX * 0.6), (0, 0, 0))
        return out
    windows = box_windows(detections.xyxy, image.shape[1], image.shape[0])
    n_types = sum(1 for g in groups if g.id >= 0)
    rows = []
    for g in groups[:max_types]:
        row = np.full((cell, width, 3), 255, np.uint8)
        row[:, :cell] = _header(g.id, g.count, cell, _type_colour(g.id, n_types))
        for j, i in enumerate(g.indices[:per_type].tolist()):
            x1, y1, x2, y2 = windows[i].tolist()
            row[:, (j + 1) * cell:(j + 2) * cell] = fit_in_square(image[y1:y2, x1:x2], cell)
        rows.append(row)
    if len(groups) > max_types:
        note = np.full((cell // 2, width, 3), 255, np.uint8)
        put_text(note, (8, cell // 3), f"... {len(groups) - max_types} more types", round(FONT_PX * 0.6), (0, 0, 0))
        rows.append(note)
    return np.concatenate(rows, 0)
