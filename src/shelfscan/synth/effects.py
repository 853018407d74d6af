"""Light and camera: uneven lighting, shadows under shelves, colour cast, blur, sensor noise, JPEG artefacts."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

GAIN_STEP = 4  # light is computed on a grid this much coarser than the canvas
GAIN_ONE = 128  # gain map value meaning "unchanged"
NOISE_STD = 24.0  # standard deviation of the stored noise, in int8 units
NOISE_TILE = 1024


def lighting_gain(rng: np.random.Generator, size: tuple[int, int], rows: np.ndarray, shadow: float,
                  cast: np.ndarray, step: int = GAIN_STEP) -> np.ndarray:
    """Multiplicative light of the canvas as (H, W, 3) uint8, ``GAIN_ONE`` meaning 1.

    A smooth random field (store lights, vignetting, a brighter or darker top), times a shadow that fades
    downward from the underside of each shelf, times a per-channel colour cast. Computed on a grid ``step``
    times coarser and resized, since light varies slowly.

    Args:
        size: canvas ``(width, height)``.
        rows: (R, 4) ``x0, x1, top, bottom`` of each row's free space (see ``ShelfLayout.rows``).
        shadow: darkening right under a shelf, 0 (none) to ~0.5.
        cast: (3,) colour gains around 1.
    """
    w, h = size
    gw, gh = -(-w // step), -(-h // step)
    coarse = rng.uniform(0.82, 1.12, (3, 4)).astype(np.float32)
    coarse += np.linspace(rng.uniform(-0.12, 0.12), 0, 3, dtype=np.float32)[:, None]  # top brighter or darker
    gain = cv2.resize(coarse, (gw, gh), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.ogrid[-1:1:complex(0, gh), -1:1:complex(0, gw)]
    gain *= (1 - rng.uniform(0.0, 0.25) * (xx ** 2 + yy ** 2) / 2).astype(np.float32)
    for _ in range(int(rng.choice([0, 0, 1, 2, 3]))):  # glare of ceiling lights on glossy packs
        cx, cy = rng.uniform(-1, 1, 2)
        sx, sy = rng.uniform(0.05, 0.4), rng.uniform(0.02, 0.15)
        gain += (rng.uniform(0.15, 0.4) * np.exp(-((xx - cx) / sx) ** 2 - ((yy - cy) / sy) ** 2)).astype(np.float32)
    for x0, x1, top, bottom in rows / step:
        y0, y1 = max(0, int(top)), min(gh, int(np.ceil(bottom)))
        if y1 <= y0:
            continue
        ys = np.arange(y0, y1, dtype=np.float32) + 0.5
        profile = 1 - shadow * np.exp(-np.clip(ys - top, 0, None) / (0.4 * max(bottom - top, 0.5)))
        gain[y0:y1, max(0, int(x0)):int(np.ceil(x1))] *= profile[:, None]
    coloured = np.clip(gain[..., None] * (GAIN_ONE * cast.astype(np.float32)), 0, 255).astype(np.uint8)
    return cv2.resize(coloured, (w, h), interpolation=cv2.INTER_LINEAR)


def apply_gain(img: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``img * gain / GAIN_ONE`` saturated to uint8; img and gain (H, W, 3) uint8."""
    return cv2.multiply(img, gain, scale=1.0 / GAIN_ONE)


@lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    """(NOISE_TILE, NOISE_TILE, 3) int8 Gaussian noise of standard deviation NOISE_STD, made once."""
    rng = np.random.default_rng(12345)
    noise = rng.standard_normal((NOISE_TILE, NOISE_TILE, 3), dtype=np.float32) * NOISE_STD
    return np.clip(np.round(noise), -127, 127).astype(np.int8)


@lru_cache(maxsize=4)
def _noise_bank(rows: int, cols: int) -> np.ndarray:
    """The noise tile repeated ``rows`` x ``cols`` times; photos take crops at random offsets."""
    return cv2.repeat(_noise_tile(), rows, cols)


def add_noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` (grey levels) to (H, W, 3) uint8."""
    h, w = img.shape[:2]
    bank = _noise_bank(-(-h // NOISE_TILE) + 1, -(-w // NOISE_TILE) + 1)
    oy, ox = int(rng.integers(0, NOISE_TILE)), int(rng.integers(0, NOISE_TILE))
    return cv2.addWeighted(img, 1.0, bank[oy:oy + h, ox:ox + w], sigma / NOISE_STD, 0.0, dtype=cv2.CV_8U)


def camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur (defocus or a little motion), sensor noise and a JPEG round trip at a random quality.

    Args:
        img: (H, W, 3) uint8 RGB. Returns a new array of the same shape.
    """
    r = rng.random()
    if r < 0.6:
        sigma = rng.uniform(0.3, 1.3)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    elif r < 0.75:
        length = int(rng.integers(3, 8))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1.0 / length
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < 0.5:  # washed-out colours of a phone camera under store light
        grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        amount = float(rng.uniform(0.1, 0.45))
        img = cv2.addWeighted(img, 1 - amount, grey, amount, 0.0)
    if rng.random() < 0.7:  # tone curve: gamma and contrast
        x = np.arange(256, dtype=np.float32) / 255
        curve = x ** rng.uniform(0.75, 1.3)
        curve = (curve - 0.5) * rng.uniform(0.8, 1.15) + 0.5 + rng.uniform(-0.05, 0.05)
        img = cv2.LUT(img, np.clip(curve * 255 + 0.5, 0, 255).astype(np.uint8))
    img = add_noise(img, rng, float(rng.uniform(0.5, 5.0)))
    quality = int(rng.integers(35, 96))
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) if ok else img
