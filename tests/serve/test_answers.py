"""/v1 query parameters (imgsz, unknown names refused), the words of the answers (noun) and gaps in /v1/count,
with tiny random detectors (serve/answers.py)."""
import base64
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from shelfscan.counting.gaps import gap_fields, split_gaps  # noqa: E402
from shelfscan.detections import Detections  # noqa: E402
from shelfscan.inference import Detector  # noqa: E402
from shelfscan.models.detector import DetectorConfig, ShelfDetector  # noqa: E402
from shelfscan.serve import create_app  # noqa: E402
from shelfscan.synth import render_shelf  # noqa: E402

ROUTES = ("/v1/detect", "/v1/count")


def tiny(class_names: list[str]) -> ShelfDetector:
    torch.manual_seed(0)
    return ShelfDetector(DetectorConfig(class_names=class_names, width=16, head_depth=1, imgsz=320),
                         pretrained_backbone=False)


class FixedDetector(Detector):
    """Returns fixed boxes (what a trained two-class model would find), whatever the photo."""

    boxes: Detections = Detections.empty()

    def predict(self, rgb):
        return self.boxes  # no metadata: the answer falls back to the detector's own size


@pytest.fixture(scope="module")
def shelf():
    image, truth = render_shelf(0, width=320)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return image, truth, buf.getvalue()


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Detector(tiny(["object"]), conf=0.0, max_det=10), count_conf=0.0,
                                 confirm_below=0.0))


def post(client, path: str, data: bytes, query: str = ""):
    return client.post(path + query, files={"image": ("s.png", data, "image/png")})


def error_of(res, status: int) -> str:
    assert res.status_code == status, res.text
    body = res.json()
    assert body["status"] == status
    return body["error"]


@pytest.mark.parametrize("route", ROUTES)
def test_imgsz_is_used_and_reported(client, shelf, route):
    data = shelf[2]
    assert post(client, route, data).json()["imgsz"] == 320  # the served model's size
    assert post(client, route, data, "?imgsz=256").json()["imgsz"] == 256
    auto = post(client, route, data, "?imgsz=auto")
    assert auto.status_code == 200 and isinstance(auto.json()["imgsz"], int) and auto.json()["imgsz"] >= 32
    # the request's size never sticks to the served detector
    assert client.get("/healthz").json()["imgsz"] == 320 and post(client, route, data).json()["imgsz"] == 320


def test_imgsz_changes_what_runs(client, shelf):
    """A working size of 64 px sees the photo differently from 320 px: the boxes change."""
    data = shelf[2]
    small = [d["box"] for d in post(client, "/v1/detect", data, "?imgsz=64").json()["detections"]]
    big = [d["box"] for d in post(client, "/v1/detect", data, "?imgsz=320").json()["detections"]]
    assert small != big


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("value", ["big", "16", "-5", "3.5", ""])
def test_bad_imgsz_is_422_with_expected_and_got(client, shelf, route, value):
    msg = error_of(post(client, route, shelf[2], f"?imgsz={value}"), 422)
    assert msg.startswith("imgsz: expected") and "got" in msg
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_unknown_query_parameter_is_422(client, shelf, route):
    msg = error_of(post(client, route, shelf[2], "?imgsize=640&images=false"), 422)
    assert "'imgsize'" in msg and "['images', 'imgsz', 'model']" in msg and route in msg
    assert post(client, route, shelf[2], "?images=false&model=default").status_code == 200


def test_words_follow_the_model(shelf):
    """One product class (with or without gaps): products; several classes (tagging): items."""
    data = shelf[2]
    for names, noun in ((["object"], "products"), (["object", "gap"], "products"), (["shirt", "shoe"], "items")):
        c = TestClient(create_app(Detector(tiny(names), conf=0.0, max_det=10), count_conf=0.0, confirm_below=0.0))
        assert c.get("/healthz").json()["models"]["default"]["noun"] == noun
        for route in ROUTES:
            assert post(c, route, data).json()["noun"] == noun


def test_count_reports_gaps_like_counts_json(shelf):
    image, truth, data = shelf
    fixed = FixedDetector(tiny(["object", "gap"]))
    gap_boxes = np.array([[5, 5, 60, 70], [100, 5, 130, 70]], np.float32)
    fixed.boxes = Detections(np.concatenate([truth.xyxy, gap_boxes]), np.full(len(truth) + 2, 0.9, np.float32),
                             np.r_[np.zeros(len(truth)), np.ones(2)].astype(np.int64), ["object", "gap"])
    c = TestClient(create_app(fixed))
    body = post(c, "/v1/count", data, "?images=true").json()
    products, gaps = split_gaps(fixed.boxes)
    assert body["total"] == len(truth) == sum(g["count"] for g in body["groups"])  # gaps are no products
    assert body["gaps"] == gap_fields(gaps, products) and body["gaps"]["count"] == 2
    assert 0 < body["gaps"]["share_of_width"] < 1
    pic = Image.open(io.BytesIO(base64.b64decode(body["annotated_jpeg"])))
    assert pic.width > image.shape[1] or pic.height > image.shape[0]  # the legend panel
    # a model without a gap class says nothing about gaps (unknown, not zero)
    plain = FixedDetector(tiny(["object"]))
    plain.boxes = Detections(truth.xyxy, np.full(len(truth), 0.9, np.float32), class_names=["object"])
    assert "gaps" not in post(TestClient(create_app(plain)), "/v1/count", data).json()
