"""Letterboxing to the working resolution, overlapping tiles for big photos, and the boxes their seams cut."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shelfscan.box_ops import box_ioa


@dataclass(frozen=True)
class Tile:
    """A window of the (scaled) image: x0, y0 offsets and its size, plus which of its edges are inner seams."""

    x0: int
    y0: int
    width: int
    height: int
    seams: tuple[bool, bool, bool, bool]  # left, top, right, bottom edge lies inside the image


def tile_grid(width: int, height: int, tile: int, overlap: float = 0.25) -> list[Tile]:
    """Overlapping tiles of side ``tile`` covering a ``width × height`` image (one tile when it fits)."""

    def starts(size: int) -> list[int]:
        if size <= tile:
            return [0]
        step = max(1, int(tile * (1 - overlap)))
        n = int(np.ceil((size - tile) / step)) + 1
        return [int(round(i * (size - tile) / (n - 1))) for i in range(n)]

    out = []
    for y0 in starts(height):
        for x0 in starts(width):
            w, h = min(tile, width), min(tile, height)
            out.append(Tile(x0, y0, w, h, (x0 > 0, y0 > 0, x0 + w < width, y0 + h < height)))
    return out


PAD_VALUE = 114  # grey of the padding around a network input: the same in training crops and in the live page


def pad_to_multiple(image: np.ndarray, multiple: int = 32, value: int = PAD_VALUE) -> np.ndarray:
    """(H, W, 3) -> (H', W', 3) padded at the bottom/right so H', W' are multiples of ``multiple``."""
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return image
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), constant_values=value)


def seam_boxes(xyxy: np.ndarray, tile: Tile, margin: float = 2.0) -> np.ndarray:
    """bool (N,): the box (tile coordinates) touches one of the tile's inner seams (a product cut by the tile)."""
    left, top, right, bottom = tile.seams
    m = np.zeros(len(xyxy), bool)
    if left:
        m |= xyxy[:, 0] <= margin
    if top:
        m |= xyxy[:, 1] <= margin
    if right:
        m |= xyxy[:, 2] >= tile.width - margin
    if bottom:
        m |= xyxy[:, 3] >= tile.height - margin
    return m


def contained_fragments(boxes: np.ndarray, labels: np.ndarray, seam: np.ndarray, thr: float) -> np.ndarray:
    """bool (N,): seam boxes whose intersection over their own area with some non-seam box of the same label
    exceeds ``thr`` (fragments of a product that a neighbouring tile saw whole).

    Args: boxes (N, 4) xyxy, labels (N,) class ids, seam bool (N,) from :func:`seam_boxes`.
    """
    drop = np.zeros(len(boxes), bool)
    frag, whole = np.nonzero(seam)[0], np.nonzero(~seam)[0]
    if len(frag) == 0 or len(whole) == 0:
        return drop
    same = labels[frag][:, None] == labels[whole][None]
    drop[frag] = (box_ioa(boxes[frag], boxes[whole]) * same).max(1) > thr
    return drop
