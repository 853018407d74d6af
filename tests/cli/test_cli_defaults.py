"""Every verb's defaults are its settings dataclass's (issue #19: one source of truth for every setting): a verb run
with no option builds exactly the default config."""
from dataclasses import fields

import pytest

from shelfscan.batch.settings import CountSettings
from shelfscan.cli import build_parser
from shelfscan.cli.common import inference_config
from shelfscan.cli.train import train_config
from shelfscan.counting.config import CountConfig
from shelfscan.engine.train_config import TrainConfig
from shelfscan.inference.config import InferenceConfig
from shelfscan.metrics.config import EvalConfig
from shelfscan.serve.config import MIB, ServeConfig


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_detect_defaults_are_the_inference_config():
    args = parse("detect", "x.jpg", "--out", "p.csv")
    assert inference_config(args) == InferenceConfig()
    # every flag detect has for a field defaults to that field
    assert {f.name for f in fields(InferenceConfig) if hasattr(args, f.name)} >= {
        "imgsz", "conf", "iou", "max_det", "merger", "hard_score_rate", "tile", "tta", "device", "threads", "runtime"}


def test_count_defaults_are_counting_s():
    args = parse("count", "x.jpg", "--out", "o")
    assert inference_config(args) == InferenceConfig(conf=CountConfig.count_conf)
    assert (args.confirm_below, args.method) == (CountConfig.confirm_below, CountConfig.method)


def test_serve_defaults_are_the_inference_and_serve_configs():
    args = parse("serve")
    assert inference_config(args) == InferenceConfig()
    assert (args.host, args.port, args.workers, args.timeout, args.header_timeout) == (
        ServeConfig.host, ServeConfig.port, ServeConfig.workers, ServeConfig.timeout_s, ServeConfig.header_timeout)
    assert int(args.max_mb * MIB) == ServeConfig.max_bytes and int(args.max_megapixels * MIB) == ServeConfig.max_pixels
    assert args.count_conf is None and args.confirm_below is None  # None: CountConfig's, resolved by create_app


def test_batch_defaults_are_the_count_settings():
    args = parse("batch", "photos", "--out", "o")
    got = CountSettings(model=args.model, imgsz=args.imgsz, conf=args.conf, method=args.method,
                        confirm_below=args.confirm_below)
    assert got == CountSettings()
    assert CountSettings().inference_config() == InferenceConfig(conf=CountConfig.count_conf)


def test_val_defaults_are_the_evaluation_protocol():
    args = parse("val", "--data", "d", "--model", "shelf")
    assert (args.conf, args.max_det, args.count_thr) == (EvalConfig.conf, EvalConfig.max_det,
                                                           EvalConfig.count_threshold)
    assert (args.imgsz, args.tta) == (InferenceConfig.imgsz, InferenceConfig.tta)


def test_train_defaults_are_the_train_config():
    assert train_config(parse("train")) == TrainConfig()
    assert TrainConfig.max_det_val == EvalConfig.max_det


@pytest.mark.parametrize("verb", ["detect", "count", "serve"])
def test_a_bad_setting_is_an_input_error_naming_it(verb):
    from shelfscan.errors import InputError

    argv = {"detect": ("x.jpg", "--out", "p.csv"), "count": ("x.jpg", "--out", "o"), "serve": ()}[verb]
    with pytest.raises(InputError, match=r"conf: expected a number in \[0, 1\], got 1.5"):
        inference_config(parse(verb, *argv, "--conf", "1.5"))
