"""Label artwork of a synthetic SKU: colour bands, a logo, brand text and fine print.

A :class:`LabelDesign` is the geometry of a label (relative coordinates, fonts, letters); a palette fills it with
colours. The look-alike SKUs of one family share the design and differ only in palette, like flavours of a brand.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

import cv2
import numpy as np

# palette slots
BASE, BAND_A, BAND_B, ACCENT, INK = range(5)

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
         cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
LOGO_SHAPES = ("circle", "ellipse", "triangle", "diamond", "star", "rect", "ring", "swoosh")


@dataclass(frozen=True)
class LabelDesign:
    """Where things are on a label; all positions and sizes are fractions of the label's height or width.

    Attributes:
        bands: ``(kind, position, thickness, slot)`` per band; kind is ``"h"`` (horizontal), ``"v"`` (vertical),
            ``"diag"`` (a slanted strip) or ``"arc"`` (a large ellipse rising from the bottom).
        pattern: ``"none"``, ``"stripes"`` or ``"dots"``, a faint texture over the base colour.
        blobs: ``(cx, cy, r, slot)`` discs standing in for a product photo.
        logo: ``(shape, cx, cy, size, slot)``; size is a fraction of the label width.
        brand: letters of the brand name, ``brand_font`` a cv2 Hershey font, ``brand_y`` the text centre,
            ``brand_vertical`` draws it rotated by 90 degrees (tall narrow packs).
        fine_text: rows of small text under the brand, starting at ``fine_y``.
    """

    bands: tuple[tuple[str, float, float, int], ...]
    pattern: str
    blobs: tuple[tuple[float, float, float, int], ...]
    logo: tuple[str, float, float, float, int]
    brand: str
    brand_font: int
    brand_thickness: int
    brand_y: float
    brand_vertical: bool
    fine_text: tuple[str, ...]
    fine_y: float


def random_design(rng: np.random.Generator) -> LabelDesign:
    """Draw a label design (geometry only, no colours)."""
    bands = []
    for _ in range(int(rng.integers(0, 4))):
        kind = str(rng.choice(["h", "h", "v", "diag", "arc"]))
        bands.append((kind, float(rng.uniform(0.05, 0.9)), float(rng.uniform(0.04, 0.3)),
                      int(rng.choice([BAND_A, BAND_B]))))
    blobs = tuple((float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.45, 0.85)), float(rng.uniform(0.08, 0.22)),
                   int(rng.choice([BAND_A, BAND_B, ACCENT]))) for _ in range(int(rng.choice([0, 0, 1, 2, 3]))))
    logo = (str(rng.choice(LOGO_SHAPES)), float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.1, 0.45)),
            float(rng.uniform(0.25, 0.6)), int(rng.choice([ACCENT, BAND_A, INK])))
    letters = "".join(rng.choice(list(string.ascii_uppercase), int(rng.integers(2, 8))))
    return LabelDesign(
        bands=tuple(bands),
        pattern=str(rng.choice(["none", "none", "none", "stripes", "dots"])),
        blobs=blobs,
        logo=logo,
        brand=letters,
        brand_font=int(rng.choice(FONTS)),
        brand_thickness=int(rng.integers(1, 4)),
        brand_y=float(rng.uniform(0.2, 0.6)),
        brand_vertical=bool(rng.random() < 0.25),
        fine_text=tuple("".join(rng.choice(list(string.ascii_lowercase + "  "), 12))
                        for _ in range(int(rng.integers(0, 5)))),
        fine_y=float(rng.uniform(0.6, 0.8)),
    )


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """(K, 3) float HSV with H in degrees [0, 360), S and V in [0, 1] -> (K, 3) uint8 RGB."""
    hsv8 = np.stack([(hsv[:, 0] % 360) / 2, hsv[:, 1] * 255, hsv[:, 2] * 255], 1)
    hsv8 = np.clip(np.round(hsv8), 0, [179, 255, 255]).astype(np.uint8)
    return cv2.cvtColor(hsv8[None], cv2.COLOR_HSV2RGB)[0]


def random_palette_hsv(rng: np.random.Generator) -> np.ndarray:
    """Five colours (slots BASE, BAND_A, BAND_B, ACCENT, INK) as (5, 3) float HSV."""
    hue = rng.uniform(0, 360)
    scheme = rng.choice(["light", "saturated", "dark"], p=[0.4, 0.45, 0.15])
    if scheme == "light":
        base = [hue, rng.uniform(0, 0.15), rng.uniform(0.85, 1.0)]
    elif scheme == "saturated":
        base = [hue, rng.uniform(0.5, 1.0), rng.uniform(0.55, 1.0)]
    else:
        base = [hue, rng.uniform(0.2, 0.9), rng.uniform(0.1, 0.35)]
    band_a = [hue + rng.choice([0, 30, 150, 180, 210]) + rng.normal(0, 10), rng.uniform(0.5, 1), rng.uniform(0.4, 1)]
    band_b = [rng.uniform(0, 360), rng.uniform(0.3, 1), rng.uniform(0.3, 1)]
    accent = [rng.uniform(0, 360), rng.uniform(0.6, 1), rng.uniform(0.6, 1)]
    ink = [hue, rng.uniform(0, 0.6), rng.uniform(0.05, 0.25)] if base[2] > 0.5 else [hue, 0.05, 0.97]
    return np.array([base, band_a, band_b, accent, ink], np.float64)


def variant_palette_hsv(rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    """A look-alike's palette: the accent colours turn to another hue; the base stays unless it is colourful."""
    out = palette.copy()
    shift = rng.uniform(40, 320)
    out[[BAND_A, BAND_B, ACCENT], 0] += shift
    if palette[BASE, 1] > 0.3 and rng.random() < 0.7:
        out[BASE, 0] += shift
    out[:, 2] = np.clip(out[:, 2] * rng.uniform(0.9, 1.1), 0, 1)
    return out


