"""MobileNetV2 trunk (torchvision's ``mobilenet_v2().features``) with the COCO-trained weights of TensorFlow's
``ssd_mobilenet_v2_coco_2018_03_29`` (:mod:`shelfscan.models.mobilenet_v2_coco`), behaving as the TF graph does:

- input ``x / 127.5 - 1`` on RGB 0..255 (the graph's ``Preprocessor``: ``x * 0.00784314 - 1``);
- BatchNorm eps 1e-3 (torchvision's default is 1e-5);
- TF ``"SAME"`` padding on the five stride-2 3×3 convs: for an even input side it pads one pixel right/bottom
  only (PyTorch's ``padding=1`` pads both sides and shifts the sampling grid by one pixel). Those convs pad
  explicitly, ``F.pad(x, (0, 1, 0, 1))``, with ``padding=0``. Exact for inputs whose sides are multiples of 32
  (every stride-2 conv then sees an even side), which the detector requires anyway.

Stages (the same grouping as EfficientNet-Lite's 7 stages, so ``frozen_stages`` means the same thing):
stem ``features[0]``; stages 0-6 ``[1]``, ``[2:4]``, ``[4:7]``, ``[7:11]``, ``[11:14]``, ``[14:17]``, ``[17]``;
then ``features[18]`` (TF ``Conv_1``, 320 -> 1280 1×1), counted as stage 7 for freezing.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from shelfscan.models.config import DetectorConfig

STAGES = ((1, 2), (2, 4), (4, 7), (7, 11), (11, 14), (14, 17), (17, 18), (18, 19))  # [start, end) of features
# stride 8: features[6] (32 ch, end of stage 2); 16: features[13] (96, end of stage 4); 32: features[18] (TF
# Conv_1, 1280: the map the COCO box predictor read, instead of the 320-channel features[17])
TAPS = (6, 13, 18)
TAP_CHANNELS = (32, 96, 1280)
PIXEL_SCALE = 127.5


class TFSameConv2d(nn.Conv2d):
    """A stride-2 3×3 ``nn.Conv2d`` with TF ``"SAME"`` padding for even input sides: zero pad one column right and
    one row bottom, then convolve unpadded. Same parameters (and state_dict keys) as the conv it replaces.

    Shapes: (B, C, H, W), H and W even -> (B, out_channels, H/2, W/2)."""

    @classmethod
    def replacing(cls, conv: nn.Conv2d) -> "TFSameConv2d":
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=0,
                  groups=conv.groups, bias=conv.bias is not None)
        new.load_state_dict(conv.state_dict())
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (0, 1, 0, 1)))


def tf_same_padding(features: nn.Module) -> int:
    """Swap every stride-2 3×3 conv inside ``features`` for a :class:`TFSameConv2d` (in place); returns how many
    (5 in MobileNetV2)."""
    swapped = 0
    for parent in list(features.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Conv2d and child.stride == (2, 2) and child.kernel_size == (3, 3):
                setattr(parent, name, TFSameConv2d.replacing(child))
                swapped += 1
    return swapped


def mobilenet_v2_trunk(bn_eps: float = 1e-3) -> nn.Sequential:
    """torchvision ``mobilenet_v2(weights=None).features`` with TF padding and BatchNorm ``eps`` (no weights)."""
    import torchvision

    features = torchvision.models.mobilenet_v2(weights=None).features
    if tf_same_padding(features) != 5:
        raise RuntimeError("torchvision mobilenet_v2: expected 5 stride-2 3x3 convs (an incompatible version)")
    for m in features.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = bn_eps
    return features


class MobileNetV2Features(nn.Module):
    """MobileNetV2 trunk returning the stride-8/16/32 maps, COCO-pretrained (``--backbone mobilenet_v2_coco``).

    Args:
        pretrained: load the converted COCO weights (see
            :func:`~shelfscan.models.mobilenet_v2_coco.coco_weights_path`; nothing is downloaded).
        weights_path: explicit converted file (``scripts/convert_mobilenet_v2_coco.py``).
        frozen_stages: stem plus this many leading stages (see the module docstring; 8 = everything) get no
            gradient and keep their BatchNorm statistics fixed.

    Shapes: ``forward(x)`` with x (B, 3, H, W) normalised by :meth:`normalize` (``x / 127.5 - 1``), H and W multiples
    of 32 -> [(B, 32, H/8, W/8), (B, 96, H/16, W/16), (B, 1280, H/32, W/32)].
    """

    strides = (8, 16, 32)
    out_channels = TAP_CHANNELS
    pixel_mean = PIXEL_SCALE
    pixel_std = PIXEL_SCALE

    def __init__(self, pretrained: bool = True, weights_path: str | Path | None = None,
                 frozen_stages: int = DetectorConfig.frozen_stages) -> None:
        super().__init__()
        self.features = mobilenet_v2_trunk()
        if pretrained:
            from shelfscan.models.mobilenet_v2_coco import load_coco_weights

            state, eps = load_coco_weights(weights_path)
            for m in self.features.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eps = eps
            self.features.load_state_dict(state)
        self.frozen_stages = frozen_stages
        for p in self._frozen().parameters():
            p.requires_grad_(False)

    def _frozen(self) -> nn.Sequential:
        end = 1 if self.frozen_stages <= 0 else STAGES[min(self.frozen_stages, len(STAGES)) - 1][1]
        return self.features[:end] if self.frozen_stages >= 0 else nn.Sequential()

    def train(self, mode: bool = True) -> "MobileNetV2Features":
        super().train(mode)
        if mode:
            self._frozen().eval()
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                feats.append(x)
        return feats
