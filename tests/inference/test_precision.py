"""``precision``: the shipped shelf model runs its int8 file on the CPU by default, fp32 on request, and int8 is
refused where no int8 file applies. No torch needed (ONNX Runtime only)."""
import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from shelfscan.batch.settings import model_id  # noqa: E402
from shelfscan.box_ops import box_iou  # noqa: E402
from shelfscan.cli import build_parser  # noqa: E402
from shelfscan.cli.common import inference_config  # noqa: E402
from shelfscan.data import load_dataset, read_image  # noqa: E402
from shelfscan.errors import InputError  # noqa: E402
from shelfscan.inference import Detector  # noqa: E402
from shelfscan.inference.config import InferenceConfig  # noqa: E402
from shelfscan.inference.onnx_model import cpu_session, onnx_metadata  # noqa: E402
from shelfscan.metrics import evaluate_detections  # noqa: E402
from shelfscan.models.shipped import SHIPPED_MODELS  # noqa: E402

SHELF = SHIPPED_MODELS["shelf"]


def test_the_shelf_model_ships_an_int8_file_with_the_fp32_metadata():
    assert SHELF.int8 and SHELF.int8_path.is_file()
    assert SHELF.int8_path.stat().st_size < 0.7 * SHELF.onnx_path.stat().st_size  # int8 weights
    int8, fp32 = onnx_metadata(cpu_session(SHELF.int8_path)), onnx_metadata(cpu_session(SHELF.onnx_path))
    assert {k: int8.get(k) for k in fp32} == fp32  # the same config, classes and size
    recipe = json.loads(int8["quantization"])
    assert recipe["precision"] == "int8" and recipe["reduce_range"]
    assert len(recipe["fp32_sha256"]) == 64


def test_auto_runs_int8_and_fp32_runs_the_exported_file():
    assert Detector().model.path == SHELF.int8_path
    assert Detector("shelf", precision="int8").model.path == SHELF.int8_path
    assert Detector("shelf", precision="fp32").model.path == SHELF.onnx_path
    # a model without an int8 twin runs its fp32 file at "auto"
    assert Detector("apparel").model.path == SHIPPED_MODELS["apparel"].onnx_path


@pytest.mark.parametrize("model,options,says", [
    ("apparel", {}, "apparel.pt"),
    ("shelf", {"runtime": "torch"}, "runtime 'torch'"),
    ("shelf", {"device": "cuda"}, "device 'cuda'"),
])
def test_int8_is_refused_where_no_int8_file_applies(model, options, says):
    with pytest.raises(InputError, match="precision 'int8'") as err:
        Detector(model, precision="int8", **options)
    assert says in str(err.value)


def test_int8_is_refused_for_a_file_of_ones_own():
    with pytest.raises(InputError, match="quantize your own"):
        Detector(str(SHELF.onnx_path), precision="int8")


def test_an_unknown_precision_says_what_is_accepted():
    with pytest.raises(InputError, match="precision.*'auto', 'fp32', 'int8'.*got 'fp16'"):
        InferenceConfig(precision="fp16")


def test_cli_flag_reaches_the_config():
    parser = build_parser()
    assert inference_config(parser.parse_args(["detect", "x.jpg", "--out", "p.csv"])).precision == "auto"
    for verb in (["detect", "x.jpg", "--out", "p.csv"], ["count", "x.jpg", "--out", "o"]):
        assert inference_config(parser.parse_args(verb + ["--precision", "fp32"])).precision == "fp32"
    with pytest.raises(SystemExit):
        parser.parse_args(["detect", "x.jpg", "--out", "p.csv", "--precision", "int4"])


def test_batch_records_the_file_that_runs():
    from shelfscan.batch.settings import file_sha256

    assert model_id("shelf") == f"shelf@{file_sha256(SHELF.int8_path)[:12]}"


def _matched_share(a, b, iou: float) -> float:
    """Share of the boxes of ``a`` with a box of ``b`` at IoU >= ``iou``."""
    if len(a) == 0:
        return 1.0
    return float((box_iou(a.xyxy, b.xyxy).max(1) >= iou).mean()) if len(b) else 0.0


def test_int8_finds_the_fp32_boxes_on_a_shelf_photo():
    cv2 = pytest.importorskip("cv2", reason="synthetic shelves need OpenCV (the [synth] extra)")  # noqa: F841
    from shelfscan.synth import render_shelf

    image, _ = render_shelf(21, width=1280, n_products=(60, 80))
    fp32 = Detector("shelf", precision="fp32", imgsz=1024, conf=0.4).predict(image)
    int8 = Detector("shelf", precision="int8", imgsz=1024, conf=0.4).predict(image)
    assert len(fp32) > 30
    assert _matched_share(fp32, int8, 0.8) > 0.9 and _matched_share(int8, fp32, 0.8) > 0.9
    assert abs(len(int8) - len(fp32)) <= 0.05 * len(fp32)


def test_int8_ap_within_001_of_fp32_on_real_shelves(shared):
    """The shipping rule of the int8 file (issue #16), on the 11 true-labelled cigarette shelves."""
    ds = load_dataset(shared("grocery-shelves"))
    gt = {r.name: r.boxes for r in ds.images}
    images = {r.name: read_image(r.path) for r in ds.images}
    ap = {}
    for precision in ("fp32", "int8"):
        det = Detector("shelf", precision=precision, conf=0.05, max_det=300)
        preds = {name: det.predict(im) for name, im in images.items()}
        ap[precision] = evaluate_detections(gt, preds, max_det=300).ap50_95
    assert ap["int8"] >= ap["fp32"] - 0.01, json.dumps(ap)
    assert np.isfinite(ap["int8"]) and ap["int8"] > 0.6
