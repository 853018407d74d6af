"""Paint a :class:`ShelfLayout` on the flat canvas and record which product owns each pixel."""
from __future__ import annotations

import cv2
import numpy as np

from shelfscan.synth.catalog import Catalog
from shelfscan.synth.layout import ShelfLayout, ShelfStyle

FLOOR_RGB = np.array([196, 182, 160], np.float32)


def _block(colours: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 filled from ``colours``: (1, 1, 3) solid, (h, 1, 3) varying down, (1, w, 3) across.

    ``cv2.repeat`` instead of numpy broadcasting, which is ~20x slower for a trailing dimension of 3.
    """
    colours = np.ascontiguousarray(colours, np.uint8)
    return cv2.repeat(colours, h // colours.shape[0], w // colours.shape[1])


def _background(style: ShelfStyle, size: tuple[int, int]) -> np.ndarray:
    """Back panel, (H, W, 3) uint8; pegboard holes on a tiled grid."""
    w, h = size
    if not style.pegboard:
        return _block(style.back_rgb.reshape(1, 1, 3), h, w)
    step = max(6, w // 70)
    tile = _block(style.back_rgb.reshape(1, 1, 3), step, step)
    cv2.circle(tile, (step // 2, step // 2), max(1, step // 6), tuple(int(c * 0.45) for c in style.back_rgb), -1,
               cv2.LINE_AA)
    return np.ascontiguousarray(cv2.repeat(tile, h // step + 1, w // step + 1)[:h, :w])


def _strip_profile(colour: np.ndarray, height: int) -> np.ndarray:
    """Vertical colour profile of a shelf edge, (height, 1, 3) uint8: lit top, slightly darker body, dark bottom."""
    t = np.linspace(0, 1, max(height, 1), dtype=np.float32)[:, None]
    shade = 1.05 - 0.12 * t
    shade[: max(1, height // 8)] = 1.15
    shade[-max(1, height // 10):] = 0.55
    return np.clip(colour.astype(np.float32)[None, :] * shade, 0, 255).astype(np.uint8)[:, None]


def _clip_rect(rect: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return max(0, int(rect[0])), max(0, int(rect[1])), min(w, int(rect[2])), min(h, int(rect[3]))


def _cover(canvas: np.ndarray, owner: np.ndarray, rect: np.ndarray, block) -> bool:
    """Paint ``block(y0, y1, x0, x1)`` (coordinates inside ``rect``) over the part of ``rect`` on the canvas and
    mark it as owned by no product. Returns whether anything was on the canvas."""
    h, w = owner.shape
    x0, y0, x1, y1 = (int(v) for v in rect)
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return False
    canvas[cy0:cy1, cx0:cx1] = block(cy0 - y0, cy1 - y0, cx0 - x0, cx1 - x0)
    owner[cy0:cy1, cx0:cx1] = -1
    return True


def _price(rng_val: float) -> str:
    return f"{1 + rng_val * 12:.2f}"


def paint_canvas(layout: ShelfLayout, style: ShelfStyle, catalog: Catalog) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """Paint back panel, products, shelf edges, price tags, uprights and floor.

    Returns:
        canvas (H, W, 3) uint8 RGB; owner (H, W) int16 (int32 past 32766 products), the product index at each
        pixel or -1;
        full_area (N,) int64, each product's silhouette size in pixels (to tell how much of it is hidden).
    """
    w, h = layout.size
    canvas = _background(style, layout.size)
    owner = np.full((h, w), -1, np.int16 if len(layout) < 32767 else np.int32)
    full_area = _paint_products(canvas, owner, layout, catalog)
    _paint_fixtures(canvas, owner, layout, style)
    return canvas, owner, full_area


def _paint_products(canvas: np.ndarray, owner: np.ndarray, layout: ShelfLayout, catalog: Catalog) -> np.ndarray:
    """Blend every product front onto ``canvas`` (H, W, 3) in layout order, marking ``owner`` (H, W); returns
    full_area (N,) int64, each product's silhouette size in pixels."""
    full_area = np.zeros(len(layout), np.int64)
    sized: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
    cache: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
    for i, (rect, sku, gain) in enumerate(zip(layout.products, layout.sku.tolist(), layout.gain.tolist())):
        pw, ph = int(rect[2] - rect[0]), int(rect[3] - rect[1])
        key = (sku, pw, ph, round(gain, 2))
        if key not in cache:  # one resize per SKU and size, one blend per brightness, reused by all facings
            if key[:3] not in sized:
                sized[key[:3]] = catalog.front(sku, pw, ph)
            tex, alpha = sized[key[:3]]
            fg = np.clip(tex * (alpha * key[3]), 0, 255).astype(np.uint8)  # premultiplied
            inv = np.repeat(np.round(255 * (1 - alpha)).astype(np.uint8), 3, axis=2)
            mask = alpha[..., 0] > 0.5
            cache[key] = (fg, inv, mask, int(mask.sum()))
        fg, inv, mask, area = cache[key]
        full_area[i] = area
        x0, y0, x1, y1 = _clip_rect(rect, layout.size)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = (slice(y0 - rect[1], y1 - rect[1]), slice(x0 - rect[0], x1 - rect[0]))
        patch = canvas[y0:y1, x0:x1]
        cv2.add(cv2.multiply(patch, inv[sub], scale=1 / 255), fg[sub], dst=patch)
        owner[y0:y1, x0:x1][mask[sub]] = i
    return full_area


def _paint_fixtures(canvas: np.ndarray, owner: np.ndarray, layout: ShelfLayout, style: ShelfStyle) -> None:
    """Paint hooks, shelf edges, price tags, uprights, kick plates, floor, walls and signs over the products."""
    peg = np.array([[[170, 172, 178]]], np.uint8)  # metal hooks
    for rect in layout.pegs:
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(peg, y1 - y0, x1 - x0))
    for rect in layout.lips:
        profile = _strip_profile(style.lip_rgb, int(rect[3] - rect[1]))
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(profile[y0:y1], y1 - y0, x1 - x0))
    tag = np.array(style.tag_rgb, np.uint8).reshape(1, 1, 3)
    for k, rect in enumerate(layout.tags):
        if _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(tag, y1 - y0, x1 - x0)):
            th, tw = int(rect[3] - rect[1]), int(rect[2] - rect[0])
            scale = min(tw / 95.0, th / 30.0)
            if scale > 0.12:
                text = _price((((k + len(layout)) * 7919) % 997) / 997)  # varies between photos
                cv2.putText(canvas, text, (int(rect[0] + 0.08 * tw), int(rect[3] - 0.3 * th)),
                            cv2.FONT_HERSHEY_SIMPLEX, scale, style.tag_ink, max(1, int(scale * 2)), cv2.LINE_AA)
    for rect in layout.uprights:
        shade = np.linspace(0.6, 0.95, int(rect[2] - rect[0]), dtype=np.float32)[:, None]
        profile = np.clip(style.lip_rgb.astype(np.float32) * shade, 0, 255).astype(np.uint8)[None]
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(profile[:, x0:x1], y1 - y0, x1 - x0))
    kick = (style.lip_rgb * 0.35).astype(np.uint8).reshape(1, 1, 3)
    for rect in layout.kick:
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(kick, y1 - y0, x1 - x0))
    for rect in layout.floor:
        t = np.linspace(0.75, 1.0, max(int(rect[3] - rect[1]), 1), dtype=np.float32)[:, None]
        profile = np.clip(FLOOR_RGB[None, :] * t, 0, 255).astype(np.uint8)[:, None]
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(profile[y0:y1], y1 - y0, x1 - x0))
    for rect in layout.walls:
        t = np.linspace(0.8, 1.05, max(int(rect[3] - rect[1]), 1), dtype=np.float32)[:, None]
        profile = np.clip(style.wall_rgb[None, :] * t, 0, 255).astype(np.uint8)[:, None]
        _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(profile[y0:y1], y1 - y0, x1 - x0))
    for rect in layout.signs:
        sign = style.sign_rgb.reshape(1, 1, 3)
        if _cover(canvas, owner, rect, lambda y0, y1, x0, x1: _block(sign, y1 - y0, x1 - x0)):
            h_sign = int(rect[3] - rect[1])
            cv2.putText(canvas, style.sign_text, (int(rect[0]) + h_sign, int(rect[3]) - h_sign // 4),
                        cv2.FONT_HERSHEY_DUPLEX, h_sign / 40, tuple(int(c) for c in 255 - style.sign_rgb),
                        max(1, h_sign // 15), cv2.LINE_AA)