def palette_rgb(palette_hsv: np.ndarray) -> np.ndarray:
    """(5, 3) float HSV palette -> (5, 3) uint8 RGB."""
    return _hsv_to_rgb(palette_hsv)


def _colour(palette: np.ndarray, slot: int) -> tuple[int, int, int]:
    return tuple(int(c) for c in palette[slot])


def _contrast(palette: np.ndarray, background: np.ndarray) -> tuple[int, int, int]:
    """Ink or white, whichever stands out on ``background`` (3,) RGB."""
    luma = float(background @ np.array([0.299, 0.587, 0.114]))
    ink = palette[INK].astype(float) @ np.array([0.299, 0.587, 0.114])
    if abs(luma - ink) > 90:
        return _colour(palette, INK)
    return (20, 20, 25) if luma > 128 else (245, 245, 245)


def _draw_logo(img: np.ndarray, shape: str, cx: int, cy: int, r: int, colour: tuple[int, int, int]) -> None:
    aa = cv2.LINE_AA
    if shape == "circle":
        cv2.circle(img, (cx, cy), r, colour, -1, aa)
    elif shape == "ellipse":
        cv2.ellipse(img, (cx, cy), (r, max(1, r // 2)), 0, 0, 360, colour, -1, aa)
    elif shape == "ring":
        cv2.circle(img, (cx, cy), r, colour, max(1, r // 3), aa)
    elif shape == "rect":
        cv2.rectangle(img, (cx - r, cy - r // 2), (cx + r, cy + r // 2), colour, -1, aa)
    elif shape == "swoosh":
        cv2.ellipse(img, (cx, cy), (r, max(1, r // 3)), -20, 180, 360, colour, max(1, r // 4), aa)
    else:
        if shape == "triangle":
            angles = np.deg2rad([-90, 30, 150])
            radii = np.full(3, r)
        elif shape == "diamond":
            angles = np.deg2rad([-90, 0, 90, 180])
            radii = np.array([r, 0.7 * r, r, 0.7 * r])
        else:  # star
            angles = np.deg2rad(np.arange(10) * 36 - 90)
            radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
        cv2.fillPoly(img, [np.round(pts).astype(np.int32)], colour, aa)


def _put_text_fit(img: np.ndarray, text: str, font: int, thickness: int, centre: tuple[int, int], max_w: int,
                  max_h: int, colour: tuple[int, int, int]) -> None:
    """Write ``text`` centred on ``centre`` (x, y), scaled to fit ``max_w`` x ``max_h`` pixels."""
    (tw, th), base = cv2.getTextSize(text, font, 1.0, thickness)
    scale = min(max_w / max(tw, 1), max_h / max(th + base, 1))
    if scale < 0.15:
        return
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    org = (int(centre[0] - tw / 2), int(centre[1] + th / 2))
    cv2.putText(img, text, org, font, scale, colour, thickness, cv2.LINE_AA)


def _paint_pattern(img: np.ndarray, pattern: str, palette: np.ndarray) -> None:
    """Diagonal stripes or a dot grid in a shade of the base colour over ``img`` (H, W, 3), in place."""
    h, w = img.shape[:2]
    if pattern == "stripes":
        shade = np.clip(palette[BASE].astype(int) + (18 if palette[BASE].mean() < 200 else -18), 0, 255)
        for x in range(-h, w, max(3, w // 6)):
            cv2.line(img, (x, h), (x + h, 0), tuple(int(c) for c in shade), max(1, w // 25), cv2.LINE_AA)
    elif pattern == "dots":
        shade = np.clip(palette[BASE].astype(int) + (25 if palette[BASE].mean() < 200 else -25), 0, 255)
        step = max(4, w // 7)
        for y in range(step // 2, h, step):
            for x in range(step // 2 + (y // step % 2) * step // 2, w, step):
                cv2.circle(img, (x, y), max(1, step // 5), tuple(int(c) for c in shade), -1, cv2.LINE_AA)


def render_label(design: LabelDesign, palette: np.ndarray, height: int, width: int) -> np.ndarray:
    """Paint the label.

    Args:
        palette: (5, 3) uint8 RGB, slots BASE, BAND_A, BAND_B, ACCENT, INK.

    Returns:
        (height, width, 3) uint8 RGB.
    """
    h, w = int(height), int(width)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = palette[BASE]
    _paint_pattern(img, design.pattern, palette)
    for kind, pos, thick, slot in design.bands:
        col = _colour(palette, slot)
        if kind == "h":
            y0, y1 = int(pos * h), int((pos + thick * 0.6) * h) + 1
            img[y0:y1] = palette[slot]
        elif kind == "v":
            x0, x1 = int(pos * w), int((pos + thick) * w) + 1
            img[:, x0:x1] = palette[slot]
        elif kind == "diag":
            y0, t = pos * h, thick * h * 0.6
            pts = np.array([[0, y0 + 0.25 * h], [w, y0], [w, y0 + t], [0, y0 + 0.25 * h + t]])
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], col, cv2.LINE_AA)
        else:  # arc
            cv2.ellipse(img, (w // 2, h), (int(w * 0.9), int(h * (0.2 + thick))), 0, 180, 360, col, -1,
                        cv2.LINE_AA)
    for cx, cy, r, slot in design.blobs:
        cv2.circle(img, (int(cx * w), int(cy * h)), max(2, int(r * w)), _colour(palette, slot), -1, cv2.LINE_AA)
    shape, cx, cy, size, slot = design.logo
    r = max(2, int(size * w / 2))
    _draw_logo(img, shape, int(cx * w), int(cy * h), r, _colour(palette, slot))
    if design.brand_vertical and h > 1.5 * w:
        rot = np.ascontiguousarray(np.rot90(img))  # (w, h): text runs along the pack's height
        centre = (h // 2, int(0.5 * w))
        colour = _contrast(palette, rot[min(centre[1], w - 1), min(centre[0], h - 1)])
        _put_text_fit(rot, design.brand, design.brand_font, design.brand_thickness, centre, int(0.8 * h),
                      int(0.6 * w), colour)
        img = np.ascontiguousarray(np.rot90(rot, -1))
    else:
        centre = (w // 2, int(design.brand_y * h) + int(0.12 * h))
        colour = _contrast(palette, img[min(centre[1], h - 1), centre[0]])
        _put_text_fit(img, design.brand, design.brand_font, design.brand_thickness, centre, int(0.85 * w),
                      int(0.2 * h), colour)
    line_h = max(3, h // 22)
    for i, text in enumerate(design.fine_text):
        y = int(design.fine_y * h) + i * line_h
        if y + line_h >= h:
            break
        colour = _contrast(palette, img[y, w // 2])
        _put_text_fit(img, text, cv2.FONT_HERSHEY_PLAIN, 1, (w // 2, y), int(0.8 * w), line_h, colour)
    return img
