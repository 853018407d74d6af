"""Argument helpers shared by the verbs, so every verb spells the same option the same way."""
from __future__ import annotations

import argparse
from dataclasses import fields

from shelfscan.inference.config import MERGERS, PRECISIONS, RUNTIMES, InferenceConfig


def add_out(p: argparse.ArgumentParser, help: str, required: bool = True) -> None:
    p.add_argument("--out", required=required, help=help)


def add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="model name (e.g. 'shelf') or path to a .pt/.onnx file (default: the shipped shelf model)")


def parse_imgsz(text: str) -> int | str:
    """A working size as typed (``--imgsz``, the API's ``imgsz`` query parameter): ``"auto"`` or an integer
    number of pixels ≥ 32.

    Raises:
        InputError: anything else, with what was expected and what came.
    """
    from shelfscan.errors import InputError

    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"expected an integer number of pixels or 'auto', got {text!r}") from None
    if value < 32:
        raise InputError(f"expected at least 32 pixels, got {value}")
    return value


def imgsz_arg(text: str) -> int | str:
    """``--imgsz``: a positive integer or ``auto`` (a first pass picks the size from the products' size)."""
    from shelfscan.errors import InputError

    try:
        return parse_imgsz(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_inference(p: argparse.ArgumentParser, conf: float = InferenceConfig.conf) -> None:
    """``--imgsz --conf --iou --max-det --device --tta``, defaults from :class:`InferenceConfig` (``conf``: a
    verb's own default, e.g. counting's ``CountConfig.count_conf``)."""
    d = InferenceConfig
    p.add_argument("--imgsz", type=imgsz_arg, default=d.imgsz,
                   help="working resolution, longest side in pixels, or 'auto' (chosen per photo from a first "
                        "pass so products come out at the size the model was trained on; default: the model's)")
    p.add_argument("--conf", type=float, default=conf, help=f"score threshold (default {conf})")
    p.add_argument("--iou", type=float, default=d.iou, help=f"NMS IoU threshold (default {d.iou})")
    p.add_argument("--max-det", type=int, default=d.max_det, help=f"most boxes kept per image (default {d.max_det})")
    p.add_argument("--device", default=d.device, help=f"torch device: cpu, cuda, cuda:0 (default {d.device})")
    p.add_argument("--tta", action="store_true", default=d.tta,
                   help="also run the mirrored photo and merge both (twice the time, a little more accurate)")


def add_merging(p: argparse.ArgumentParser) -> None:
    """How overlapping candidates become boxes (shared by detect and count), defaults from InferenceConfig."""
    d = InferenceConfig
    p.add_argument("--merger", choices=MERGERS, default=d.merger,
                   help="how overlapping candidates become one box: NMS or the SKU-110K EM-Merger")
    p.add_argument("--hard-score-rate", type=float, default=d.hard_score_rate,
                   help="r in score = cls^r · predicted_iou^(1-r) (default: the model's, 0.5)")
    p.add_argument("--threads", type=int, default=d.threads, help="CPU threads")


def add_runtime(p: argparse.ArgumentParser) -> None:
    """``--runtime`` (which library runs the network) and ``--precision`` (defaults: ``InferenceConfig``'s)."""
    p.add_argument("--runtime", choices=RUNTIMES, default=InferenceConfig.runtime,
                   help="shipped models on CPU: auto uses ONNX Runtime when installed (faster), else PyTorch")
    p.add_argument("--precision", choices=PRECISIONS, default=InferenceConfig.precision,
                   help="shipped models in ONNX Runtime on CPU: auto runs the int8 file where one ships (the "
                        "shelf model), fp32 the exported one")


def inference_config(args: argparse.Namespace, **overrides) -> InferenceConfig:
    """The :class:`InferenceConfig` of a verb's parsed options: every field the verb has a flag for (``--max-det``
    is ``max_det``), then ``overrides``; fields it has no flag for keep their defaults."""
    given = {f.name: getattr(args, f.name) for f in fields(InferenceConfig) if hasattr(args, f.name)}
    return InferenceConfig(**{**given, **overrides})
