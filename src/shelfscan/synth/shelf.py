"""Render a synthetic shelf photo with a tight box and a SKU id for every visible product.

The shelf unit is painted flat on a canvas a little larger than the photo, together with a map of which product
owns each pixel; one homography then puts the whole canvas in perspective, and each box is the axis-aligned bound
of its warped visible corners.
"""
from __future__ import annotations

import cv2
import numpy as np

from shelfscan.box_ops import box_area, box_sizes, clip_boxes
from shelfscan.detections import Detections
from shelfscan.errors import InputError, expect
from shelfscan.synth.catalog import Catalog, default_catalog
from shelfscan.synth.defaults import PHOTO_WIDTH
from shelfscan.synth.effects import apply_gain, camera, lighting_gain
from shelfscan.synth.layout import ShelfLayout, ShelfStyle, make_layout, random_style
from shelfscan.synth.paint import paint_canvas

MARGIN = 0.07  # canvas border beyond the photo on each side, a fraction of the photo size
MIN_VISIBLE = 0.5  # a product must show this fraction of its pixels, and of its box inside the photo
MAX_ATTEMPTS = 12
MIN_PITCH = 12.0  # smallest distance between shelves in canvas pixels (products about 8 px tall)
TYPICAL_COUNT = 140  # products per photo are drawn around this (SKU-110K: mean 147, median ~135)


