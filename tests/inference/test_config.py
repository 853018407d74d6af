"""InferenceConfig (frozen, checked, the defaults of Detector) and the working size travelling with each result."""
import dataclasses

import numpy as np
import pytest

from shelfscan.errors import InputError
from shelfscan.inference.config import InferenceConfig
from shelfscan.inference.predict import postprocess


def test_frozen_config_refuses_assignment():
    cfg = InferenceConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.conf = 0.5
    assert dataclasses.replace(cfg, conf=0.5).conf == 0.5 and cfg.conf == InferenceConfig.conf


@pytest.mark.parametrize("field, value, expected", [
    ("conf", 1.5, r"conf: expected a number in \[0, 1\], got 1.5"),
    ("iou", 0.0, r"iou: expected a number in \(0, 1\], got 0.0"),
    ("max_det", 0, "max_det: expected a positive integer, got 0"),
    ("merger", "wbf", "merger: expected 'nms' or 'em', got 'wbf'"),
    ("imgsz", 16, "imgsz: expected an integer ≥ 32, 'auto' or None, got 16"),
    ("runtime", "tf", "runtime: expected one of"),
    ("tile", True, "tile: expected None or an integer ≥ 32, got True"),
    ("auto_range", (640, 320), r"auto_range: expected a tuple \(lo, hi\)"),
])
def test_bad_values_are_refused_with_expected_and_got(field, value, expected):
    with pytest.raises(InputError, match=expected):
        InferenceConfig(**{field: value})


def test_numpy_scalars_are_accepted():
    cfg = InferenceConfig(conf=np.float32(0.3), imgsz=np.int64(512), max_det=np.int64(10))
    assert cfg.imgsz == 512 and cfg.max_det == 10


def test_postprocess_defaults_are_the_config_s():
    import inspect

    params = inspect.signature(postprocess).parameters
    for name in ("conf", "iou", "max_det", "merger", "pre_nms_topk"):
        assert params[name].default == getattr(InferenceConfig, name), name


@pytest.fixture(scope="module")
def detector_cls():
    from shelfscan.inference import Detector

    try:
        Detector(None, imgsz=320)
    except Exception as exc:  # shipped weights missing in this install
        pytest.skip(f"shipped model unavailable: {exc}")
    return Detector


def test_detector_takes_a_config_and_options_win_over_it(detector_cls):
    base = InferenceConfig(conf=0.4, max_det=50, imgsz=320)
    det = detector_cls(None, config=base)
    assert det.config == base and (det.conf, det.max_det, det.imgsz, det.auto) == (0.4, 50, 320, False)
    over = detector_cls(None, config=base, conf=0.5)
    assert over.conf == 0.5 and over.max_det == 50 and base.conf == 0.4
    assert detector_cls(None).config == InferenceConfig()  # no option: every default is the config's
    with pytest.raises(AttributeError):
        det.conf = 0.1  # read-only: a view of the frozen config
    with pytest.raises(InputError, match="expected options among .*got unknown confidence"):
        detector_cls(None, confidence=0.3)


def test_each_result_carries_its_working_size(detector_cls):
    pytest.importorskip("cv2")  # synthetic shelves need OpenCV (the [synth] extra)
    from shelfscan.synth import render_shelf

    image, _ = render_shelf(2, width=480)
    det = detector_cls(None, imgsz=320, conf=0.3)
    boxes = det.predict(image)
    assert boxes.metadata == {"imgsz": 320} and set(boxes.data["imgsz"].tolist()) <= {320}
    other = det.with_imgsz(256)  # a copy at another size: its results say so, the original's do not change
    assert other.predict(image).metadata["imgsz"] == 256 and det.predict(image).metadata["imgsz"] == 320
    assert other.config.imgsz == 256 and det.config.imgsz == 320
    empty = det.predict(np.zeros((64, 96, 3), np.uint8))
    assert empty.metadata["imgsz"] == 320  # also with no box to carry it
    assert not hasattr(det, "last_imgsz")
    assert boxes[:3].metadata == {"imgsz": 320} and boxes.with_scores_above(0.9).metadata == {"imgsz": 320}
