"""The paired crop network counting runs (ImageNet + shelf-trained trunks in one graph), on numpy-made crops (no
OpenCV needed), and the PairedTrunk it is exported from."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from shelfscan.counting import COUNT_NETWORK, count_embedder, default_embedder
from shelfscan.embed import IMAGENET, PAIR, CropEmbedder
from shelfscan.errors import InputError

try:
    import torch
except ImportError:  # the core install: the tests marked torch skip
    torch = None


def product(seed: int) -> np.ndarray:
    """A (120, 60, 3) uint8 'package': two colour bands and a stripe pattern chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    img = np.empty((120, 60, 3), np.uint8)
    img[:60], img[60:] = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    period = int(rng.integers(4, 12))
    img[:, (np.arange(60) // period) % 2 == 0] //= 2
    return img


@pytest.fixture(scope="module")
def crops() -> tuple[list[np.ndarray], np.ndarray]:
    """Three photos of each of five packages: slightly cropped and lit differently."""
    rng = np.random.default_rng(10)
    items, ids = [], []
    for k in range(5):
        for _ in range(3):
            dy, dx = rng.integers(0, 6, 2)
            img = product(k)[dy:110 + dy // 2, dx:55 + dx // 2] * rng.uniform(0.85, 1.15)
            items.append(np.clip(img, 0, 255).astype(np.uint8))
            ids.append(k)
    return items, np.asarray(ids)


def test_a_pair_vector_is_imagenets_joined_with_the_shelf_networks(crops):
    pair, imagenet = CropEmbedder(network=PAIR, flip=False, precision="int8"), CropEmbedder(flip=False)
    x, ref = pair.embed_crops(crops[0]), imagenet.embed_crops(crops[0])
    assert x.shape == (15, 2 * 1408) == (15, pair.dim) and x.dtype == np.float32 and pair.precision == "int8"
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    first, second = x[:, :1408] * np.sqrt(2), x[:, 1408:] * np.sqrt(2)  # two unit rows joined 1 : 1
    assert np.allclose(np.linalg.norm(second, axis=1), 1.0, atol=1e-5)
    cos = (first * ref).sum(1)
    assert cos.mean() > 0.97 and cos.min() > 0.9, cos  # ImageNet's trunk (in int8 here, fp32 there)
    assert (second * ref).sum(1).mean() < 0.95  # the fine-tuned trunk: not ImageNet's vectors again
    no_colour = CropEmbedder(network=PAIR, flip=False, colour_weight=0.0, precision="auto")
    assert no_colour.dim == 2 * 1280 and no_colour.embed_crops(crops[0][:2]).shape == (2, 2560)
    assert pair.embed_crops([]).shape == (0, pair.dim)


def test_count_embeds_with_the_pair_in_int8(crops):
    emb = default_embedder()
    assert COUNT_NETWORK is PAIR and emb.network is PAIR and emb.precision == "int8" and not emb.flip
    assert default_embedder(precision="fp32").precision == "int8"  # the pair ships as int8 only
    x = emb.embed_crops(crops[0])
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    assert (crops[1][sim.argmax(1)] == crops[1]).all()  # each photo's nearest crop: another photo of its package
    one = count_embedder(IMAGENET, precision="fp32")
    assert one.network is IMAGENET and one.dim == 1408 and "network='imagenet'" in repr(one)


def test_the_pair_runs_on_the_cpu_only():
    with pytest.raises(InputError, match="network 'imagenet\\+shelf': expected precision 'int8' or 'auto'.*'fp32'"):
        CropEmbedder(network=PAIR)  # CropEmbedder's default precision is fp32
    with pytest.raises(InputError, match="network 'imagenet\\+shelf'.*ONNX only"):
        CropEmbedder(network=PAIR, backend="torch", precision="int8")
    with pytest.raises(InputError, match="network 'imagenet\\+shelf'.*device 'cuda'"):
        CropEmbedder(network=PAIR, device="cuda")
    with pytest.raises(InputError, match="network 'imagenet\\+shelf'.*weights"):
        CropEmbedder(network=PAIR, weights="mine.pt")
    with pytest.raises(InputError, match="network: expected a CropNetwork"):
        CropEmbedder(network="imagenet+shelf")
    assert count_embedder(device="cuda").device == "cpu"  # counting keeps the pair on the CPU


@pytest.mark.torch
def test_paired_trunk_computes_the_shared_layers_once_and_refuses_other_stems():
    from shelfscan.embed.trunk import FeatureTrunk, PairedTrunk

    a = FeatureTrunk().eval()
    b = copy.deepcopy(a)
    with torch.no_grad():
        b.net.blocks[4][0].conv_pw.weight.mul_(1.3)  # fine-tuned after the first two stages
    x = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        out = PairedTrunk(a, b).eval()(x)
        assert out.shape == (2, 2560, 2, 2)
        assert torch.allclose(out[:, :1280], a(x), atol=1e-5) and torch.allclose(out[:, 1280:], b(x), atol=1e-5)
        b.net.blocks[1][0].conv_pw.weight.mul_(1.1)  # now the second stage differs too
    with pytest.raises(InputError, match="share the stem and first 2 stages"):
        PairedTrunk(a, b)
