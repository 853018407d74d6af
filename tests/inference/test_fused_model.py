"""A fused shipped model (table entry with ``passes``): Detector runs each pass and fuses their boxes."""
import numpy as np
import pytest

from shelfscan.errors import InputError
from shelfscan.inference import Detector
from shelfscan.models import shipped
from shelfscan.models.shipped import Pass, ShippedModel
from shelfscan.postprocess.fusion import fuse_passes


def _photo() -> np.ndarray:
    """600 x 400 RGB of coloured blocks on grey, made with numpy alone (the core install has no OpenCV): any
    content gives boxes at conf 0.01."""
    rng = np.random.default_rng(5)
    img = np.full((400, 600, 3), 128, np.uint8)
    for _ in range(14):
        x, y = rng.integers(0, 540), rng.integers(0, 340)
        w, h = rng.integers(30, 200), rng.integers(30, 260)
        img[y:y + h, x:x + w] = rng.integers(0, 256, 3)
    return img


def _as_part(d) -> dict:
    return {"boxes": d.xyxy, "scores": d.scores, "labels": d.class_id, "iou_scores": d.data["iou_score"]}


@pytest.fixture
def fused_entry(monkeypatch):
    if not shipped.SHIPPED_MODELS["apparel"].onnx_path.is_file():
        pytest.skip("the shipped apparel network is not installed")
    pytest.importorskip("onnxruntime")
    passes = (Pass("apparel.pt", 384), Pass("apparel.pt", 512, mirror=True))
    entry = ShippedModel("apparel.pt", imgsz=None, noun="items", passes=passes, fusion_iou=0.6)
    monkeypatch.setitem(shipped.SHIPPED_MODELS, "fused_test", entry)
    return entry


def test_a_fused_model_is_the_fusion_of_its_passes(fused_entry):
    photo = _photo()
    det = Detector("fused_test", conf=0.01, max_det=100, threads=1)
    got = det.predict(photo)
    parts = [_as_part(Detector(shipped.WEIGHTS_DIR / "apparel.onnx", imgsz=p.imgsz, tta=p.mirror, conf=0.01,
                               max_det=100, threads=1).predict(photo)) for p in fused_entry.passes]
    want = fuse_passes(parts, iou=0.6, max_det=100)
    assert len(got) > 0 and got.metadata["passes"] == 2 and got.metadata["imgsz"] == 384 == det.imgsz
    np.testing.assert_allclose(got.xyxy, want["boxes"], atol=1e-4)
    np.testing.assert_allclose(got.scores, want["scores"], atol=1e-6)
    np.testing.assert_array_equal(got.class_id, want["labels"])
    assert det.class_names == Detector("apparel").class_names and det.fusion_iou == 0.6


def test_an_imgsz_given_runs_every_pass_at_it(fused_entry):
    photo = _photo()
    got = Detector("fused_test", imgsz=448, conf=0.01, max_det=100, threads=1).predict(photo)
    parts = [_as_part(Detector(shipped.WEIGHTS_DIR / "apparel.onnx", imgsz=448, tta=p.mirror, conf=0.01,
                               max_det=100, threads=1).predict(photo)) for p in fused_entry.passes]
    want = fuse_passes(parts, iou=0.6, max_det=100)
    assert got.metadata["imgsz"] == 448
    np.testing.assert_allclose(got.xyxy, want["boxes"], atol=1e-4)


def test_networks_with_other_classes_are_refused(monkeypatch, fused_entry):
    if not shipped.SHIPPED_MODELS["shelf"].onnx_path.is_file():
        pytest.skip("the shipped shelf network is not installed")
    bad = ShippedModel("apparel.pt", imgsz=None, passes=(Pass("apparel.pt", 512), Pass("shelf.pt", 512)))
    monkeypatch.setitem(shipped.SHIPPED_MODELS, "fused_bad", bad)
    with pytest.raises(InputError, match="same class names"):
        Detector("fused_bad")


def test_a_missing_pass_network_is_named(monkeypatch, fused_entry):
    bad = ShippedModel("apparel.pt", imgsz=None, passes=(Pass("apparel.pt", 512), Pass("nowhere.pt", 512)))
    monkeypatch.setitem(shipped.SHIPPED_MODELS, "fused_missing", bad)
    with pytest.raises(InputError, match="nowhere.onnx"):
        Detector("fused_missing")


def test_files_lists_each_network_once():
    entry = ShippedModel("a.pt", imgsz=None, passes=(Pass("b.pt", 448), Pass("a.pt", 512), Pass("b.pt", 640)))
    assert [f.name for f in entry.files()] == ["b.onnx", "a.onnx"]
    assert [f.name for f in ShippedModel("a.pt", imgsz=None).files("fp32")] == ["a.onnx"]


def test_the_batch_model_id_of_a_fused_model_covers_every_network(fused_entry, monkeypatch):
    import hashlib

    from shelfscan.batch.settings import file_sha256, model_id

    digest = file_sha256(shipped.WEIGHTS_DIR / "apparel.onnx")[:12]
    assert model_id("fused_test") == f"fused_test@{hashlib.sha256(digest.encode()).hexdigest()[:12]}"


def test_the_shipped_apparel_model_fuses_two_networks_whose_threads_sleep():
    entry = shipped.SHIPPED_MODELS["apparel"]
    if not all(f.is_file() for f in entry.files()):
        pytest.skip("the shipped apparel networks are not installed")
    pytest.importorskip("onnxruntime")
    det = Detector("apparel")
    nets = {id(p.model): p.model for p in det.passes}
    assert len(det.passes) == len(entry.passes) == 6 and len(nets) == 2
    assert sorted(n.path.name for n in nets.values()) == ["apparel.onnx", "apparel_coco.onnx"]
    for net in nets.values():  # sessions that take turns: idle threads must not spin
        opts = net.session.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    one = Detector(shipped.WEIGHTS_DIR / "apparel.onnx").model.session.get_session_options()
    with pytest.raises(RuntimeError):  # a lone session: ONNX Runtime's default (spinning), no entry set
        one.get_session_config_entry("session.intra_op.allow_spinning")
