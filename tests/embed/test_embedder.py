"""CropEmbedder: ImageNet EfficientNet-Lite0 (+ colour) vectors of product crops, on ONNX Runtime and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the core install (no [train] extra): the tests marked torch skip
    torch = None

from shelfscan.counting import default_embedder
from shelfscan.embed import CropEmbedder, crop_boxes
from shelfscan.errors import InputError


@pytest.fixture(scope="module")
def skus():
    """Front images of 6 synthetic SKUs (two look-alike families among them), (160, w, 3) uint8."""
    pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra)")
    from shelfscan.synth import Catalog

    return Catalog.random(3, n_skus=6).textures


def views(texture: np.ndarray, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """n photos of one product: other scale, a little light change and a slight crop."""
    import cv2

    out = []
    for _ in range(n):
        h, w = texture.shape[:2]
        scale = rng.uniform(0.4, 0.9)
        img = cv2.resize(texture, (max(8, int(w * scale)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)
        img = np.clip(img.astype(np.float32) * rng.uniform(0.85, 1.1), 0, 255).astype(np.uint8)
        dy, dx = rng.integers(0, 4, 2)
        out.append(img[dy:img.shape[0] - 2, dx:img.shape[1] - 1])
    return out


def test_unit_vectors_deterministic_and_empty(skus):
    emb = default_embedder()
    a = emb.embed_crops(skus)
    assert a.shape == (6, emb.dim) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, emb.embed_crops(skus))
    assert emb.embed_crops([]).shape == (0, emb.dim)


def test_same_product_is_nearest(skus):
    rng = np.random.default_rng(0)
    crops, ids = [], []
    for sku, tex in enumerate(skus):
        crops += views(tex, rng, 3)
        ids += [sku] * 3
    x = default_embedder().embed_crops(crops)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.asarray(ids)[sim.argmax(1)]
    assert (nearest == np.asarray(ids)).all()


def test_embed_boxes_matches_embed_crops_of_the_boxes(skus):
    canvas = np.full((200, 300, 3), 90, np.uint8)
    canvas[20:180, 10:10 + skus[0].shape[1]] = skus[0]
    canvas[20:180, 150:150 + skus[3].shape[1]] = skus[3]
    boxes = np.array([[10, 20, 10 + skus[0].shape[1], 180], [150, 20, 150 + skus[3].shape[1], 180]], np.float32)
    emb = default_embedder()
    a = emb.embed_boxes(canvas, boxes)
    b = emb.embed_crops([skus[0], skus[3]])
    assert np.allclose(a, b, atol=1e-5)
    assert np.allclose(a, emb.embed_resized(crop_boxes(canvas, boxes, emb.input_size)))


@pytest.mark.torch
def test_torch_backend_matches_onnxruntime(skus):
    ort_emb = CropEmbedder(flip=False, precision="fp32")
    if ort_emb.backend != "onnxruntime":
        pytest.skip("onnxruntime not installed")
    torch_emb = CropEmbedder(backend="torch", flip=False)
    assert torch_emb.backend == "torch"
    # the shipped file stores the weights as float16 (computed in float32): vectors within a few 1e-4
    assert np.allclose(ort_emb.embed_crops(skus), torch_emb.embed_crops(skus), atol=2e-3)
    # the seed recipe's plain average-pooled features: no flip, no colour
    plain = CropEmbedder(backend="torch", pooling="avg", flip=False, colour_weight=0.0)
    assert plain.embed_crops(skus[:2]).shape == (2, 1280)


@pytest.mark.torch
@pytest.mark.skipif(torch is None or not torch.cuda.is_available(), reason="no CUDA device")
def test_gpu_matches_cpu(skus):
    gpu = CropEmbedder(device="cuda")
    assert gpu.backend == "torch"
    assert np.allclose(gpu.embed_crops(skus), CropEmbedder().embed_crops(skus), atol=1e-3)


def test_int8_network_runs_on_the_cpu_and_stays_close_to_fp32(skus):
    rng = np.random.default_rng(1)
    crops = [v for tex in skus for v in views(tex, rng, 2)]
    fp32 = CropEmbedder(flip=False, colour_weight=0.0)
    int8 = CropEmbedder(flip=False, colour_weight=0.0, precision="int8")
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    assert CropEmbedder(precision="auto").precision == "int8"  # on the CPU with the shipped weights
    assert default_embedder().precision == "int8"  # counting's network (the pair: int8 at every precision)
    a, b = fp32.embed_crops(crops), int8.embed_crops(crops)
    cos = (a * b).sum(1)
    assert cos.mean() > 0.97 and cos.min() > 0.9, cos  # 8 bits move the vectors, a little
    assert not np.allclose(a, b, atol=1e-4)  # ... so it is another network, not the fp32 file again
    nearest = []
    for x in (a, b):
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        nearest.append(sim.argmax(1))
    assert np.array_equal(nearest[0], nearest[1])  # each crop's nearest crop is the one fp32 finds
    ids = np.repeat(np.arange(len(skus)), 2)
    with_colour = CropEmbedder(flip=False, precision="int8").embed_crops(crops)
    sim = with_colour @ with_colour.T
    np.fill_diagonal(sim, -np.inf)
    assert (ids[sim.argmax(1)] == ids).all()  # with the label colours: the other view of the same product


def test_int8_only_where_it_ships():
    with pytest.raises(InputError, match="precision 'int8'.*backend 'torch'"):
        CropEmbedder(backend="torch", precision="int8")
    with pytest.raises(InputError, match="precision 'int8'.*weights"):
        CropEmbedder(weights="my_weights.pth", precision="int8")
    with pytest.raises(InputError, match="precision"):
        CropEmbedder(precision="fp16")


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="input_size"):
        CropEmbedder(input_size=16)
    with pytest.raises(InputError, match="backend"):
        CropEmbedder(backend="tensorrt")
    with pytest.raises(InputError, match="pooling"):
        CropEmbedder(pooling="max")
    with pytest.raises(InputError, match="device"):
        CropEmbedder(device="gpu0")
    with pytest.raises(InputError, match="embed_resized crops"):
        default_embedder().embed_resized(np.zeros((2, 50, 50, 3), np.uint8))


@pytest.mark.torch
def test_lukemelas_state_dict_round_trips_changed_weights(tmp_path):
    from shelfscan.embed.trunk import FeatureTrunk, lukemelas_state_dict

    trunk = FeatureTrunk().eval()
    with torch.no_grad():
        trunk.net.blocks[5][0].conv_pw.weight.mul_(1.5)  # a trained trunk differs from ImageNet
    path = tmp_path / "trained.pt"
    torch.save(lukemelas_state_dict(trunk), path)
    x = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        assert torch.allclose(FeatureTrunk(path).eval()(x), trunk(x), atol=1e-5)
        assert not torch.allclose(FeatureTrunk().eval()(x), trunk(x), atol=1e-3)


@pytest.mark.torch
def test_export_with_float16_weights_halves_the_file_and_keeps_the_features():
    import onnxruntime as ort

    from shelfscan.embed.trunk import export_embedder

    full, half = export_embedder(), export_embedder(half=True)
    assert len(half) < 0.55 * len(full)
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 64, 64)).astype(np.float32)
    outs = [ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"crops": x})[0]
            for m in (full, half)]
    assert outs[1].dtype == np.float32 and outs[0].shape == outs[1].shape == (2, 1280, 2, 2)
    assert np.allclose(outs[0], outs[1], atol=2e-2 * float(np.abs(outs[0]).max()))
    assert not np.array_equal(outs[0], outs[1])  # the weights were rounded: another file, not a copy
