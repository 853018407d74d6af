"""Drawing on (H, W, 3) uint8 RGB arrays without OpenCV: outlines and hatching in numpy, text with Pillow's
bundled font (``ImageFont.load_default(size)``), image files and JPEG bytes through Pillow.

The calls follow the OpenCV ones they replaced: rectangle corners are inclusive and an outline of ``thickness``
is centred on the box edge; text is placed by the left end of its baseline (``cv2.putText``'s ``org``), its size
given in pixels (``FONT_PX`` per unit of the old Hershey font scale gives about the same text width).
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from shelfscan.errors import expect

FONT_PX = 31  # Pillow font size for Hershey-simplex scale 1 (same text width)
Colour = tuple[int, int, int]


def _check_canvas(image: np.ndarray) -> None:
    expect(isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3,
           "drawing canvas", "a uint8 (H, W, 3) numpy array", f"{getattr(image, 'dtype', type(image).__name__)} "
           f"of shape {getattr(image, 'shape', None)}")


def rectangle(image: np.ndarray, corners: tuple[int, int, int, int], colour: Colour, thickness: int = 1) -> None:
    """Outline the box ``corners = (x1, y1, x2, y2)`` (inclusive) in place, the line ``thickness`` px wide and
    centred on the edge; ``thickness < 0`` fills it. Parts outside the image are clipped."""
    _check_canvas(image)
    x1, x2 = sorted((int(corners[0]), int(corners[2])))
    y1, y2 = sorted((int(corners[1]), int(corners[3])))
    h, w = image.shape[:2]

    def paint(ya: int, yb: int, xa: int, xb: int) -> None:  # inclusive ranges, clipped
        ya, yb, xa, xb = max(ya, 0), min(yb, h - 1), max(xa, 0), min(xb, w - 1)
        if ya <= yb and xa <= xb:
            image[ya:yb + 1, xa:xb + 1] = colour

    if thickness < 0:
        paint(y1, y2, x1, x2)
        return
    lo, hi = (thickness - 1) // 2, thickness // 2  # the line covers [edge - lo, edge + hi]
    paint(y1 - lo, y1 + hi, x1 - lo, x2 + hi)
    paint(y2 - lo, y2 + hi, x1 - lo, x2 + hi)
    paint(y1 - lo, y2 + hi, x1 - lo, x1 + hi)
    paint(y1 - lo, y2 + hi, x2 - lo, x2 + hi)


def hatch(image: np.ndarray, corners: tuple[int, int, int, int], colour: Colour, step: int, width: int) -> None:
    """Draw 45° lines (rising to the right, ``step`` px apart along x, about ``width`` px thick) inside the box
    ``corners = (x1, y1, x2, y2)`` (inclusive, clipped to the image), in place."""
    _check_canvas(image)
    h, w = image.shape[:2]
    x1, y1 = max(int(corners[0]), 0), max(int(corners[1]), 0)
    x2, y2 = min(int(corners[2]), w - 1), min(int(corners[3]), h - 1)
    if x2 < x1 or y2 < y1:
        return
    band = max(1, round((width + 0.5) * np.sqrt(2)))  # pixels along x + y: `width` thick, + half a pixel (as AA)
    ys, xs = np.ogrid[0:y2 - y1 + 1, 0:x2 - x1 + 1]
    on = (xs + ys) % max(int(step), 1) < band  # the lines x + y = k * step
    image[y1:y2 + 1, x1:x2 + 1][on] = colour


@lru_cache(maxsize=64)
def font(px: int):
    """Pillow's bundled font at ``px`` pixels (a bitmap font of fixed size where Pillow lacks FreeType)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=max(1, int(px)))


def text_size(text: str, px: int, stroke: int = 0) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` at ``px`` (``stroke``: see :func:`put_text`): height is the
    capital height above the baseline (the same for every text, as ``cv2.getTextSize``'s)."""
    f = font(px)
    return int(np.ceil(f.getlength(text))) + 2 * stroke, int(-f.getbbox("H", anchor="ls")[1]) + stroke


def put_text(image: np.ndarray, org: tuple[int, int], text: str, px: int, colour: Colour, stroke: int = 0) -> None:
    """Write ``text`` in place with the left end of its baseline at ``org = (x, y)``, anti-aliased over the
    pixels under it (``stroke`` > 0 thickens the letters by that many pixels on each side, for bolder text);
    parts outside the image are clipped."""
    from PIL import Image, ImageDraw

    _check_canvas(image)
    if not text:
        return
    f = font(px)
    left, top, right, bottom = f.getbbox(text, anchor="ls", stroke_width=stroke)
    h, w = image.shape[:2]
    x0, y0 = max(int(org[0]) + int(left) - 1, 0), max(int(org[1]) + int(top) - 1, 0)
    x1, y1 = min(int(org[0]) + int(right) + 2, w), min(int(org[1]) + int(bottom) + 2, h)
    if x1 <= x0 or y1 <= y0:
        return
    region = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]))
    fill = tuple(int(c) for c in colour)
    ImageDraw.Draw(region).text((int(org[0]) - x0, int(org[1]) - y0), text, fill=fill, font=f, anchor="ls",
                                stroke_width=stroke, stroke_fill=fill)
    image[y0:y1, x0:x1] = np.asarray(region)


def write_image(path: str | Path, image: np.ndarray, quality: int = 90) -> None:
    """Write an (H, W, 3) uint8 RGB array to ``path``, the format by its suffix (JPEG at ``quality``, PNG, ...)."""
    from PIL import Image

    _check_canvas(image)
    Image.fromarray(np.ascontiguousarray(image)).save(str(path), quality=quality)


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    """An (H, W, 3) uint8 RGB array as JPEG bytes."""
    from PIL import Image

    _check_canvas(image)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def fit_in_square(crop: np.ndarray, side: int) -> np.ndarray:
    """Letterbox a crop (h, w, 3) uint8 into a (side, side, 3) white square, aspect kept (area averaging when it
    shrinks, bilinear when it grows)."""
    from shelfscan.imageops import resize

    h, w = crop.shape[:2]
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = resize(crop, (nw, nh))  # area averaging when it shrinks, bilinear when it grows
    out = np.full((side, side, 3), 255, np.uint8)
    y0, x0 = (side - nh) // 2, (side - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = small
    return out
