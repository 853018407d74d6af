"""Browser tests: Playwright (python) drives Debian's Chromium, headless, against a real local server.

Skips cleanly where Chromium, Playwright, the shipped ONNX model or the vendored onnxruntime-web (``make web``) is
absent. Never runs ``playwright install``. Set ``SHELFSCAN_SCREENSHOTS=DIR`` to keep the pages' screenshots
(the README's pictures come from there).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("onnxruntime")
sync_api = pytest.importorskip("playwright.sync_api")

from tests.helpers.local_server import (CHROMIUM, CHROMIUM_ARGS, fake_camera_args, serve_in_thread,  # noqa: E402
                                        write_y4m)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt install chromium)", allow_module_level=True)

SHARED = Path(os.environ.get("SHELFSCAN_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def screenshot(page, name: str) -> None:
    out = os.environ.get("SHELFSCAN_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / name), type="jpeg", quality=80)


@pytest.fixture(scope="module")
def shelf_photo(tmp_path_factory) -> Path:
    """A real SKU-110K shelf photo when ../shared is here, else a synthetic shelf saved as JPEG."""
    photos = sorted((SHARED / "sku110k-sample" / "images").glob("*.jpg"))
    if photos:
        return photos[0]
    from shelfscan.synth import render_shelf

    image, _ = render_shelf(3, width=1280)
    path = tmp_path_factory.mktemp("photo") / "synthetic_shelf.jpg"
    Image.fromarray(image).save(path, quality=95)
    return path


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory) -> Path:
    """A 640x480 fake-camera video of a shelf, as a phone held up to it sees it (``camera_frame``)."""
    from tests.helpers.local_server import camera_frame

    return write_y4m(tmp_path_factory.mktemp("cam") / "shelf.y4m", camera_frame(SHARED)[0])


@pytest.fixture(scope="module")
def server():
    from shelfscan.inference import Detector
    from shelfscan.serve import create_app
    from shelfscan.serve.web import live_models_default

    try:
        detector = Detector("shelf", runtime="onnx", threads=1)
    except Exception as exc:  # no shipped ONNX model in this install
        pytest.skip(f"shipped ONNX model unavailable: {exc}")
    from shelfscan.models.checkpoint import SHIPPED_MODELS

    extra = {"apparel": "apparel"} if SHIPPED_MODELS["apparel"].checkpoint_path.is_file() else {}
    app = create_app(detector, live_models=live_models_default(), model_name="shelf", extra_models=extra)
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(camera_video):
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera_args(camera_video))
        yield b
        b.close()


def live_ready(url: str) -> None:
    import httpx

    cfg = httpx.get(f"{url}/live/config.json", timeout=10).json()
    if not cfg["runtime_ready"]:
        pytest.skip(cfg["hint"])


def wait_live(page, frames: int, min_boxes: int = 0, timeout_s: float = 180.0) -> dict:
    """Poll window.shelfscanLive until ``frames`` frames are done and the latest frame has more than ``min_boxes``
    boxes; fail on a page error or at the timeout. (On a loaded machine the first frames of Chromium's fake camera
    can come before the shelf picture is fully shown, so a single early frame is not the measure.)"""
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate("window.shelfscanLive ? {...window.shelfscanLive} : null")
        if state and state["error"]:
            pytest.fail(f"live page error: {state['error']}")
        if state and state["frames"] >= frames and state["boxes"] > min_boxes:
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"live page: expected {frames} frames with more than {min_boxes} boxes within "
                        f"{timeout_s:g} s, got state {state}")
        time.sleep(0.5)


def test_upload_page_shows_counts_for_a_shelf_photo(server, browser, shelf_photo):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    page.set_input_files("#file", str(shelf_photo))
    sync_api.expect(page.locator("#total")).to_contain_text("products", timeout=180_000)
    total = page.text_content("#total")
    n_products, n_types = int(total.split()[0]), int(total.split()[2])
    assert n_products > 50 and n_types >= 1, total
    rows = page.locator("#groups tr")
    assert rows.count() == n_types
    counts = [int(rows.nth(i).locator("td").nth(2).text_content()) for i in range(rows.count())]
    assert sum(counts) == n_products and counts == sorted(counts, reverse=True)
    assert page.locator("#annotated").evaluate("img => img.naturalWidth") > 0
    assert not errors
    screenshot(page, "upload.jpg")
    page.close()


def test_upload_page_offers_the_apparel_model(server, browser):
    photos = sorted((SHARED / "apparel" / "images").glob("*.jpg"))
    if not photos:
        pytest.skip("apparel photos not found (../shared/data/apparel)")
    import httpx

    if "apparel" not in httpx.get(f"{server}/healthz", timeout=10).json()["models"]:
        pytest.skip("the apparel model is not installed")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server + "/")
    sync_api.expect(page.locator("#model-label")).to_be_visible()
    page.select_option("#model", "apparel")
    page.set_input_files("#file", str(photos[0]))
    sync_api.expect(page.locator("#total")).to_contain_text("items", timeout=120_000)
    names = {"sunglass", "hat", "jacket", "shirt", "pants", "shorts", "skirt", "dress", "bag", "shoe"}
    rows = page.locator("#groups tr")
    labels = [rows.nth(i).locator("td").first.text_content() for i in range(rows.count())]
    assert labels and set(labels) <= names, labels
    screenshot(page, "upload-apparel.jpg")
    page.close()


def test_live_page_draws_boxes_and_reports_fps(server, browser):
    live_ready(server)
    page = browser.new_page(viewport={"width": 1000, "height": 860})
    page.goto(server + "/live?size=320")
    state = wait_live(page, frames=4, min_boxes=50)
    assert state["boxes"] > 50, state
    assert state["fps"] > 0 and state["backend"] in ("wasm", "webgpu"), state
    assert int(page.locator("#stats").get_attribute("data-boxes")) > 50
    assert "FPS" in page.text_content("#fps")
    # threads need cross-origin isolation: the server's COOP/COEP headers must have made the page isolated
    assert page.evaluate("self.crossOriginIsolated") is True
    cores = page.evaluate("navigator.hardwareConcurrency")
    assert state["threads"] == max(1, min(4, cores)), (state, cores)
    overlay = page.locator("#overlay").screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(overlay)).convert("RGB"))
    assert pixels is not None and pixels.std() > 0  # boxes were drawn over the video
    screenshot(page, "live.jpg")
    page.close()


def test_live_page_works_offline_after_first_visit(server, browser):
    live_ready(server)
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    page.goto(server + "/live?size=320")
    wait_live(page, frames=2)
    # the service worker has taken control and cached every file it needs
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    cached = page.evaluate("""async () => {
        const keys = await caches.keys();
        const cache = await caches.open(keys.find(k => k.startsWith('shelfscan-live-')));
        return (await cache.keys()).map(r => new URL(r.url).pathname);
    }""")
    for needed in ("/live", "/static/live.js", "/models/shelf.onnx", "/vendor/ort/ort.min.mjs"):
        assert needed in cached, cached
    context.set_offline(True)
    page.reload()
    state = wait_live(page, frames=2, min_boxes=50)
    assert state["boxes"] > 50, state
    # and the network really is gone for this page
    assert page.evaluate("fetch('/healthz').then(() => 'online', () => 'offline')") == "offline"
    context.close()


def test_docs_page_renders_without_a_cdn(server, browser):
    from shelfscan.serve import web

    if not web.SWAGGER_DIR.joinpath("swagger-ui-bundle.js").is_file():
        pytest.skip("swagger-ui-dist not vendored (make web)")
    context = browser.new_context()
    page = context.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server + "/docs")
    sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text("shelfscan", timeout=30_000)
    sync_api.expect(page.get_by_text("/v1/count", exact=True).first).to_be_visible()
    assert not [u for u in outside if not u.startswith("data:")], outside
    context.close()


# ---- gaps (a two-class model: object, gap) ---------------------------------------------------------------------
GAP_BOXES = [[10, 10, 100, 100], [10, 120, 100, 200]]  # in the model's input pixels
PRODUCT_BOX = [120, 10, 200, 100]


def fixed_two_class_onnx(path: Path) -> Path:
    """An ONNX file in the exported graph's format whose outputs are fixed: two gap boxes and one product box
    (scores 0.9), whatever the frame (a trained gap model is hours away; exporting a random one takes minutes)."""
    import json

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from shelfscan.inference.onnx_model import INPUT_NAME, OUTPUT_NAMES

    boxes = np.array([GAP_BOXES[0], PRODUCT_BOX, GAP_BOXES[1]], np.float32)[None]
    cls = np.array([[0.05, 0.9], [0.9, 0.05], [0.05, 0.9]], np.float32)[None]
    values = {"boxes": boxes, "scores": cls, "cls_scores": cls, "iou_scores": np.full((1, 3), 0.9, np.float32)}
    nodes = [helper.make_node("ReduceMean", [INPUT_NAME], ["mean"], keepdims=0),  # the frame is read...
             helper.make_node("Mul", ["mean", "zero"], ["nothing"])]               # ... and counts for nothing
    inits = [numpy_helper.from_array(np.zeros(1, np.float32), "zero")]
    outputs = []
    for name in OUTPUT_NAMES:
        inits.append(numpy_helper.from_array(values[name], f"{name}_value"))
        nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(values[name].shape)))
    graph = helper.make_graph(nodes, "fixed", [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                                                             [1, 3, "h", "w"])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    helper.set_model_props(model, {"class_names": json.dumps(["object", "gap"]), "imgsz": "256"})
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))
    return path


@pytest.fixture(scope="module")
def gap_server(tmp_path_factory):
    """A server whose upload route counts fixed boxes of a two-class model and whose live page runs
    :func:`fixed_two_class_onnx`."""
    pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from shelfscan.detections import Detections
    from shelfscan.inference import Detector
    from shelfscan.models.detector import DetectorConfig, ShelfDetector
    from shelfscan.serve import create_app
    from shelfscan.synth import render_shelf

    image, truth = render_shelf(0, width=480)
    torch.manual_seed(0)
    net = ShelfDetector(DetectorConfig(class_names=["object", "gap"], width=16, head_depth=1, imgsz=256),
                        pretrained_backbone=False)

    class Fixed(Detector):
        def predict(self, rgb):
            xyxy = np.concatenate([truth.xyxy, np.array(GAP_BOXES, np.float32)])
            cls = np.r_[np.zeros(len(truth)), np.ones(2)].astype(np.int64)
            return Detections(xyxy, np.full(len(xyxy), 0.9, np.float32), cls, ["object", "gap"])

    folder = tmp_path_factory.mktemp("gaps")
    Image.fromarray(image).save(folder / "shelf.png")
    onnx_path = fixed_two_class_onnx(folder / "gaps.onnx")
    app = create_app(Fixed(net), live_models={"gaps": onnx_path}, model_name="gaps")
    with serve_in_thread(app) as url:
        yield url, folder / "shelf.png", len(truth)


def test_upload_page_shows_gaps(gap_server, browser):
    url, photo, n_products = gap_server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url + "/")
    page.set_input_files("#file", str(photo))
    sync_api.expect(page.locator("#gaps")).to_be_visible(timeout=120_000)
    assert page.text_content("#total").startswith(f"{n_products} products, ")  # the gaps are no products
    text = page.text_content("#gaps")
    assert text.startswith("2 gaps") and "% of the shelf's width" in text, text
    page.close()


def test_live_page_draws_gaps_in_red(gap_server, browser):
    url = gap_server[0]
    live_ready(url)
    page = browser.new_page(viewport={"width": 800, "height": 700})
    page.goto(url + "/live?model=gaps&size=256&conf=0.5")
    state = wait_live(page, frames=2)
    assert state["gaps"] == 2 and state["boxes"] == 1, state
    assert page.locator("#stats").get_attribute("data-gaps") == "2"
    assert page.text_content("#count") == "1 products · 2 gaps"
    # the overlay canvas (drawing only, no video): red outlines for the gaps, the first palette colour for the product
    red, yellow = page.evaluate("""() => {
        const c = document.getElementById('overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let red = 0, yellow = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] > 120 && d[i] > 200 && d[i + 1] < 60 && d[i + 2] < 60) red++;
          if (d[i + 3] > 120 && d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 60) yellow++;
        }
        return [red, yellow];
    }""")
    assert red > 100 and yellow > 50, (red, yellow)
    page.close()
