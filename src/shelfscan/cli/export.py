"""``shelfscan export``: write the detector as one self-contained ONNX file (for ONNX Runtime, in Python or a browser).

The graph takes ``images`` float32 (B, 3, H, W) RGB 0..255 (H, W multiples of 32) and returns ``boxes``,
``scores``, ``cls_scores`` and ``iou_scores`` before thresholding and NMS; class names, input size and
normalisation are in the file's metadata. Run it with ``shelfscan detect --model model.onnx``.
"""
from __future__ import annotations

import argparse

from shelfscan.cli.common import add_model


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export the detector to ONNX", description=__doc__)
    p.add_argument("--format", choices=("onnx",), default="onnx", help="export format (default onnx)")
    p.add_argument("--out", required=True, help="output file, e.g. model.onnx")
    add_model(p)
    p.add_argument("--imgsz", type=int, default=None,
                   help="working resolution recorded in the file, a multiple of 32 (default: the model's)")
    p.add_argument("--half", action="store_true",
                   help="store the weights as float16 (half the file); inputs, outputs and compute stay float32")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from shelfscan.inference.torch_model import import_torch

    import_torch("ONNX export")  # the core install has no torch: say which extra brings it
    from shelfscan.export.onnx import INPUT_NAME, OUTPUT_NAMES, export_onnx
    from shelfscan.models.checkpoint import load_detector

    model = load_detector(args.model)
    out = export_onnx(model, Path(args.out), imgsz=args.imgsz, half=args.half)
    size_mb = out.stat().st_size / 2**20
    print(f"{out} ({size_mb:.1f} MB, {'float16' if args.half else 'float32'} weights): "
          f"{INPUT_NAME} (B, 3, H, W) float32 RGB 0..255 -> {', '.join(OUTPUT_NAMES)}; "
          f"classes {list(model.config.class_names)}, imgsz {args.imgsz or model.config.imgsz}")
    from shelfscan.models.shipped import shipped_model

    entry = shipped_model(args.model)
    if entry is not None and entry.passes:
        nets = len(entry.files())
        print(f"note: {args.model or 'the default model'} fuses {len(entry.passes)} passes of {nets} networks in "
              f"shelfscan; this file is its {entry.checkpoint} network alone (one pass)")
    return 0
