"""`shelfscan serve` builds the app from its options and hands it to uvicorn (uvicorn.run replaced here)."""
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
from fastapi.testclient import TestClient  # noqa: E402

from shelfscan.cli import main  # noqa: E402
from shelfscan.models.checkpoint import save_checkpoint  # noqa: E402
from shelfscan.models.detector import DetectorConfig, ShelfDetector  # noqa: E402


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(width=16, head_depth=1, imgsz=256), pretrained_backbone=False)
    return save_checkpoint(tmp_path_factory.mktemp("m") / "tiny.pt", net)


@pytest.fixture
def captured(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_passes_options(model_path, captured, monkeypatch):
    monkeypatch.delenv("SHELFSCAN_API_KEY", raising=False)
    assert main(["serve", "--model", str(model_path), "--port", "8123", "--api-key", "k", "--max-mb", "1",
                 "--imgsz", "320"]) == 0
    (app, kw), = captured
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8123
    client = TestClient(app)
    health = client.get("/healthz").json()
    assert health["imgsz"] == 320 and health["max_bytes"] == 2**20 and health["api_key_required"]
    from shelfscan.counting.config import CountConfig  # the thresholds of `shelfscan count`

    assert health["count"] == {"conf": CountConfig.count_conf, "confirm_below": CountConfig.confirm_below}
    assert client.post("/v1/detect", files={"image": ("a.jpg", b"x", "image/jpeg")}).status_code == 401


def test_api_key_from_environment(model_path, captured, monkeypatch):
    monkeypatch.setenv("SHELFSCAN_API_KEY", "from-env")
    assert main(["serve", "--model", str(model_path)]) == 0
    client = TestClient(captured[0][0])
    res = client.post("/v1/detect", files={"image": ("a.txt", b"hello", "text/plain")},
                      headers={"X-API-Key": "from-env"})
    assert res.status_code == 415  # past the key check, refused as not an image


def test_bad_options_exit_2(model_path, captured, capsys):
    assert main(["serve", "--model", str(model_path), "--max-mb", "0"]) == 2
    assert "--max-mb: expected a positive number" in capsys.readouterr().err
    assert main(["serve", "--model", str(model_path.parent / "missing.pt")]) == 2
    assert captured == []


@pytest.fixture(scope="module")
def tagger_path(tmp_path_factory):
    torch.manual_seed(1)
    net = ShelfDetector(DetectorConfig(class_names=["hat", "shoe", "bag"], width=16, head_depth=1, imgsz=256),
                        pretrained_backbone=False)
    return save_checkpoint(tmp_path_factory.mktemp("t") / "tagger.pt", net)


def test_also_offers_a_second_model_picked_per_request(model_path, tagger_path, captured, monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    monkeypatch.delenv("SHELFSCAN_API_KEY", raising=False)
    assert main(["serve", "--model", str(model_path), "--also", f"tags={tagger_path}", "--conf", "0.0",
                 "--max-det", "7"]) == 0
    client = TestClient(captured[0][0])
    health = client.get("/healthz").json()
    assert health["default_model"] == "default"
    assert health["models"]["tags"]["classes"] == ["hat", "shoe", "bag"]
    buf = io.BytesIO()
    Image.fromarray(np.full((96, 128, 3), 120, np.uint8)).save(buf, "PNG")
    files = {"image": ("a.png", buf.getvalue(), "image/png")}
    tagged = client.post("/v1/detect?model=tags", files=files).json()
    assert tagged["class_names"] == ["hat", "shoe", "bag"] and tagged["count"] == 7
    assert sum(tagged["counts"].values()) == 7 and set(tagged["counts"]) <= {"hat", "shoe", "bag"}
    assert {d["label"] for d in tagged["detections"]} <= {"hat", "shoe", "bag"}
    assert client.post("/v1/detect", files=files).json()["class_names"] == ["object"]
    missing = client.post("/v1/detect?model=nope", files=files)
    assert missing.status_code == 404 and "expected one of ['default', 'tags']" in missing.json()["error"]


def test_also_rejects_unknown_names(model_path, captured):
    assert main(["serve", "--model", str(model_path), "--also", "no-such-model"]) == 2


def test_shipped_default_model_is_named_and_offers_the_others(captured, monkeypatch):
    from shelfscan.models.checkpoint import SHIPPED_MODELS, WEIGHTS_DIR

    if not all((WEIGHTS_DIR / getattr(f, "checkpoint", f)).is_file() for f in SHIPPED_MODELS.values()):
        pytest.skip("shipped weights not installed")
    monkeypatch.delenv("SHELFSCAN_API_KEY", raising=False)
    assert main(["serve"]) == 0
    health = TestClient(captured[0][0]).get("/healthz").json()
    assert health["default_model"] == "shelf"
    assert set(health["models"]) == set(SHIPPED_MODELS)


def test_count_thresholds_reach_the_app(model_path, captured):
    assert main(["serve", "--model", str(model_path), "--count-conf", "0.7", "--confirm-below", "0"]) == 0
    (app, _), = captured
    assert TestClient(app).get("/healthz").json()["count"] == {"conf": 0.7, "confirm_below": 0.0}
