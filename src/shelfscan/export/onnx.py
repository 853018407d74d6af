"""Export a :class:`ShelfDetector` to one self-contained ONNX file (no ``.onnx.data`` beside it).

The graph ends before any thresholding or NMS (onnxruntime-web's WebGPU backend has gaps with NMS and empty
tensors; TopK reorders ties): callers do threshold → top-k → NMS themselves (Python: :mod:`shelfscan.export.runtime`,
browser: JavaScript).

Graph:
    input  ``images``      float32 (B, 3, H, W) RGB 0..255, H and W multiples of 32; B, H, W dynamic.
    output ``boxes``       float32 (B, A, 4) xyxy in input pixels, A = Σ_levels (H/s)·(W/s), s ∈ {8, 16, 32}
           ``scores``      float32 (B, A, C) blended score cls^r · iou^(1−r), r = the model's hard_score_rate
           ``cls_scores``  float32 (B, A, C) sigmoid of the class logits (lets Python re-blend with another r)
           ``iou_scores``  float32 (B, A)    sigmoid of the IoU-quality logit (predicted IoU with the true box)
The image is normalised inside the graph, ``(x − mean) / std`` (the trunk's: 127 / 128 for EfficientNet-Lite,
127.5 / 127.5 for MobileNetV2 COCO); metadata (``metadata_props``) says so, with the
class names, working size and output layout, so a runtime needs nothing but the file.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from shelfscan import __version__
from shelfscan.errors import expect
from shelfscan.models.backbone import PIXEL_MEAN, PIXEL_STD
from shelfscan.models.detector import ShelfDetector
from shelfscan.models.predict import blend_scores

from shelfscan.inference.onnx_model import INPUT_NAME, OUTPUT_NAMES, STRIDE  # noqa: F401  (the graph's format)
OPSET = 18


class ExportWrapper(nn.Module):
    """The detector with the outputs the ONNX graph exposes (see the module docstring for shapes)."""

    def __init__(self, model: ShelfDetector) -> None:
        super().__init__()
        self.model = model
        self.hard_score_rate = float(model.config.hard_score_rate)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.model(images)
        scores = blend_scores(out["cls_logits"], out["iou_logits"], self.hard_score_rate)
        return out["boxes"], scores, out["cls_logits"].sigmoid(), out["iou_logits"].sigmoid()


def export_metadata(model: ShelfDetector, imgsz: int) -> dict[str, str]:
    """``metadata_props`` of the exported file: every value a string (JSON where structured)."""
    cfg = model.config
    return {
        "producer": f"shelfscan {__version__}",
        "class_names": json.dumps(list(cfg.class_names)),
        "imgsz": str(int(imgsz)),
        "stride": str(STRIDE),
        "mean": str(getattr(model.backbone, "pixel_mean", PIXEL_MEAN)),
        "std": str(getattr(model.backbone, "pixel_std", PIXEL_STD)),
        "normalisation": "inside the graph: (x - mean) / std on RGB 0..255",
        "hard_score_rate": str(float(cfg.hard_score_rate)),
        "input_layout": json.dumps({INPUT_NAME: "float32 (B, 3, H, W) RGB 0..255, H and W multiples of 32"}),
        "output_layout": json.dumps({
            "boxes": "(B, A, 4) xyxy input pixels",
            "scores": "(B, A, C) cls^r * iou^(1-r), r = hard_score_rate",
            "cls_scores": "(B, A, C) sigmoid(class logit)",
            "iou_scores": "(B, A) sigmoid(IoU logit)",
        }),
        "postprocess": "none in the graph: threshold scores, top-k, class-aware NMS",
        "weights": "float32",
        "config": json.dumps(cfg.to_dict()),
    }


def export_onnx(model: ShelfDetector, out: str | Path, *, imgsz: int | None = None, half: bool = False,
                opset: int = OPSET) -> Path:
    """Write ``model`` as one ONNX file at ``out`` (parent folders created) and return its path.

    Args:
        model: the detector (any device; exported from a float32 CPU copy in eval mode).
        imgsz: working resolution recorded in the metadata and used for the example input (default: the model's).
        half: store the weights as float16 (half the file); compute and the input/outputs stay float32, because
            onnxruntime's CPU kernels are float32 (a Cast per weight, which ONNX Runtime folds when it loads).
        opset: ONNX opset.

    Raises:
        InputError: ``imgsz`` is not a positive multiple of 32, or ``out`` does not end in ``.onnx``.
    """
    import onnx

    imgsz = int(imgsz or model.config.imgsz)
    expect(imgsz >= STRIDE and imgsz % STRIDE == 0, "--imgsz", f"a positive multiple of {STRIDE}", imgsz)
    out = Path(out)
    expect(out.suffix.lower() == ".onnx", "--out", "a file name ending in .onnx", str(out))
    out.parent.mkdir(parents=True, exist_ok=True)

    net = ShelfDetector(model.config, pretrained_backbone=False)
    net.load_state_dict({k: v.detach().float().cpu() for k, v in model.state_dict().items()})
    wrapper = ExportWrapper(net.eval()).eval()
    example = torch.zeros(2, 3, imgsz, imgsz)  # batch 2: a batch of 1 would be specialised to 1
    batch = torch.export.Dim("batch", min=1, max=64)
    h32 = torch.export.Dim("h32", min=1, max=512)
    w32 = torch.export.Dim("w32", min=1, max=512)
    dynamic = {"images": {0: batch, 2: STRIDE * h32, 3: STRIDE * w32}}
    with torch.no_grad():
        program = torch.onnx.export(wrapper, (example,), dynamo=True, external_data=False, optimize=True,
                                    input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
                                    dynamic_shapes=dynamic, opset_version=opset, verbose=False)
    proto = program.model_proto
    onnx.helper.set_model_props(proto, export_metadata(net, imgsz))
    if half:
        weights_to_float16(proto)
    onnx.checker.check_model(proto)
    # one file: everything inline (a 2 GB proto limit is far above any detector here)
    onnx.save_model(proto, str(out), save_as_external_data=False)
    return out


def weights_to_float16(proto) -> None:
    """Store every float32 initializer of the ``onnx.ModelProto`` as float16 and cast it back to float32 inside the
    graph (in place): half the file, same float32 inputs, outputs and compute. Updates the ``weights`` metadata."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    graph = proto.graph
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            kept.append(init)
            continue
        arr = numpy_helper.to_array(init)
        half_name = f"{init.name}__fp16"
        kept.append(numpy_helper.from_array(arr.astype(np.float16), half_name))
        casts.append(onnx.helper.make_node("Cast", [half_name], [init.name], to=onnx.TensorProto.FLOAT,
                                           name=f"{init.name}__to_fp32"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    for prop in proto.metadata_props:
        if prop.key == "weights":
            prop.value = "float16 (cast to float32 inside the graph)"
