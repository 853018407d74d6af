"""Random views of stored product crops for training the crop embedder: what changes between two facings of one
product on a real shelf photo (the detector's box a little off, lighting, resolution, mirror image), and nothing
that tells two flavours apart (no hue change).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import roi_align


@dataclass(frozen=True)
class ViewConfig:
    """Ranges of the random changes of :func:`random_views`."""

    size: int = 112  # output side, the embedder's input_size
    shift: float = 0.06  # box centre moved by up to this fraction of its size
    scale: tuple[float, float] = (0.9, 1.1)  # box width and height scaled independently
    brightness: tuple[float, float] = (0.7, 1.3)
    contrast: tuple[float, float] = (0.8, 1.2)
    channel_gain: float = 0.05  # per-channel gain within 1 +- this (white balance, not hue)
    low_res: float = 0.5  # probability of a lower-resolution view
    low_res_side: tuple[int, int] = (28, 96)
    flip: float = 0.5


def _uniform(n: int, lo: float, hi: float, generator: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=generator)


def jittered_boxes(n: int, box: tuple[float, float], config: ViewConfig, generator: torch.Generator) -> torch.Tensor:
    """(n, 4) xyxy boxes around the stored box ``box`` = (start, end) of each side, moved and scaled at random."""
    start, end = box
    side, centre = end - start, (start + end) / 2
    c = centre + side * config.shift * (2 * torch.rand(n, 2, generator=generator) - 1)
    half = side / 2 * _uniform(2 * n, *config.scale, generator).view(n, 2)
    return torch.cat([c - half, c + half], 1)


def random_views(windows: torch.Tensor, box: tuple[float, float], config: ViewConfig,
                 generator: torch.Generator) -> torch.Tensor:
    """One random view of each stored window.

    Args:
        windows: uint8 (B, W, W, 3) RGB windows (a box with context around it).
        box: (start, end) of the box inside each window, pixels (``crop_bank.box_in_window``).

    Returns:
        float32 (B, 3, S, S) RGB on 0..255, S = ``config.size``.
    """
    b = len(windows)
    x = windows.permute(0, 3, 1, 2).float()
    rois = torch.cat([torch.arange(b, dtype=torch.float32)[:, None], jittered_boxes(b, box, config, generator)], 1)
    out = roi_align(x, rois, (config.size, config.size), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    low = torch.rand(b, generator=generator) < config.low_res
    if low.any():
        side = int(torch.randint(config.low_res_side[0], config.low_res_side[1] + 1, (1,), generator=generator))
        small = torch.nn.functional.interpolate(out[low], size=(side, side), mode="area")
        out[low] = torch.nn.functional.interpolate(small, size=(config.size, config.size), mode="bilinear",
                                                   align_corners=False)
    mean = out.mean((1, 2, 3), keepdim=True)
    contrast = _uniform(b, *config.contrast, generator).view(b, 1, 1, 1)
    gain = _uniform(b, *config.brightness, generator).view(b, 1, 1, 1)
    channel = _uniform(3 * b, 1 - config.channel_gain, 1 + config.channel_gain, generator).view(b, 3, 1, 1)
    out = ((out - mean) * contrast + mean) * gain * channel
    flip = torch.rand(b, generator=generator) < config.flip
    out[flip] = out[flip].flip(-1)
    return out.clamp(0, 255)
