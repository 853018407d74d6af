"""ONNX export (one self-contained file, names, metadata) and ONNX Runtime vs PyTorch on the same inputs.

One tiny random model is exported once (through ``shelfscan export``) for the whole module: the dynamo exporter
takes tens of seconds even for a small graph. Its head outputs are scaled up so that scores spread out and
detections are not all ties.
"""
import functools
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from shelfscan.cli import main  # noqa: E402
from shelfscan.data.images import find_images, read_image  # noqa: E402
from shelfscan.errors import InputError  # noqa: E402
from shelfscan.export import OUTPUT_NAMES, OnnxDetectorModel, weights_to_float16  # noqa: E402
from shelfscan.inference import Detector  # noqa: E402
from shelfscan.models.checkpoint import load_detector, save_checkpoint  # noqa: E402
from shelfscan.models.detector import DetectorConfig, ShelfDetector  # noqa: E402
from shelfscan.models.predict import blend_scores  # noqa: E402
from shelfscan.synth import render_shelf  # noqa: E402

IMGSZ = 320


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(torch model, path of the .onnx written by `shelfscan export`)."""
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["cola", "water"], width=16, head_depth=1, imgsz=640,
                                       hard_score_rate=0.4), pretrained_backbone=False)
    with torch.no_grad():  # a random head answers ~0 everywhere; spread its logits out
        for head in net.heads:
            head.cls_out.weight.normal_(0, 20.0)
            head.iou_out.weight.normal_(0, 20.0)
    root = tmp_path_factory.mktemp("onnx")
    ckpt = save_checkpoint(root / "tiny.pt", net)
    out = root / "model" / "tiny.onnx"
    assert main(["export", "--model", str(ckpt), "--out", str(out), "--imgsz", str(IMGSZ)]) == 0
    return load_detector(ckpt), out


@pytest.fixture(scope="module")
def session(exported):
    """The exported file loaded once in ONNX Runtime (loading takes about a second)."""
    return OnnxDetectorModel(exported[1])


@functools.lru_cache(maxsize=None)
def photos(source: str) -> tuple[np.ndarray, ...]:
    """Two synthetic shelves, or the first photo of a shared real data set (``source``, path under SHARED_DATA)."""
    if source == "synthetic":
        return tuple(render_shelf(s, width=640)[0] for s in (1, 2))
    return (read_image(find_images([source])[0]),)


def scaled_input(image: np.ndarray, side: int = IMGSZ) -> np.ndarray:
    """RGB (H, W, 3) -> float32 (1, 3, h, w), longest side ``side``, both sides multiples of 32 (crop)."""
    import cv2

    s = side / max(image.shape[:2])
    small = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)), interpolation=cv2.INTER_AREA)
    h, w = small.shape[0] // 32 * 32, small.shape[1] // 32 * 32
    return np.ascontiguousarray(small[:h, :w].transpose(2, 0, 1)[None], dtype=np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod((rb - lt).clip(0), -1)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], -1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None] - inter + 1e-9)


def unmatched(a, b, score_tol: float = 1e-3) -> np.ndarray:
    """Indices of boxes of ``a`` with no box of ``b`` of the same class, a score within ``score_tol`` and the same
    place: IoU > 0.99, or every side within 0.05 px (boxes clipped to zero width at the border have IoU 0)."""
    if len(a) == 0:
        return np.zeros(0, int)
    if len(b) == 0:
        return np.arange(len(a))
    same_place = (box_iou(a.xyxy, b.xyxy) > 0.99) | (np.abs(a.xyxy[:, None] - b.xyxy[None]).max(-1) < 0.05)
    ok = same_place & (np.abs(a.scores[:, None] - b.scores[None]) < score_tol)
    ok &= a.class_id[:, None] == b.class_id[None]
    return np.nonzero(~ok.any(1))[0]


def test_file_is_self_contained_with_names_and_metadata(exported):
    _, path = exported
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.onnx"]  # no tiny.onnx.data
    proto = onnx.load(str(path), load_external_data=False)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    assert len(proto.graph.initializer) > 50
    assert [i.name for i in proto.graph.input] == ["images"]
    assert [o.name for o in proto.graph.output] == list(OUTPUT_NAMES)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == 3 and all(d.dim_param for d in (dims[0], dims[2], dims[3]))  # B, H, W dynamic
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["class_names"]) == ["cola", "water"]
    assert meta["imgsz"] == str(IMGSZ) and float(meta["mean"]) == 127.0 and float(meta["std"]) == 128.0
    assert float(meta["hard_score_rate"]) == 0.4 and meta["weights"] == "float32"
    assert set(json.loads(meta["output_layout"])) == set(OUTPUT_NAMES)
    config = OnnxDetectorModel(path).config
    assert config.class_names == ["cola", "water"] and config.imgsz == IMGSZ and config.hard_score_rate == 0.4


def test_raw_outputs_match_pytorch(exported, session):
    net, _ = exported
    x = scaled_input(photos("synthetic")[0])
    x2 = np.concatenate([x, x[:, :, :, ::-1]]).copy()  # batch of 2, another shape than the export example
    for batch in (x, x2[:, :, :224, :160]):
        got = session.run(batch)
        with torch.no_grad():
            ref = net(torch.from_numpy(batch))
        assert got["boxes"].shape == tuple(ref["boxes"].shape)
        np.testing.assert_allclose(got["boxes"], ref["boxes"].numpy(), atol=2e-3, rtol=1e-4)
        np.testing.assert_allclose(got["cls_scores"], ref["cls_logits"].sigmoid().numpy(), atol=1e-5)
        np.testing.assert_allclose(got["iou_scores"], ref["iou_logits"].sigmoid().numpy(), atol=1e-5)
        blended = blend_scores(ref["cls_logits"], ref["iou_logits"], 0.4).numpy()
        np.testing.assert_allclose(got["scores"], blended, atol=1e-5)
    assert got["scores"].std() > 0.01  # the scaled-up head gives a real spread of scores


@pytest.mark.parametrize("source,tile", [("synthetic", None), ("synthetic", 192), ("grocery-shelves", None)])
def test_detections_match_as_sets(exported, session, shared, source, tile):
    net, _ = exported
    images = photos("synthetic" if source == "synthetic" else str(shared(source) / "images"))
    for image in images:
        with torch.no_grad():  # a threshold that keeps 10% of the anchor points
            ref = net(torch.from_numpy(scaled_input(image)))
        conf = float(np.quantile(blend_scores(ref["cls_logits"], ref["iou_logits"], 0.4).amax(-1).numpy(), 0.9))
        a = Detector(net, imgsz=IMGSZ, conf=conf, tile=tile).predict(image)
        b = Detector(session, imgsz=IMGSZ, conf=conf, tile=tile).predict(image)
        assert 10 < len(a) < 1000, len(a)  # neither empty nor cut by max_det
        for x, y in ((a, b), (b, a)):  # matched sets: top-k and NMS may order ties differently
            missing = unmatched(x, y)
            assert np.all(np.abs(x.scores[missing] - conf) < 1e-4), (len(missing), x.scores[missing][:5])
        assert abs(len(a) - len(b)) <= max(1, len(a) // 100)
        np.testing.assert_allclose(np.sort(a.data["iou_score"]), np.sort(b.data["iou_score"]), atol=1e-3)


def test_half_weights_halve_the_file_and_keep_outputs(exported, session, tmp_path):
    _, path = exported
    proto = onnx.load(str(path))
    weights_to_float16(proto)
    half = tmp_path / "half.onnx"
    onnx.save_model(proto, str(half), save_as_external_data=False)
    assert half.stat().st_size < 0.6 * path.stat().st_size
    x = scaled_input(photos("synthetic")[1])
    small = OnnxDetectorModel(half)
    assert small.metadata["weights"].startswith("float16")
    got, ref = small.run(x), session.run(x)
    assert all(got[k].dtype == np.float32 for k in OUTPUT_NAMES)
    np.testing.assert_allclose(got["scores"], ref["scores"], atol=0.02)
    rel = np.abs(got["boxes"] - ref["boxes"]).max() / np.abs(ref["boxes"]).max()
    assert 0 < rel < 0.02  # float16 weights change the numbers, but only a little


def test_detect_cli_runs_onnx(exported, tmp_path):
    from PIL import Image

    from shelfscan.data.predictions import read_predictions_csv

    _, path = exported
    Image.fromarray(render_shelf(5, width=480)[0]).save(tmp_path / "shelf.jpg")
    out = tmp_path / "p.csv"
    assert main(["detect", str(tmp_path / "shelf.jpg"), "--model", str(path), "--out", str(out), "--conf", "0.0",
                 "--max-det", "9", "--threads", "1"]) == 0
    det = read_predictions_csv(out)["shelf.jpg"]
    assert len(det) == 9 and set(det.labels) <= {"cola", "water"}


def test_bad_inputs(tmp_path, exported):
    from shelfscan.export import export_onnx

    net, path = exported
    bad = tmp_path / "notes.onnx"
    bad.write_text("not a model")
    with pytest.raises(InputError, match="ONNX Runtime cannot load"):
        Detector(str(bad))
    with pytest.raises(InputError, match="multiple of 32"):
        export_onnx(net, tmp_path / "m.onnx", imgsz=100)
    with pytest.raises(InputError, match="ending in .onnx"):
        export_onnx(net, tmp_path / "m.pt")
    with pytest.raises(InputError, match="expected 'cpu' or 'cuda"):
        OnnxDetectorModel(path, device="tpu")
