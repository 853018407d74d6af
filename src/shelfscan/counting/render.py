"""Pictures of a shelf's product types: the photo with boxes coloured by type, and a contact sheet of types."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from shelfscan.annotate import draw_boxes, draw_count, palette
from shelfscan.detections import Detections
from shelfscan.embed.crops import box_windows

GREY = (160, 160, 160)


def _type_colour(gid: int, n_types: int) -> tuple[int, int, int]:
    if gid < 0:
        return GREY
    return tuple(int(v) for v in palette(max(n_types, gid + 1))[gid])


def annotate_types(image: np.ndarray, detections: Detections, groups: Sequence) -> np.ndarray:
    """The photo (H, W, 3) uint8 RGB with every box coloured by its type and labelled ``type:count``
    (``?`` for unassigned boxes), and a banner with the totals. Returns a new array."""
    n = len(detections)
    labels_of = np.full(n, -1, np.int64)
    text = [""] * n
    for g in groups:
        labels_of[g.indices] = g.id
        for i in g.indices.tolist():
            text[i] = "?" if g.id < 0 else f"{g.id}:{g.count}"
    out = draw_boxes(image, detections, color_by=labels_of, labels=text)
    n_types = sum(1 for g in groups if g.id >= 0)
    return draw_count(out, f"{n} products, {n_types} types")


def _fit(crop: np.ndarray, cell: int) -> np.ndarray:
    """Letterbox a crop (h, w, 3) into a (cell, cell, 3) white square, aspect kept."""
    h, w = crop.shape[:2]
    scale = cell / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(np.ascontiguousarray(crop), (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                       else cv2.INTER_LINEAR)
    out = np.full((cell, cell, 3), 255, np.uint8)
    y0, x0 = (cell - nh) // 2, (cell - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = small
    return out


def _header(gid: int, count: int, cell: int, colour: tuple[int, int, int]) -> np.ndarray:
    out = np.full((cell, cell, 3), colour, np.uint8)
    scale = cell / 160
    name = "unassigned" if gid < 0 else f"type {gid}"
    cv2.putText(out, name, (6, int(cell * 0.4)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(out, f"x{count}", (6, int(cell * 0.8)), cv2.FONT_HERSHEY_SIMPLEX, scale * 1.6, (0, 0, 0), 2,
                cv2.LINE_AA)
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
        cv2.putText(out, "no products", (8, cell // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        return out
    windows = box_windows(detections.xyxy, image.shape[1], image.shape[0])
    n_types = sum(1 for g in groups if g.id >= 0)
    rows = []
    for g in groups[:max_types]:
        row = np.full((cell, width, 3), 255, np.uint8)
        row[:, :cell] = _header(g.id, g.count, cell, _type_colour(g.id, n_types))
        for j, i in enumerate(g.indices[:per_type].tolist()):
            x1, y1, x2, y2 = windows[i].tolist()
            row[:, (j + 1) * cell:(j + 2) * cell] = _fit(image[y1:y2, x1:x2], cell)
        rows.append(row)
    if len(groups) > max_types:
        note = np.full((cell // 2, width, 3), 255, np.uint8)
        cv2.putText(note, f"... {len(groups) - max_types} more types", (8, cell // 3), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(note)
    return np.concatenate(rows, 0)
