"""Routes of the live camera page (no browser): isolation headers, service worker, manifest, safe file lookup."""
import json

import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

pytest.importorskip("fastapi")
pytest.importorskip("onnx")
from fastapi.testclient import TestClient  # noqa: E402

from shelfscan.models.checkpoint import WEIGHTS_DIR  # noqa: E402
from shelfscan.inference import Detector  # noqa: E402
from shelfscan.models.detector import DetectorConfig, ShelfDetector  # noqa: E402
from shelfscan.serve import create_app, web  # noqa: E402


@pytest.fixture(scope="module")
def tiny_onnx():
    """A tiny random detector, and the shipped shelf model's ONNX file as the page's model (exporting one here
    would cost a minute; the export itself is tested in tests/export)."""
    path = WEIGHTS_DIR / "shelf.onnx"
    if not path.is_file():
        pytest.skip(f"shipped ONNX model not found at {path}")
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["object"], width=16, head_depth=1, imgsz=256),
                        pretrained_backbone=False).eval()
    return net, path


@pytest.fixture(scope="module")
def client(tiny_onnx):
    net, path = tiny_onnx
    return TestClient(create_app(Detector(net, conf=0.0, max_det=5), live_models={"tiny": path}))


def test_live_page_is_cross_origin_isolated(client):
    res = client.get("/live")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert res.headers["cross-origin-opener-policy"] == "same-origin"
    assert res.headers["cross-origin-embedder-policy"] == "require-corp"
    assert "'wasm-unsafe-eval'" in res.headers["content-security-policy"]
    assert '<script type="module" src="/static/live.js">' in res.text
    for path in ("/static/live.js", "/live/config.json", "/manifest.webmanifest", "/sw.js", "/models/tiny.onnx"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cross-origin-embedder-policy"] == "require-corp", path


def test_config_names_the_models_with_their_classes(client, tiny_onnx):
    cfg = client.get("/live/config.json").json()
    # class names and working size come from the ONNX file's metadata
    assert cfg["models"] == [{"name": "tiny", "url": "/models/tiny.onnx", "class_names": ["object"],
                              "noun": "products", "imgsz": 1024, "bytes": tiny_onnx[1].stat().st_size}]
    assert client.get("/models/tiny.onnx").content == tiny_onnx[1].read_bytes()


def test_service_worker_precaches_what_the_page_needs(client):
    sw = client.get("/sw.js")
    assert sw.headers["cache-control"] == "no-cache"
    text = sw.text
    assert "__PRECACHE__" not in text and "__CACHE_VERSION__" not in text
    precache = json.loads(text.split("const PRECACHE = ")[1].split(";\n")[0])
    assert {"/live", "/static/live.js", "/live/config.json", "/models/tiny.onnx"} <= set(precache)
    assert all(client.get(url).status_code == 200 for url in precache if not url.startswith("/vendor/"))


def test_manifest_is_an_installable_pwa(client):
    m = client.get("/manifest.webmanifest").json()
    assert m["start_url"] == "/live" and m["display"] == "standalone"
    sizes = {icon["sizes"] for icon in m["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        res = client.get(icon["src"])
        assert res.status_code == 200 and res.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path", ["/vendor/ort/..%2F..%2F__init__.py", "/vendor/ort/nothing.wasm",
                                  "/models/..%2Fshelf.onnx", "/models/shelf2.onnx", "/static/..%2Fapp.py.png"])
def test_no_file_system_paths_from_requests(client, path):
    res = client.get(path)
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/json")


def test_missing_runtime_gives_a_hint(tiny_onnx, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "VENDOR_DIR", tmp_path / "absent")
    net, path = tiny_onnx
    client = TestClient(create_app(Detector(net), live_models={"tiny": path}))
    cfg = client.get("/live/config.json").json()
    assert cfg["runtime_ready"] is False and "make web" in cfg["hint"]
    res = client.get("/vendor/ort/ort.min.mjs")
    assert res.status_code == 404 and "make web" in res.json()["error"]


def test_bad_live_model_is_refused_at_start(tiny_onnx, tmp_path):
    from shelfscan.errors import InputError

    net, path = tiny_onnx
    with pytest.raises(InputError, match="no such file"):
        create_app(Detector(net), live_models={"x": tmp_path / "none.onnx"})
    with pytest.raises(InputError, match="letters, digits"):
        create_app(Detector(net), live_models={"../x": path})


def test_docs_page_works_offline_from_vendored_files(client, monkeypatch):
    res = client.get("/docs")
    assert res.status_code == 200
    if not web.SWAGGER_DIR.joinpath("swagger-ui-bundle.js").is_file():
        assert "make web" in res.text and "/openapi.json" in res.text
        return
    assert "/vendor/swagger/swagger-ui-bundle.js" in res.text and "cdn" not in res.text.lower()
    js = client.get("/vendor/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/vendor/swagger/..%2F..%2Fapp.py").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "shelfscan"


def test_config_carries_the_page_settings(client):
    """The live page repeats no setting: sizes, starting size and score, NMS and padding come from the server."""
    from shelfscan.inference.config import InferenceConfig
    from shelfscan.inference.tiling import PAD_VALUE
    from shelfscan.serve.web import LivePage

    d = client.get("/live/config.json").json()["defaults"]
    assert d == {"sizes": list(LivePage.sizes), "size": LivePage.size, "conf": LivePage.conf,
                 "iou": InferenceConfig.iou, "max_det": InferenceConfig.max_det, "pre_nms_topk": 5000, "pad": PAD_VALUE}
    assert d["size"] in d["sizes"]
    page = client.get("/live").text
    assert "<option" not in page and 'value="0.3"' not in page
    js = client.get("/static/live.js").text
    assert "settings.iou" in js and "NMS_IOU" not in js


def test_live_model_size_without_metadata_is_the_runtime_s():
    """A file whose metadata has no imgsz: the page is told the size the server's runtime would use (the config's,
    else DetectorConfig's), not a size of its own."""
    from shelfscan.inference.onnx_model import config_from_metadata
    from shelfscan.models.config import DetectorConfig

    assert config_from_metadata({}).imgsz == DetectorConfig.imgsz
    assert config_from_metadata({"config": '{"imgsz": 512}'}).imgsz == 512
    assert config_from_metadata({"config": '{"imgsz": 512}', "imgsz": "256"}).imgsz == 256
    assert config_from_metadata({"class_names": '["a", "b"]'}).class_names == ["a", "b"]
