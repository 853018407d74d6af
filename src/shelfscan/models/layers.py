"""Small convolution blocks shared by the neck and the head (CPU-friendly: depthwise-separable, BN, ReLU)."""
from __future__ import annotations

from torch import nn


class ConvBNAct(nn.Sequential):
    """k×k convolution → BatchNorm → ReLU. ``groups=in_ch`` makes it depthwise."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )


class SepConv(nn.Sequential):
    """Depthwise k×k (stride s) then pointwise 1×1, each with BN and ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__(ConvBNAct(in_ch, in_ch, kernel, stride, groups=in_ch), ConvBNAct(in_ch, out_ch, 1))
