"""Argument helpers shared by the verbs, so every verb spells the same option the same way."""
from __future__ import annotations

import argparse


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


def add_inference(p: argparse.ArgumentParser, conf: float = 0.25, iou: float = 0.6, max_det: int = 1000) -> None:
    p.add_argument("--imgsz", type=imgsz_arg, default=None,
                   help="working resolution, longest side in pixels, or 'auto' (chosen per photo from a first "
                        "pass so products come out at the size the model was trained on; default: the model's)")
    p.add_argument("--conf", type=float, default=conf, help=f"score threshold (default {conf})")
    p.add_argument("--iou", type=float, default=iou, help=f"NMS IoU threshold (default {iou})")
    p.add_argument("--max-det", type=int, default=max_det, help=f"most boxes kept per image (default {max_det})")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:0 (default cpu)")
    p.add_argument("--tta", action="store_true",
                   help="also run the mirrored photo and merge both (twice the time, a little more accurate)")


def add_merging(p: argparse.ArgumentParser) -> None:
    """How overlapping candidates become boxes (shared by detect and count)."""
    p.add_argument("--merger", choices=("nms", "em"), default="nms",
                   help="how overlapping candidates become one box: NMS or the SKU-110K EM-Merger")
    p.add_argument("--hard-score-rate", type=float, default=None,
                   help="r in score = cls^r · predicted_iou^(1-r) (default: the model's, 0.5)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads")
