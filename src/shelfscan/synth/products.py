"""Package shapes of synthetic products: silhouettes with shading, a label painted on the front.

Every pack is symmetric about its vertical axis and described by its half-width per row, which gives an
anti-aliased silhouette and, for round packs, the cylinder coordinate used for shading and highlights.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shelfscan.synth.design import ACCENT, BAND_A, BAND_B, BASE, LabelDesign, render_label

KINDS = ("box", "can", "bottle", "jar", "bag", "stick")
KIND_WEIGHTS = (0.32, 0.14, 0.18, 0.08, 0.12, 0.16)
# height / width of the front view
ASPECT_RANGE = {"box": (0.55, 3.0), "can": (1.3, 2.3), "bottle": (2.4, 4.4), "jar": (0.9, 1.5),
                "bag": (1.0, 1.8), "stick": (2.2, 4.2)}
METAL = np.array([196, 198, 204], np.float32)


@dataclass(frozen=True)
class PackShape:
    """Geometry of a pack, shared by the look-alike SKUs of one family.

    Attributes:
        kind: one of :data:`KINDS`.
        aspect: height / width of the front view.
        cap: height of the cap, lid, rim or crimp as a fraction of the pack height.
        cap_width: width of a bottle cap or jar lid as a fraction of the pack width.
        neck: bottle neck plus shoulder height, a fraction of the pack height.
        label: ``(top, bottom)`` of the label band, fractions of the pack height.
        cap_colour: palette slot of the cap, or -1 white, -2 black, -3 metal.
        roundness: depth of the cylinder shading (0 flat box, ~0.5 can).
    """

    kind: str
    aspect: float
    cap: float
    cap_width: float
    neck: float
    label: tuple[float, float]
    cap_colour: int
    roundness: float


def random_shape(rng: np.random.Generator) -> PackShape:
    """Draw a pack kind and its proportions."""
    kind = str(rng.choice(KINDS, p=KIND_WEIGHTS))
    aspect = float(np.exp(rng.uniform(*np.log(ASPECT_RANGE[kind]))))
    cap_colour = int(rng.choice([ACCENT, BAND_A, -1, -2, -3]))
    if kind == "box":
        return PackShape(kind, aspect, 0.0, 1.0, 0.0, (0.0, 1.0), cap_colour, float(rng.uniform(0.04, 0.12)))
    if kind == "can":
        return PackShape(kind, aspect, float(rng.uniform(0.04, 0.07)), 1.0, 0.0, (0.08, 0.92), -3,
                         float(rng.uniform(0.4, 0.6)))
    if kind == "bottle":
        cap = float(rng.uniform(0.05, 0.1))
        neck = float(rng.uniform(0.15, 0.32))
        top = cap + neck + float(rng.uniform(0.02, 0.1))
        return PackShape(kind, aspect, cap, float(rng.uniform(0.3, 0.5)), neck,
                         (top, float(rng.uniform(top + 0.3, 0.95))), cap_colour, float(rng.uniform(0.35, 0.55)))
    if kind == "jar":
        cap = float(rng.uniform(0.12, 0.22))
        return PackShape(kind, aspect, cap, float(rng.uniform(0.82, 0.95)), 0.0,
                         (cap + 0.08, float(rng.uniform(0.8, 0.94))), cap_colour, float(rng.uniform(0.3, 0.5)))
    if kind == "bag":
        return PackShape(kind, aspect, float(rng.uniform(0.04, 0.08)), 1.0, 0.0, (0.0, 1.0), BASE,
                         float(rng.uniform(0.15, 0.3)))
    cap = float(rng.uniform(0.18, 0.32))  # stick: deodorant-like, cap on a rounded top
    return PackShape(kind, aspect, cap, 1.0, 0.0, (cap + 0.02, 0.97), cap_colour, float(rng.uniform(0.2, 0.35)))


def _half_width(shape: PackShape, h: int, w: int) -> np.ndarray:
    """Half-width of the silhouette at each row centre, (h,) float32 pixels."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    half = np.full(h, w / 2, np.float32)
    if shape.kind == "can":
        r = max(shape.cap, 1.5 / h)  # elliptic rims at top and bottom
        for d in (y, 1 - y):
            edge = d < r
            half[edge] *= np.sqrt(np.clip(1 - ((r - d[edge]) / r) ** 2, 0, 1)) * 0.15 + 0.85
    elif shape.kind == "bottle":
        cap_end, neck_end = shape.cap, shape.cap + shape.neck
        neck_half = 0.92 * shape.cap_width * w / 2
        half[y < cap_end] = shape.cap_width * w / 2
        shoulder = (y >= cap_end) & (y < neck_end)
        t = (y[shoulder] - cap_end) / max(shape.neck, 1e-6)
        half[shoulder] = neck_half + (w / 2 - neck_half) * np.clip(1.6 * t - 0.6, 0, 1) ** 0.5
        bottom = y > 0.95
        half[bottom] *= 1 - ((y[bottom] - 0.95) / 0.05) ** 2 * 0.12
    elif shape.kind == "jar":
        half[y < shape.cap] = shape.cap_width * w / 2
        r = 0.08
        for d in (y - shape.cap, 1 - y):
            edge = (d >= 0) & (d < r)
            half[edge] *= 0.9 + 0.1 * np.sqrt(np.clip(1 - ((r - d[edge]) / r) ** 2, 0, 1))
    elif shape.kind == "bag":
        half *= 0.9 + 0.1 * np.sin(np.pi * y)
    elif shape.kind == "stick":
        r = min(0.45 / shape.aspect, 0.2)  # rounded top, a half-ellipse
        top = y < r
        half[top] *= np.sqrt(np.clip(1 - ((r - y[top]) / r) ** 2, 0, 1))
        half *= 1 - 0.04 * y
    return half


