"""Detector model, label assignment, predict path and the Python API on small synthetic inputs."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan import Detections
from shelfscan.engine.assigner import TaskAlignedAssigner
from shelfscan.engine.criterion import DetectionCriterion
from shelfscan.inference import Detector
from shelfscan.inference.tiling import tile_grid
from shelfscan.models.detector import DetectorConfig, ShelfDetector


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return ShelfDetector(DetectorConfig(class_names=["a", "b"], width=16, head_depth=1), pretrained_backbone=False).eval()


def test_output_shapes(tiny):
    out = tiny(torch.zeros(2, 3, 96, 128, dtype=torch.uint8))
    a = 12 * 16 + 6 * 8 + 3 * 4
    assert out["boxes"].shape == (2, a, 4) and out["cls_logits"].shape == (2, a, 2)
    assert out["iou_logits"].shape == (2, a) and out["points"].shape == (a, 2)
    assert torch.all(out["boxes"][..., 2] >= out["boxes"][..., 0])


def test_assigner_gives_touching_boxes_disjoint_points():
    points = torch.stack(torch.meshgrid(torch.arange(4., 64, 8), torch.arange(4., 64, 8), indexing="xy"), -1).reshape(-1, 2)
    gt = torch.tensor([[0., 0, 32, 64], [32, 0, 64, 64]])  # two touching products
    pred = torch.cat([points - 10, points + 10], 1)[None]
    scores = torch.full((1, len(points), 1), 0.5)
    a = TaskAlignedAssigner(topk=6)(scores, pred, points, [gt], [torch.zeros(2, dtype=torch.long)])
    fg = a.fg[0]
    assert fg.sum() == 12
    left = a.boxes[0][fg][:, 0] == 0
    assert left.sum() == 6 and (~left).sum() == 6
    # every point assigned to the left product lies inside it
    assert torch.all(points[fg][left][:, 0] < 32)


def test_assigner_handles_tiny_box_without_points():
    points = torch.tensor([[4., 4], [12, 4], [4, 12], [12, 12]])
    gt = torch.tensor([[6., 6, 7, 7]])
    pred = torch.cat([points - 2, points + 2], 1)[None]
    a = TaskAlignedAssigner()(torch.full((1, 4, 1), 0.5), pred, points, [gt], [torch.zeros(1, dtype=torch.long)])
    assert a.fg.any()


def test_detector_api_returns_detections_in_photo_pixels(tiny):
    det = Detector(tiny, imgsz=128, conf=0.0, max_det=50)
    image = np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8)
    d = det.predict(image)
    assert isinstance(d, Detections) and len(d) == 50 and d.class_names == ["a", "b"]
    assert d.xyxy[:, 2].max() <= 200 and d.xyxy[:, 3].max() <= 300
    assert "iou_score" in d.data


def test_tiled_prediction_runs_and_stays_in_image(tiny):
    det = Detector(tiny, imgsz=256, conf=0.0, max_det=200, tile=128)
    image = np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    d = det.predict(image)
    assert 0 < len(d) <= 200
    assert d.xyxy[:, 2].max() <= 300 and d.xyxy[:, 3].max() <= 200


def test_tile_grid_covers_image_with_overlap():
    tiles = tile_grid(300, 200, 128)
    cover = np.zeros((200, 300), bool)
    for t in tiles:
        cover[t.y0:t.y0 + t.height, t.x0:t.x0 + t.width] = True
    assert cover.all()
    assert tile_grid(100, 100, 128)[0].seams == (False, False, False, False)


def test_bad_arguments_raise_clear_errors(tiny):
    from shelfscan import InputError

    with pytest.raises(InputError, match="conf: expected"):
        Detector(tiny, conf=2.0)
    with pytest.raises(InputError, match="merger: expected"):
        Detector(tiny, merger="wbf")
    with pytest.raises(InputError, match="RGB uint8"):
        Detector(tiny, imgsz=64).predict(np.zeros((10, 10), np.float32))


def test_unknown_model_name_is_explained():
    from shelfscan import InputError

    with pytest.raises(InputError, match="expected one of"):
        Detector("no-such-model")


def test_loss_is_finite_with_empty_targets(tiny):
    crit = DetectionCriterion(2)
    out = tiny.train()(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    tiny.eval()
    losses = crit(out, [torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.long)])
    assert torch.isfinite(losses["loss"]) and losses["num_fg"] == 0


def test_runtime_choice():
    from shelfscan import InputError
    from shelfscan.inference.onnx_model import OnnxDetectorModel
    from shelfscan.inference.torch_model import TorchDetectorModel
    from shelfscan.models.shipped import SHIPPED_MODELS

    with pytest.raises(InputError, match="runtime: expected"):
        Detector(runtime="tensorrt")
    if not SHIPPED_MODELS["shelf"].onnx_path.is_file():
        pytest.skip("no shipped ONNX model in this checkout")
    pytest.importorskip("onnxruntime")
    assert isinstance(Detector(runtime="auto").model, OnnxDetectorModel) and Detector().runtime == "onnxruntime"
    assert isinstance(Detector(runtime="torch").model, TorchDetectorModel)
    with pytest.raises(InputError, match="runtime='torch'"):
        Detector(SHIPPED_MODELS["shelf"].onnx_path, runtime="torch")
