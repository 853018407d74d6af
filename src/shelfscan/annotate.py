"""Drawing boxes on images (composable, supervision-style): colours per class or per group, optional labels."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from shelfscan.detections import Detections
from shelfscan.drawing import FONT_PX, put_text, rectangle, text_size, write_image
from shelfscan.imageops import hsv_to_rgb


def palette(n: int) -> np.ndarray:
    """n distinct RGB colours (uint8, (n, 3)), evenly spaced hues at full saturation, stable for a given index."""
    golden = 0.618033988749895
    hues = (np.arange(n) * golden) % 1.0
    hsv = np.stack([hues * 179, np.full(n, 220), np.full(n, 255)], 1).astype(np.uint8)[None]
    return hsv_to_rgb(hsv)[0]


def draw_boxes(image: np.ndarray, detections: Detections, *, color_by: Sequence[int] | np.ndarray | None = None,
               labels: Sequence[str] | None = None, thickness: int | None = None) -> np.ndarray:
    """Return a copy of ``image`` (H, W, 3) RGB uint8 with the boxes drawn.

    Args:
        color_by: an integer per box choosing its colour (default: ``detections.class_id``); -1 draws grey.
        labels: a text per box drawn above it (e.g. ``"shoe 0.91"``), or None for none.
        thickness: line width in pixels (default scales with the image size).
    """
    out = np.ascontiguousarray(image.copy())
    if len(detections) == 0:
        return out
    keys = np.asarray(detections.class_id if color_by is None else color_by, dtype=np.int64)
    colours = palette(int(keys.max()) + 1 if keys.max() >= 0 else 1)
    t = thickness or max(1, round(max(image.shape[:2]) / 600))
    px = round(FONT_PX * max(0.35, max(image.shape[:2]) / 2000))
    for i, (x1, y1, x2, y2) in enumerate(np.round(detections.xyxy).astype(int).tolist()):
        c = (160, 160, 160) if keys[i] < 0 else tuple(int(v) for v in colours[keys[i]])
        rectangle(out, (x1, y1, x2, y2), c, t)
        if labels is not None and labels[i]:
            tw, th = text_size(labels[i], px)
            y_text = max(th + 4, y1)
            rectangle(out, (x1, y_text - th - 4, x1 + tw + 2, y_text), c, -1)
            put_text(out, (x1 + 1, y_text - 2), labels[i], px, (0, 0, 0))
    return out


def draw_count(image: np.ndarray, text: str) -> np.ndarray:
    """Write ``text`` (e.g. "143 products") in a banner at the top-left corner; returns a copy."""
    out = np.ascontiguousarray(image.copy())
    px = round(FONT_PX * max(0.6, max(image.shape[:2]) / 1200))
    tw, th = text_size(text, px)
    rectangle(out, (0, 0, tw + 16, th + 16), (0, 0, 0), -1)
    put_text(out, (8, th + 8), text, px, (255, 255, 255))
    return out


def save_rgb(path, image: np.ndarray, quality: int = 90) -> None:
    """Write an RGB array as JPEG/PNG (by suffix)."""
    write_image(path, image, quality)
