"""imgsz="auto": a first pass measures the products and picks the working size (shipped shelf model)."""
import pytest

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")

from shelfscan.inference import Detector  # noqa: E402
from shelfscan.inference.config import InferenceConfig  # noqa: E402
from shelfscan.synth import render_shelf  # noqa: E402


@pytest.fixture(scope="module")
def detector():
    try:
        return Detector(imgsz="auto", conf=0.3)
    except Exception as exc:  # shipped weights missing in this install
        pytest.skip(f"shipped model unavailable: {exc}")


def test_close_up_runs_smaller_than_far_shot(detector):
    far, _ = render_shelf(11, width=1600, n_products=(150, 160))
    h, w = far.shape[:2]
    close = cv2.resize(far[: h // 2, : w // 2], (w, h), interpolation=cv2.INTER_LINEAR)  # products 2x larger
    size_far, size_close = detector.choose_imgsz(far), detector.choose_imgsz(close)
    lo, hi = InferenceConfig.auto_range
    assert lo <= size_close < size_far <= hi
    assert 0.35 < size_close / size_far < 0.7  # about half: the products are twice as large
    dets = detector.predict(close)
    assert dets.metadata["imgsz"] == size_close and len(dets) > 10  # the size travels with the result


def test_blank_image_falls_back_to_the_model_size(detector):
    import numpy as np

    assert detector.choose_imgsz(np.full((480, 640, 3), 128, np.uint8)) == detector.model.config.imgsz


def test_imgsz_must_be_a_size_or_auto():
    from shelfscan.errors import InputError

    with pytest.raises(InputError, match="'auto'"):
        Detector(imgsz="big")


def test_cli_imgsz_accepts_pixels_or_auto():
    import argparse

    from shelfscan.cli.common import imgsz_arg

    assert imgsz_arg("auto") == "auto" and imgsz_arg("640") == 640
    for bad in ("16", "big", "6.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected"):
            imgsz_arg(bad)


def test_tta_finds_the_same_products_as_one_pass(detector):
    """The mirrored pass adds candidates that NMS merges: no duplicate boxes, about the same count."""
    import numpy as np

    from shelfscan.box_ops import box_iou

    image, truth = render_shelf(12, width=1024, n_products=(60, 80))
    one = Detector(imgsz=1024, conf=0.3).predict(image)
    two = Detector(imgsz=1024, conf=0.3, tta=True).predict(image)
    assert abs(len(two) - len(one)) <= max(3, 0.1 * len(one))
    iou = box_iou(two.xyxy, two.xyxy)
    np.fill_diagonal(iou, 0)
    assert float(iou.max()) <= 0.6 + 1e-6  # the NMS threshold: flipped twins were merged
    recall = (box_iou(truth.xyxy, two.xyxy).max(1) > 0.5).mean()
    assert recall > 0.9


def test_the_shelf_model_defaults_to_auto_and_apparel_to_its_size():
    from shelfscan.models.shipped import SHIPPED_MODELS

    try:
        shelf, apparel = Detector(), Detector("apparel")
    except Exception as exc:  # shipped weights missing in this install
        pytest.skip(f"shipped model unavailable: {exc}")
    assert shelf.auto and SHIPPED_MODELS["shelf"].imgsz == "auto"
    own = apparel.passes[0].imgsz if apparel.passes else apparel.model.config.imgsz  # a fused model: its first pass's
    assert not apparel.auto and apparel.imgsz == own
    assert not Detector(imgsz=640).auto and Detector(imgsz=640).imgsz == 640  # the caller's size is kept


def test_the_size_auto_picks_does_not_depend_on_conf():
    far, _ = render_shelf(13, width=1600, n_products=(120, 140))
    try:
        sizes = {Detector(conf=c).choose_imgsz(far) for c in (0.01, 0.25, 0.6)}
    except Exception as exc:
        pytest.skip(f"shipped model unavailable: {exc}")
    assert len(sizes) == 1


def test_the_chosen_size_travels_with_the_result(detector):
    far, _ = render_shelf(11, width=1600, n_products=(150, 160))
    dets = detector.predict(far)
    assert len(dets) and set(dets.data["imgsz"].tolist()) == {detector.choose_imgsz(far)} == {dets.metadata["imgsz"]}
    assert not hasattr(detector, "last_imgsz")  # no per-detector reporting state (racy with several workers)


def test_auto_size_is_measured_on_products_not_gaps(monkeypatch):
    """Large empty-shelf boxes of a two-class model do not make ``auto`` think the products are large."""
    import numpy as np

    from shelfscan.inference import Detector

    det = Detector(None)
    products = np.array([[i * 20.0, 0, i * 20.0 + 20, 20] for i in range(10)], np.float32)  # 20-px products
    gaps = np.array([[0, 100, 300, 400]] * 10, np.float32)
    boxes = np.concatenate([products, gaps])
    labels = np.array([0] * 10 + [1] * 10)
    monkeypatch.setattr(type(det), "class_names", property(lambda self: ["object", "gap"]))
    monkeypatch.setattr(det, "_run", lambda image, conf=None: {"boxes": boxes, "labels": labels})
    size = det.choose_imgsz(np.zeros((480, 640, 3), np.uint8))
    cfg = det.config
    assert size == int(np.clip(round(cfg.auto_probe * cfg.auto_side / 20 / 32) * 32, *cfg.auto_range))
