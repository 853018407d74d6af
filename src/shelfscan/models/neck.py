"""PAN neck: top-down then bottom-up fusion of the stride-8/16/32 maps into ``width`` channels each."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shelfscan.models.layers import ConvBNAct, SepConv


class PAN(nn.Module):
    """Path-aggregation neck.

    Args:
        in_channels: channels of the input maps, finest first (e.g. (40, 112, 320)).
        width: channels of every output map.

    Shapes: list of (B, in_channels[i], H_i, W_i) -> list of (B, width, H_i, W_i), same strides.
    """

    def __init__(self, in_channels: tuple[int, ...], width: int = 64) -> None:
        super().__init__()
        n = len(in_channels)
        self.lateral = nn.ModuleList(ConvBNAct(c, width, 1) for c in in_channels)
        self.top_down = nn.ModuleList(SepConv(width, width) for _ in range(n - 1))
        self.down = nn.ModuleList(SepConv(width, width, stride=2) for _ in range(n - 1))
        self.bottom_up = nn.ModuleList(SepConv(width, width) for _ in range(n - 1))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        lat = [layer(f) for layer, f in zip(self.lateral, feats)]
        # top-down: coarse to fine
        td = [lat[-1]]
        for i in range(len(lat) - 2, -1, -1):
            up = F.interpolate(td[0], size=lat[i].shape[-2:], mode="nearest")
            td.insert(0, self.top_down[i](lat[i] + up))
        # bottom-up: fine to coarse
        out = [td[0]]
        for i in range(1, len(td)):
            down = self.down[i - 1](out[-1])
            if down.shape[-2:] != td[i].shape[-2:]:
                down = F.interpolate(down, size=td[i].shape[-2:], mode="nearest")
            out.append(self.bottom_up[i - 1](td[i] + down))
        return out
