"""`shelfscan serve` builds the app from its options and hands it to uvicorn (uvicorn.run replaced here)."""
import pytest
import torch

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
