"""Training-time augmentation: scale jitter to the working resolution, random crops, mosaics, flips, colour
jitter."""
from __future__ import annotations

import numpy as np

from shelfscan.box_ops import box_area, box_centres, box_sizes, clip_boxes
from shelfscan.engine.train_config import TrainConfig
from shelfscan.errors import expect
from shelfscan.imageops import import_cv2
from shelfscan.inference.tiling import PAD_VALUE  # the padding grey of every network input

cv2 = import_cv2("training augmentation (shelfscan.engine.augment)")


def scale_and_crop(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *,
                   imgsz: int, crop: int | tuple[int, int], scale_range: tuple[float, float] = TrainConfig.scale_range,
                   min_visible: float = 0.45) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale the photo so its longest side is ``imgsz · U(scale_range)`` (log-uniform), then cut a ``crop²``
    window (or ``crop = (width, height)``) at native pixels of that scale (DenseDet-style), padding with grey
    when the photo is smaller.

    Args: image (H, W, 3) uint8, boxes (N, 4) xyxy pixels, labels (N,).
    Returns: crop (crop_h, crop_w, 3) uint8, boxes (M, 4) clipped to the crop, labels (M,). A product cut by the
        window is kept (clipped) when at least ``min_visible`` of its area is inside, dropped otherwise.
    """
    crop_w, crop_h = (crop, crop) if isinstance(crop, (int, np.integer)) else (int(crop[0]), int(crop[1]))
    h0, w0 = image.shape[:2]
    lo, hi = np.log(scale_range[0]), np.log(scale_range[1])
    s = imgsz * float(np.exp(rng.uniform(lo, hi))) / max(h0, w0)
    w, h = max(1, round(w0 * s)), max(1, round(h0 * s))
    img = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    b = boxes.astype(np.float32) * s
    # crop window: prefer windows that contain products (sample the centre around a random box half the time)
    if len(b) and rng.random() < 0.5:
        c = b[rng.integers(len(b))]
        cx, cy = box_centres(c)[0]
        x0 = int(np.clip(cx - rng.uniform(0, crop_w), 0, max(0, w - crop_w)))
        y0 = int(np.clip(cy - rng.uniform(0, crop_h), 0, max(0, h - crop_h)))
    else:
        x0 = int(rng.integers(0, max(0, w - crop_w) + 1))
        y0 = int(rng.integers(0, max(0, h - crop_h) + 1))
    out = np.full((crop_h, crop_w, 3), PAD_VALUE, np.uint8)
    win = img[y0:y0 + crop_h, x0:x0 + crop_w]
    out[: win.shape[0], : win.shape[1]] = win
    if len(b) == 0:
        return out, b.reshape(0, 4), labels[:0]
    b = b - np.array([x0, y0, x0, y0], np.float32)
    area = box_area(b, dtype=None)
    clipped = clip_boxes(b, min(crop_w, w - x0), min(crop_h, h - y0))
    size = box_sizes(clipped, dtype=None)
    keep = (size.prod(1) >= min_visible * np.maximum(area, 1e-6)) & (size >= 2).all(1)
    return out, clipped[keep], labels[keep]


def mosaic(samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rng: np.random.Generator, *, imgsz: int,
           crop: int, scale_range: tuple[float, float] = TrainConfig.scale_range, min_visible: float = 0.45,
           centre_range: tuple[float, float] = (0.3, 0.7)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four photos in one ``crop²`` sample (YOLOv4-style mosaic): a random point splits the square into four
    rectangles and each is filled by :func:`scale_and_crop` of one photo (same scale jitter, same rule for boxes
    cut by the window). Objects appear in new contexts and cut at new places, which regularises small data sets.

    Args:
        samples: 4 ``(image (H, W, 3) uint8, boxes (N, 4) xyxy, labels (N,))``, top-left, top-right,
            bottom-left, bottom-right.
        centre_range: the split point, as a fraction of ``crop`` on each axis, is drawn from this range.

    Returns: image (crop, crop, 3) uint8, boxes (M, 4) xyxy, labels (M,).
    """
    expect(len(samples) == 4, "mosaic samples", "4 (image, boxes, labels)", len(samples))
    cx = int(round(crop * rng.uniform(*centre_range)))
    cy = int(round(crop * rng.uniform(*centre_range)))
    out = np.full((crop, crop, 3), PAD_VALUE, np.uint8)
    all_boxes, all_labels = [], []
    cells = [(0, 0, cx, cy), (cx, 0, crop, cy), (0, cy, cx, crop), (cx, cy, crop, crop)]
    for (image, boxes, labels), (x0, y0, x1, y1) in zip(samples, cells):
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        piece, b, lab = scale_and_crop(image, boxes, labels, rng, imgsz=imgsz, crop=(x1 - x0, y1 - y0),
                                       scale_range=scale_range, min_visible=min_visible)
        out[y0:y1, x0:x1] = piece
        all_boxes.append(b + np.array([x0, y0, x0, y0], np.float32))
        all_labels.append(lab)
    return out, np.concatenate(all_boxes).reshape(-1, 4), np.concatenate(all_labels)


def hflip(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = image.shape[1]
    b = boxes.copy()
    b[:, [0, 2]] = w - boxes[:, [2, 0]]
    return np.ascontiguousarray(image[:, ::-1]), b


def color_jitter(image: np.ndarray, rng: np.random.Generator, *, hue: float = 0.015, sat: float = 0.5,
                 val: float = 0.35) -> np.ndarray:
    """Random HSV gain (YOLO-style) on an RGB uint8 image."""
    gains = rng.uniform(-1, 1, 3) * np.array([hue, sat, val]) + 1
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    x = np.arange(256, dtype=np.float32)
    lut_h = ((x * gains[0]) % 180).astype(np.uint8)
    lut_s = np.clip(x * gains[1], 0, 255).astype(np.uint8)
    lut_v = np.clip(x * gains[2], 0, 255).astype(np.uint8)
    hsv = cv2.merge((cv2.LUT(hsv[..., 0], lut_h), cv2.LUT(hsv[..., 1], lut_s), cv2.LUT(hsv[..., 2], lut_v)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
