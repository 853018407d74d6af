"""REST API with a tiny random detector: happy paths, refused uploads, API key, CORS, timeouts.

After every refused request the server must still answer: each error test ends with a health check.
"""
import base64
import io
import struct
import time
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from shelfscan.detections import Detections  # noqa: E402
from shelfscan.inference import Detector  # noqa: E402
from shelfscan.models.detector import DetectorConfig, ShelfDetector  # noqa: E402
from shelfscan.serve import create_app  # noqa: E402
from shelfscan.synth import render_shelf  # noqa: E402

MAX_DET = 20


@pytest.fixture(scope="module")
def detector():
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["object"], width=16, head_depth=1, imgsz=320),
                        pretrained_backbone=False)
    return Detector(net, conf=0.0, max_det=MAX_DET)  # conf 0: a random model still returns max_det boxes


@pytest.fixture(scope="module")
def shelf_jpeg():
    image, _ = render_shelf(0, width=320)
    return encode(image, "JPEG"), image.shape


@pytest.fixture(scope="module")
def client(detector):
    return TestClient(create_app(detector))


def encode(image: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, fmt, **kw)
    return buf.getvalue()


def post(client, path: str, data: bytes, name: str = "shelf.jpg", mime: str = "image/jpeg", **kw):
    return client.post(path, files={"image": (name, data, mime)}, **kw)


def assert_error(res, status: int, *words: str) -> dict:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/json")
    body = res.json()
    assert body["status"] == status and isinstance(body["error"], str)
    for w in words:
        assert w in body["error"], body["error"]
    return body


def assert_alive(client) -> None:
    res = client.get("/healthz")
    assert res.status_code == 200 and res.json()["status"] == "ok"


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width×height RGB pixels but carries almost no data (a decompression bomb)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_healthz_and_pages(client):
    h = client.get("/healthz").json()
    assert h["classes"] == ["object"] and h["imgsz"] == 320 and h["runtime"] == "pytorch"
    assert h["api_key_required"] is False
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js">' in page.text and "Content-Security-Policy" in page.headers
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "/v1/count" in js.text
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/v1/detect", "/v1/count", "/healthz"}


def test_detect_happy_path(client, shelf_jpeg):
    data, (h, w, _) = shelf_jpeg
    res = post(client, "/v1/detect", data)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["image"] == {"name": "shelf.jpg", "width": w, "height": h}
    assert body["count"] == len(body["detections"]) == MAX_DET
    boxes = np.array([d["box"] for d in body["detections"]])
    assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 2] <= w) and np.all(boxes[:, 3] <= h)
    assert np.all(boxes[:, 2] >= boxes[:, 0]) and np.all(boxes[:, 3] >= boxes[:, 1])
    scores = [d["score"] for d in body["detections"]]
    assert scores == sorted(scores, reverse=True)
    assert {d["label"] for d in body["detections"]} == {"object"}
    assert "annotated_jpeg" not in body