def _homography(rng: np.random.Generator, canvas: tuple[int, int], image: tuple[int, int]) -> np.ndarray:
    """(3, 3) float64 map from canvas to photo pixels: a mild random perspective whose image of the canvas
    covers the whole photo."""
    cw, ch = canvas
    w, h = image
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    mx, my = MARGIN * w, MARGIN * h
    push = rng.uniform(0.1, 1.6, (4, 2)) * [mx, my]  # each corner pushed outward: keystone and tilt
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) + np.array(
        [[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * push.astype(np.float32)
    angle = np.deg2rad(rng.uniform(-1.5, 1.5))
    centre = np.array([w / 2, h / 2], np.float32)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    for _ in range(20):  # grow the quad until the photo's corners fall inside the canvas
        quad = (dst - centre) @ rot.T + centre
        mat = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
        back = _transform(np.linalg.inv(mat), corners)
        if (back >= -0.5).all() and (back[:, 0] <= cw + 0.5).all() and (back[:, 1] <= ch + 0.5).all():
            return mat
        dst = (dst - centre) * 1.03 + centre
    return mat


def _transform(mat: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a (3, 3) homography to (..., 2) points."""
    p = pts @ mat[:, :2].T + mat[:, 2]
    return p[..., :2] / p[..., 2:3]


def _warp_boxes(mat: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """(N, 4) canvas rectangles -> (N, 4) float64 bounds of their four warped corners."""
    x0, y0, x1, y1 = rects.astype(np.float64).T
    corners = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                        np.stack([x0, y1], 1)], 1)  # (N, 4, 2)
    warped = _transform(mat, corners)
    return np.concatenate([warped.min(1), warped.max(1)], 1)


def _inside(boxes: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Clip (N, 4) boxes to the photo; return the clipped boxes and which keep >= MIN_VISIBLE of their area."""
    clipped = clip_boxes(boxes, *size)
    shown = box_sizes(clipped, dtype=None)
    keep = (shown.prod(1) >= MIN_VISIBLE * box_area(boxes, dtype=None)) & (shown >= 2).all(1)
    return clipped, keep


def _expected_boxes(layout: ShelfLayout, mat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Which products the photo will keep, from geometry alone (before painting): (N,) bool."""
    rects = layout.products.copy()
    rects[:, 3] = layout.visible_bottom
    _, keep = _inside(_warp_boxes(mat, rects), size)
    return keep


def _check_args(seed: int, width: int, height: int | None, n_products: tuple[int, int]) -> None:
    expect(isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0,
           "render_shelf seed", "an int >= 0", seed)
    expect(isinstance(width, (int, np.integer)) and width >= 64, "render_shelf width", "an int >= 64", width)
    expect(height is None or (isinstance(height, (int, np.integer)) and height >= 64), "render_shelf height",
           "None or an int >= 64", height)
    ok = (isinstance(n_products, (tuple, list)) and len(n_products) == 2
          and all(isinstance(v, (int, np.integer)) for v in n_products) and 1 <= n_products[0] <= n_products[1])
    expect(ok, "render_shelf n_products", "(low, high) ints with 1 <= low <= high", n_products)


def render_shelf(seed: int, width: int = PHOTO_WIDTH, height: int | None = None, *, catalog: Catalog | None = None,
                 n_products: tuple[int, int] = (50, 300)) -> tuple[np.ndarray, Detections]:
    """Render one synthetic shelf photo.

    Args:
        seed: int >= 0; the same seed and arguments give identical pixels and boxes.
        width: photo width in pixels.
        height: photo height; ``None`` draws the shape from the seed like SKU-110K photos: portrait 3:4
            (``round(width * 4 / 3)``) two times in three, landscape 4:3 otherwise.
        catalog: the SKUs to stock; default :func:`default_catalog` (the same SKUs in every call).
        n_products: ``(low, high)`` number of visible products; every photo has between low and high boxes.

    Returns:
        image (H, W, 3) uint8 RGB and its products as :class:`Detections`: xyxy float32 absolute pixels,
        tight around the visible part of each product, ``class_id`` the SKU id, ``class_names`` the catalog's
        names, scores 1.

    Raises:
        InputError: bad arguments, or no layout with that many products fits the photo.
    """
    _check_args(seed, width, height, n_products)
    catalog = default_catalog() if catalog is None else catalog
    style_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    if height is None:
        height = int(round(width * 4 / 3)) if style_rng.random() < 2 / 3 else int(round(width * 3 / 4))
    size = (int(width), int(height))
    canvas_size = (int(round(width * (1 + 2 * MARGIN))), int(round(height * (1 + 2 * MARGIN))))
    style = random_style(style_rng)
    mat = _homography(style_rng, canvas_size, size)
    low, high = int(n_products[0]), int(n_products[1])
    target = float(np.clip(np.clip(TYPICAL_COUNT, low, high) * np.exp(style_rng.normal(0, 0.3)), low, high))
    pitch = max(MIN_PITCH, float(np.sqrt(canvas_size[0] * canvas_size[1] / target)) * 1.4)
    best, tried = None, []
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2, attempt]))
        layout = make_layout(rng, catalog, style, canvas_size, pitch)
        n = int(_expected_boxes(layout, mat, size).sum())
        tried.append(n)
        close = abs(np.log(max(n, 1) / target)) < 0.25 or attempt >= 4  # near the target, or in range later on
        if low <= n <= high and close:
            canvas, boxes, keep = _paint(layout, style, mat, size, catalog)
            if low <= int(keep.sum()) <= high:
                return _photograph(canvas, layout, boxes, keep, mat, size, catalog, rng)
        if n > high and (best is None or n < best[1]):
            best = (layout, n, rng)
        if n < low and pitch <= MIN_PITCH:
            break  # products cannot get any smaller
        pitch = max(MIN_PITCH, pitch * float(np.clip(np.sqrt(max(n, 1) / target), 0.7, 1.4)))
    if best is not None:  # always too many: empty some slots at random (products never overlap each other,
        layout, _, rng = best  # so removing some leaves the others' visibility as it was)
        canvas, boxes, keep = _paint(layout, style, mat, size, catalog)
        if keep.sum() > high:
            mask = np.ones(len(layout), bool)
            mask[rng.choice(np.flatnonzero(keep), int(keep.sum()) - high, replace=False)] = False
            layout = layout.keep(mask)
            canvas, boxes, keep = _paint(layout, style, mat, size, catalog)
        if low <= int(keep.sum()) <= high:
            return _photograph(canvas, layout, boxes, keep, mat, size, catalog, rng)
    raise InputError(f"render_shelf: expected {low} to {high} products on a {width}x{height} photo, got layouts with "
                     f"{min(tried)} to {max(tried)} (seed {seed}); widen n_products or change the size")


def _visible_rects(layout: ShelfLayout, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of each product's own pixels in ``owner`` (N, 4) float64 canvas ``x0, y0, x1, y1``, and their
    count (N,) int64 (0 when nothing of it shows)."""
    n = len(layout)
    rects = np.zeros((n, 4), np.float64)
    shown = np.zeros(n, np.int64)
    h, w = owner.shape
    for i, (x0, y0, x1, y1) in enumerate(layout.products.tolist()):
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        mine = owner[cy0:cy1, cx0:cx1] == i
        rows, cols = np.flatnonzero(mine.any(1)), np.flatnonzero(mine.any(0))
        if len(rows):
            rects[i] = (cx0 + cols[0], cy0 + rows[0], cx0 + cols[-1] + 1, cy0 + rows[-1] + 1)
            shown[i] = int(np.count_nonzero(mine))
    return rects, shown


def _paint(layout: ShelfLayout, style: ShelfStyle, mat: np.ndarray, size: tuple[int, int],
           catalog: Catalog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paint a layout; return the canvas, each product's box in the photo (N, 4) float64 and which to keep
    (N,) bool: enough of its pixels show and enough of its box lies inside the photo."""
    canvas, owner, full_area = paint_canvas(layout, style, catalog)
    rects, shown = _visible_rects(layout, owner)
    boxes, inside = _inside(_warp_boxes(mat, rects), size)
    keep = (shown > 0) & inside & (shown >= MIN_VISIBLE * np.maximum(full_area, 1))
    return canvas, boxes, keep


def _photograph(canvas: np.ndarray, layout: ShelfLayout, boxes: np.ndarray, keep: np.ndarray, mat: np.ndarray,
                size: tuple[int, int], catalog: Catalog, rng: np.random.Generator) -> tuple[np.ndarray, Detections]:
    """Light the canvas, put it in perspective and through the camera; pack the kept boxes."""
    gain = lighting_gain(rng, layout.size, layout.rows, float(rng.uniform(0.15, 0.55)), rng.uniform(0.93, 1.07, 3))
    canvas = apply_gain(canvas, gain)
    image = cv2.warpPerspective(canvas, mat, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    image = camera(image, rng)
    dets = Detections(boxes[keep].astype(np.float32), class_id=layout.sku[keep], class_names=list(catalog.names))
    return image, dets