def _silhouette(shape: PackShape, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased alpha (h, w) float32 in [0, 1] and the cylinder coordinate u (h, w) in [-1, 1]."""
    half = _half_width(shape, h, w)
    dx = np.abs(np.arange(w, dtype=np.float32) + 0.5 - w / 2)
    alpha = np.clip(half[:, None] - dx[None, :] + 0.5, 0, 1)
    if shape.kind == "bag":  # crimped seals: zig-zag top and bottom edges
        x = np.arange(w, dtype=np.float32)
        period = max(3.0, w / 9)
        zig = np.abs((x / period) % 1 - 0.5) * 2 * shape.cap * 0.5 * h
        yy = np.arange(h, dtype=np.float32)[:, None] + 0.5
        alpha *= np.clip(yy - zig[None, :], 0, 1) * np.clip(h - yy - zig[None, :], 0, 1)
    u = (np.arange(w, dtype=np.float32)[None, :] + 0.5 - w / 2) / np.maximum(half[:, None], 0.5)
    return alpha, np.clip(u, -1, 1)


def _cap_rgb(shape: PackShape, palette: np.ndarray) -> np.ndarray:
    if shape.cap_colour >= 0:
        return palette[shape.cap_colour].astype(np.float32)
    return {-1: np.array([236, 236, 232], np.float32), -2: np.array([28, 28, 32], np.float32)}.get(
        shape.cap_colour, METAL)


def render_pack(shape: PackShape, design: LabelDesign, palette: np.ndarray, height: int) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Front view of one SKU.

    Args:
        palette: (5, 3) uint8 RGB (see :mod:`shelfscan.synth.design`).
        height: pack height in pixels; the width is ``round(height / shape.aspect)``.

    Returns:
        rgb (h, w, 3) uint8 and alpha (h, w) float32 in [0, 1].
    """
    h = int(height)
    w = max(3, int(round(h / shape.aspect)))
    alpha, u = _silhouette(shape, h, w)
    body = palette[BAND_B].astype(np.float32) * 0.55 if shape.kind in ("bottle", "jar") else \
        palette[BASE].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = body
    y0, y1 = int(round(shape.label[0] * h)), int(round(shape.label[1] * h))
    if y1 - y0 >= 4:
        img[y0:y1] = render_label(design, palette, y1 - y0, w)
    cap_h = int(round(shape.cap * h))
    if shape.kind == "can":
        img[:cap_h + 1] = METAL
        img[h - cap_h - 1:] = METAL * 0.9
    elif shape.kind in ("bottle", "jar", "stick") and cap_h > 0:
        img[:cap_h] = _cap_rgb(shape, palette)
        img[cap_h:cap_h + max(1, h // 80)] *= 0.6  # seam under the cap
    elif shape.kind == "bag" and cap_h > 0:
        for rows in (slice(0, cap_h + 1), slice(h - cap_h - 1, h)):
            img[rows] = img[rows] * 0.75 + 255 * 0.25
            img[rows, ::2] *= 0.85
    # shading: darker towards the sides of round packs, a soft highlight left of centre, darker base
    shade = 1 - shape.roundness * (1 - np.sqrt(1 - u ** 2))
    if shape.kind == "box":
        shade = shade * np.where(np.abs(u) > 1 - 2.5 / max(w, 1), 0.7, 1.0)
        shade[:max(1, h // 60)] *= 1.08
    if shape.kind == "bag":
        xs = np.linspace(0, 1, w, dtype=np.float32)
        shade = shade * (1 + 0.06 * np.sin(xs * 7 * np.pi + shape.aspect * 10))[None, :]
    highlight = 0.35 * shape.roundness * np.exp(-((u + 0.35) / 0.18) ** 2)
    img = img * shade[..., None] + (255 - img) * highlight[..., None]
    return np.clip(img, 0, 255).astype(np.uint8), alpha