def test_detect_matches_python_api_and_returns_image(client, detector, shelf_jpeg):
    data, (h, w, _) = shelf_jpeg
    body = post(client, "/v1/detect?images=true", data).json()
    expected = detector.predict(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert np.allclose([d["box"] for d in body["detections"]], expected.xyxy, atol=0.06)
    annotated = Image.open(io.BytesIO(base64.b64decode(body["annotated_jpeg"])))
    assert annotated.format == "JPEG" and annotated.size == (w, h)


def test_png_upload_with_wrong_declared_type_is_sniffed(client):
    rgb = np.random.default_rng(0).integers(0, 255, (100, 140, 3), dtype=np.uint8)
    res = post(client, "/v1/detect", encode(rgb, "PNG"), name="x.bin", mime="application/octet-stream")
    assert res.status_code == 200 and res.json()["image"]["width"] == 140


def test_text_file_is_415(client):
    res = post(client, "/v1/detect", b"name,count\ncola,3\n", name="counts.csv", mime="text/csv")
    assert_error(res, 415, "expected a JPEG")
    assert_alive(client)


def test_truncated_jpeg_is_400(client, shelf_jpeg):
    data, _ = shelf_jpeg
    assert_error(post(client, "/v1/detect", data[: len(data) // 2]), 400, "truncated JPEG")
    assert_error(post(client, "/v1/detect", b""), 400, "empty")
    assert_alive(client)


def test_missing_field_is_422(client):
    res = client.post("/v1/detect", files={"photo": ("a.jpg", b"123", "image/jpeg")})
    assert_error(res, 422, "image")
    assert_alive(client)


def test_too_large_is_413(detector, shelf_jpeg):
    data, _ = shelf_jpeg
    small = TestClient(create_app(detector, max_bytes=len(data) - 1))
    # a file just over the limit: body within the multipart slack, refused after reading
    assert_error(post(small, "/v1/detect", data), 413, f"at most {len(data) - 1} bytes")
    # far over the limit: refused from Content-Length before the body is read
    big = data + b"\0" * (200 * 1024)
    assert_error(post(small, "/v1/detect", big), 413, "Content-Length")
    assert_alive(small)


def test_chunked_body_over_limit_is_413(detector):
    small = TestClient(create_app(detector, max_bytes=1000))

    def chunks():
        for _ in range(100):
            yield b"x" * 4096

    res = small.post("/v1/detect", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert_error(res, 413, "request body")
    assert_alive(small)


def test_decompression_bomb_is_refused(client, detector, shelf_jpeg):
    res = post(client, "/v1/detect", png_header(100_000, 100_000), name="bomb.png", mime="image/png")
    assert_error(res, 413, "pixels")
    # below Pillow's own limit, above the server's: refused from the header before decoding
    tight = TestClient(create_app(detector, max_pixels=10_000))
    assert_error(post(tight, "/v1/detect", shelf_jpeg[0]), 413, "decompression-bomb guard")
    assert_alive(client)
    assert_alive(tight)


def test_api_key(detector, shelf_jpeg):
    keyed = TestClient(create_app(detector, api_key="s3cret"))
    data, _ = shelf_jpeg
    assert_error(post(keyed, "/v1/detect", data), 401, "expected the API key header")
    assert_error(post(keyed, "/v1/detect", data, headers={"X-API-Key": "guess"}), 401, "wrong key")
    assert_error(post(keyed, "/v1/count", data), 401)
    assert post(keyed, "/v1/detect", data, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert keyed.get("/healthz").json()["api_key_required"] is True  # health stays open
    # the key is checked before the body is read: a huge upload without it is 401, not 413
    assert_error(post(keyed, "/v1/detect", data + b"\0" * (30 * 2**20)), 401)


def test_cors_off_by_default(client, detector):
    origin = {"Origin": "http://elsewhere.example"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    allowed = TestClient(create_app(detector, cors=["http://elsewhere.example"], api_key="k"))
    res = allowed.get("/healthz", headers=origin)
    assert res.headers["access-control-allow-origin"] == "http://elsewhere.example"
    # a browser's preflight carries no API key and must still pass
    preflight = allowed.options("/v1/detect", headers={**origin, "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "x-api-key"})
    assert preflight.status_code == 200
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()


def test_slow_inference_times_out_with_503(detector, shelf_jpeg):
    class SlowDetector(Detector):
        def predict(self, image):
            time.sleep(1.0)
            return super().predict(image)

    slow = SlowDetector(detector.model, conf=0.0, max_det=MAX_DET, imgsz=320)
    c = TestClient(create_app(slow, timeout_s=0.2))
    assert_error(post(c, "/v1/detect", shelf_jpeg[0]), 503, "within 0.2 s")
    assert_alive(c)


def test_bad_limits_raise():
    with pytest.raises(ValueError, match="max_bytes"):
        create_app(object(), max_bytes=0)


class _StubCount:
    """Stands in for shelfscan.counting.ShelfCount: the documented to_json() schema and save(out_dir)."""

    def __init__(self, image, detections, method):
        self.image, self.det, self.method = image, detections, method

    def to_json(self) -> dict:
        boxes = [[round(v, 1) for v in b] for b in self.det.xyxy.tolist()]
        return {"image": None, "total": len(self.det), "silhouette": None, "method": self.method,
                "groups": [{"id": 0, "count": len(boxes), "share_of_facings": 1.0, "share_of_width": 1.0,
                            "example_box": boxes[0], "boxes": boxes}] if boxes else []}

    def save(self, out_dir) -> None:
        Image.fromarray(self.image).save(out_dir / "annotated.jpg")
        Image.fromarray(self.image[:50, :60]).save(out_dir / "types.jpg")


def _stub_counting(calls: list):
    """A stand-in for shelfscan.counting with its documented count() interface; records each call's arguments."""
    import types

    stub = types.ModuleType("shelfscan.counting")

    def count(image, *, detector, conf, confirm_below, method="default"):
        calls.append({"conf": conf, "confirm_below": confirm_below, "method": method})
        det = detector.predict(image).with_scores_above(conf)
        return _StubCount(image, det, method)

    stub.count = count
    return stub


def test_count_endpoint_wiring(detector, shelf_jpeg, monkeypatch):
    """/v1/count against the documented interface of shelfscan.counting (a stub module here)."""
    import sys

    calls = []
    monkeypatch.setitem(sys.modules, "shelfscan.counting", _stub_counting(calls))
    data, (h, w, _) = shelf_jpeg
    c = TestClient(create_app(detector, group_method="by-colour", count_conf=0.0, confirm_below=0.0))
    body = post(c, "/v1/count?images=true", data, name="../../etc/aisle 4.jpg").json()
    assert body["total"] == MAX_DET and body["method"] == "by-colour"
    assert calls[-1] == {"conf": 0.0, "confirm_below": 0.0, "method": "by-colour"}
    assert body["image"] == "aisle 4.jpg"  # the display name only, never a path
    assert Image.open(io.BytesIO(base64.b64decode(body["annotated_jpeg"]))).size == (w, h)
    assert Image.open(io.BytesIO(base64.b64decode(body["types_jpeg"]))).size == (60, 50)
    plain = post(TestClient(create_app(detector)), "/v1/count", data).json()
    assert plain["method"] == "default" and "types_jpeg" not in plain
    # by default /v1/count counts as `shelfscan count` does, whatever threshold /v1/detect uses
    from shelfscan.counting.config import CountConfig

    assert calls[-1] == {"conf": CountConfig.count_conf, "confirm_below": CountConfig.confirm_below,
                         "method": "default"}


def test_count_thresholds_are_checked():
    for kw in ({"count_conf": 1.5}, {"confirm_below": -0.1}):
        with pytest.raises(ValueError, match=f"{next(iter(kw))}: expected a score in \\[0, 1\\]"):
            create_app(object(), **kw)


def test_count_endpoint(detector, shelf_jpeg):
    pytest.importorskip("shelfscan.counting")
    data, _ = shelf_jpeg
    every_box = TestClient(create_app(detector, count_conf=0.0, confirm_below=0.0))
    res = post(every_box, "/v1/count?images=true", data)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] == MAX_DET == sum(g["count"] for g in body["groups"])
    assert abs(sum(g["share_of_facings"] for g in body["groups"]) - 1.0) < 1e-6
    for key in ("annotated_jpeg", "types_jpeg"):
        assert Image.open(io.BytesIO(base64.b64decode(body[key]))).format == "JPEG"


def test_count_endpoint_counts_like_the_count_command(detector, monkeypatch):
    """With its defaults /v1/count keeps the boxes `shelfscan count` keeps (scores >= CountConfig.count_conf; from
    there to CountConfig.confirm_below only when they look like a type), while /v1/detect returns every box the
    served detector finds."""
    counting = pytest.importorskip("shelfscan.counting")
    image, truth = render_shelf(3, width=640)
    scores = np.linspace(0.05, 0.95, len(truth)).astype(np.float32)  # a third of the boxes under 0.35

    class FixedDetector(Detector):
        def predict(self, rgb):
            return Detections(truth.xyxy, scores)

    fixed = FixedDetector(detector.model, conf=0.0)
    client = TestClient(create_app(fixed))
    data = encode(image, "PNG")
    assert len(post(client, "/v1/detect", data, name="s.png", mime="image/png").json()["detections"]) == len(truth)
    body = post(client, "/v1/count", data, name="s.png", mime="image/png").json()
    low, high = counting.CountConfig.count_conf, counting.CountConfig.confirm_below  # `shelfscan count`'s
    expected = counting.count(image, detector=fixed, conf=low)
    strong, weak = int((scores >= high).sum()), int(((scores >= low) & (scores < high)).sum())
    assert weak > 0 and body["total"] == expected.total and strong <= body["total"] <= strong + weak
    assert sorted(g["count"] for g in body["groups"]) == sorted(g.count for g in expected.groups)
