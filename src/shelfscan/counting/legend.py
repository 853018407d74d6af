"""The legend panel of ``annotated.jpg``: one line per product type (colour swatch, an example crop, ``type N: count``),
the unassigned boxes and the gaps, set beside or below the photo so the photo itself stays uncovered.

The panel goes to the right of a portrait (or square) photo and below a landscape one. Its rows scale with the
photo (``row_height``); when the types do not fit in the photo's height they fill several columns (at most
``MAX_COLUMNS`` beside the photo, then the panel grows taller than the photo), below the photo as many columns as
its width holds, then as many rows as needed. Types are listed by count, largest first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from shelfscan.drawing import FONT_PX, fit_in_square, hatch, put_text, rectangle, text_size

MAX_COLUMNS = 4      # columns beside the photo before the panel grows taller than the photo
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend.

    Attributes:
        label: ``"type 3"``, ``"unassigned"`` or ``"gaps"``.
        count: boxes it stands for.
        colour: RGB of its boxes (the swatch).
        crop: an example (h, w, 3) uint8 RGB crop of the photo, or None.
        hatched: draw the swatch hatched (gaps: empty space, drawn hatched on the photo).
    """

    label: str
    count: int
    colour: tuple[int, int, int]
    crop: np.ndarray | None = None
    hatched: bool = False

    @property
    def text(self) -> str:
        return f"{self.label}: {self.count}"


@dataclass(frozen=True)
class LegendLayout:
    """Where the panel goes and how its rows are set.

    Attributes:
        side: ``"right"`` or ``"bottom"``.
        row_h: height of one line in pixels. font: text size in units of ``FONT_PX`` pixels (the old Hershey
            scale). thickness: text stroke (1-2: plain letters, 3-4 a pixel bolder; the title one more).
        columns, rows: lines are filled column by column, ``rows`` per column.
        col_w: width of one column. title_h: height of the title line above the columns.
        width, height: size of the panel (pixels).
    """

    side: str
    row_h: int
    font: float
    thickness: int
    columns: int
    rows: int
    col_w: int
    title_h: int
    width: int
    height: int


def _px(font: float) -> int:
    """Pixel size of the text at legend font ``font``."""
    return max(8, round(FONT_PX * font))


def _stroke(thickness: int) -> int:
    """Extra stroke of the letters (pixels each side) for a text ``thickness``: 1-2 plain, 3-4 one pixel."""
    return (thickness - 1) // 2


def row_height(height: int, width: int) -> int:
    """Legend line height for a photo of this size: 1/30 of its longest side, 28 to 80 px (readable when the
    picture is shown whole, and the example crops large enough to recognise)."""
    return int(np.clip(round(max(height, width) / 30), 28, 80))


def legend_layout(height: int, width: int, entries: Sequence[LegendEntry], title: str) -> LegendLayout:
    """The panel for ``entries`` beside (portrait photo) or below (landscape photo) a ``height`` × ``width``
    photo."""
    row_h = row_height(height, width)
    font = row_h / 42
    thickness = max(1, round(row_h / 28))
    pad = max(2, row_h // 8)
    text_w = max([text_size(e.text, _px(font), _stroke(thickness))[0] for e in entries] or [0])
    side = row_h - 2 * pad
    col_w = pad + side + pad + side + pad + text_w + 2 * pad  # swatch, crop, text, margin
    title_h = round(row_h * 1.3)
    title_w = text_size(title, _px(font * 1.15), _stroke(thickness + 1))[0] + 2 * pad
    n = max(1, len(entries))
    if height >= width:
        rows = max(1, (height - title_h - pad) // row_h)
        if math.ceil(n / rows) > MAX_COLUMNS:
            rows = math.ceil(n / MAX_COLUMNS)
        columns = math.ceil(n / rows)
        rows = math.ceil(n / columns)  # balance the columns
        return LegendLayout("right", row_h, font, thickness, columns, rows, col_w, title_h,
                            max(columns * col_w, title_w), max(height, title_h + rows * row_h + pad))
    columns = max(1, min(n, width // col_w))
    rows = math.ceil(n / columns)
    return LegendLayout("bottom", row_h, font, thickness, columns, rows, col_w, title_h,
                        max(width, columns * col_w, title_w), title_h + rows * row_h + pad)


def _draw_entry(panel: np.ndarray, entry: LegendEntry, x: int, y: int, layout: LegendLayout) -> None:
    """One line at (x, y), top-left, in place: swatch, example crop, text."""
    pad = max(2, layout.row_h // 8)
    side = layout.row_h - 2 * pad
    sx, sy = x + pad, y + pad
    panel[sy:sy + side, sx:sx + side] = entry.colour
    if entry.hatched:  # white diagonals on the swatch, as the gaps are hatched on the photo
        corners = (sx, sy, sx + side - 1, sy + side - 1)
        hatch(panel, corners, BACKGROUND, max(4, side // 3), max(1, side // 10))
        rectangle(panel, corners, entry.colour, max(1, side // 8))
    cx = sx + side + pad
    if entry.crop is not None and entry.crop.size:
        panel[sy:sy + side, cx:cx + side] = fit_in_square(entry.crop, side)
    px, stroke = _px(layout.font), _stroke(layout.thickness)
    th = text_size(entry.text, px, stroke)[1]
    put_text(panel, (cx + side + pad, y + (layout.row_h + th) // 2), entry.text, px, INK, stroke)


def draw_legend(entries: Sequence[LegendEntry], title: str, layout: LegendLayout) -> np.ndarray:
    """The panel, (layout.height, layout.width, 3) uint8 RGB on white: the title, then the entries column by
    column."""
    panel = np.full((layout.height, layout.width, 3), BACKGROUND, np.uint8)
    pad = max(2, layout.row_h // 8)
    px = _px(layout.font * 1.15)
    th = text_size(title, px, _stroke(layout.thickness + 1))[1]
    put_text(panel, (pad, (layout.title_h + th) // 2), title, px, INK, _stroke(layout.thickness + 1))
    for i, entry in enumerate(entries):
        col, row = divmod(i, layout.rows)
        _draw_entry(panel, entry, col * layout.col_w, layout.title_h + row * layout.row_h, layout)
    return panel


def attach_legend(photo: np.ndarray, entries: Sequence[LegendEntry], title: str) -> np.ndarray:
    """``photo`` (H, W, 3) uint8 RGB with the legend panel to its right or below it, on white.

    Returns:
        (max(H, panel height), W + panel width, 3) for a panel on the right, (H + panel height, max(W, panel
        width), 3) for one below; the photo's pixels are copied unchanged to the top-left corner.
    """
    h, w = photo.shape[:2]
    layout = legend_layout(h, w, entries, title)
    panel = draw_legend(entries, title, layout)
    if layout.side == "right":
        out = np.full((max(h, layout.height), w + layout.width, 3), BACKGROUND, np.uint8)
        out[:layout.height, w:] = panel
    else:
        out = np.full((h + layout.height, max(w, layout.width), 3), BACKGROUND, np.uint8)
        out[h:, :layout.width] = panel
    out[:h, :w] = photo
    return out
