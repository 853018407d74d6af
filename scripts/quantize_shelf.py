"""Statically quantize an exported detector to int8 with ONNX Runtime, calibrated on real shelf photos.

    python scripts/quantize_shelf.py [--model src/shelfscan/weights/shelf.onnx] --out shelf_int8.onnx
        [--calib ../shared/data/sku110k-sample ../shared/data/shelf-photos-640] [--images 32]
        [--method minmax|percentile|entropy] [--side 768] [--no-reduce-range] [--weights int8|uint8]
        [--exclude-last-convs]
    python scripts/quantize_shelf.py --embedder --model src/shelfscan/weights/embedder.onnx \
        --out src/shelfscan/weights/embedder_int8.onnx --keep-first 6     (the shipped int8 crop embedder)

Calibration inputs are the photos scaled like ``Detector`` does (longest side at ``--sizes``), cut or padded to
one ``--side`` × ``--side`` window (percentile and entropy calibration need equal shapes). ``--reduce-range``
(the default) stores 7-bit weights: on CPUs without AVX-512 VNNI the u8·s8 dot products of ONNX Runtime's int8
convolutions can saturate their 16-bit intermediates, which costs accuracy; 7-bit weights cannot saturate.
The file keeps the fp32 model's metadata, so ``Detector("shelf_int8.onnx", imgsz="auto")`` runs it.

``--embedder`` calibrates on product crops (the labelled boxes of ``--images`` photos, ``--crop-size`` px, as
``CropEmbedder`` cuts them). Its first convolutions are where 8 bits cost the most: on 1,012 sku110k-sample val
crops the vectors of an all-int8 embedder have mean cosine 0.956 (min 0.76) to the fp32 ones, with the first 6
convolutions (stem, first block) kept fp32 0.985 (min 0.95) for 0.175 s instead of 0.16 s per 150 crops.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
# quantized together: a Conv followed by its Clip (ReLU6) / Relu keeps one quantized tensor after the activation
# (quantizing a convolution's output before its activation loses the small channels of depthwise layers)
OPS = ("Conv", "Clip", "Relu", "Add", "Concat", "Resize", "MaxPool")


def calibration_inputs(folders: list[str], n: int, sizes: tuple[int, ...], side: int, seed: int) -> list[np.ndarray]:
    """``n`` photos from ``folders`` (train split where there is one), each scaled so its longest side is one of
    ``sizes`` (cycled), then cut from its top-left corner or padded (grey 114) to ``side`` × ``side``:
    float32 (1, 3, side, side) RGB 0..255."""
    from shelfscan.data import load_dataset, read_image
    from shelfscan.imageops import resize
    from shelfscan.inference.tiling import PAD_VALUE

    records = []
    for folder in folders:
        ds = load_dataset(folder, split="train")
        records.extend(ds.images)
    rng = np.random.default_rng(seed)
    picked = [records[i] for i in rng.permutation(len(records))[:n]]
    out = []
    for k, rec in enumerate(picked):
        rgb = read_image(rec.path)
        size = sizes[k % len(sizes)]
        scale = size / max(rgb.shape[:2])
        rgb = resize(rgb, (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))))
        canvas = np.full((side, side, 3), PAD_VALUE, np.uint8)
        h, w = min(side, rgb.shape[0]), min(side, rgb.shape[1])
        canvas[:h, :w] = rgb[:h, :w]
        out.append(canvas.transpose(2, 0, 1)[None].astype(np.float32))
    return out


def crop_inputs(folders: list[str], n: int, size: int, batch: int, seed: int) -> list[np.ndarray]:
    """Product crops of ``n`` photos (their labelled boxes, train split), resized to ``size`` like
    ``CropEmbedder`` does, in batches: float32 (batch, 3, size, size) RGB 0..255."""
    from shelfscan.data import load_dataset, read_image
    from shelfscan.embed.crops import crop_boxes

    records = [r for folder in folders for r in load_dataset(folder, split="train").images]
    rng = np.random.default_rng(seed)
    crops = np.concatenate([crop_boxes(read_image(records[i].path), records[i].boxes.xyxy, size)
                            for i in rng.permutation(len(records))[:n]])
    crops = crops[rng.permutation(len(crops))].transpose(0, 3, 1, 2).astype(np.float32)
    return [crops[i:i + batch] for i in range(0, len(crops) - batch + 1, batch)]


class Reader:
    """``onnxruntime.quantization.CalibrationDataReader`` over prepared inputs."""

    def __init__(self, inputs: list[np.ndarray], name: str = "images") -> None:
        self.items = iter([{name: x} for x in inputs])

    def get_next(self):
        return next(self.items, None)

    def rewind(self) -> None:  # not needed by the calibrators used here
        pass


def graph_parts(model_path: Path) -> tuple[list[str], list[str]]:
    """(decode nodes, head output convs) of an exported detector: the decode nodes are those from which no Conv
    can be reached (anchor points, box decoding, sigmoid, score blend: kept in fp32, as box coordinates of up to
    thousands of pixels cannot be 8-bit); the head's output convs are the Convs whose output reaches no Conv."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    reaches: dict[str, bool] = {}

    def reaches_conv(node) -> bool:  # whether a Conv lies downstream of node's outputs
        if node.name not in reaches:
            reaches[node.name] = any(c.op_type == "Conv" or reaches_conv(c)
                                     for o in node.output for c in consumers.get(o, []))
        return reaches[node.name]

    decode = [n.name for n in graph.node if n.op_type != "Conv" and not reaches_conv(n)]
    last = [n.name for n in graph.node if n.op_type == "Conv" and not reaches_conv(n)]
    return decode, last


def first_convs(model_path: Path, n: int) -> list[str]:
    """Names of the first ``n`` Conv nodes of the graph, in graph order."""
    import onnx

    return [node.name for node in onnx.load(str(model_path)).graph.node if node.op_type == "Conv"][:n]


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "src/shelfscan/weights/shelf.onnx"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--calib", nargs="+", default=[str(SHARED / "sku110k-sample"), str(SHARED / "shelf-photos-640")])
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--sizes", type=int, nargs="+", default=[640, 832, 1024])
    ap.add_argument("--side", type=int, default=768)
    ap.add_argument("--method", default="minmax", choices=["minmax", "percentile", "entropy"])
    ap.add_argument("--no-reduce-range", action="store_true")
    ap.add_argument("--weights", default="int8", choices=["int8", "uint8"])
    ap.add_argument("--exclude-last-convs", action="store_true", help="keep the head's output convs in fp32")
    ap.add_argument("--ops", nargs="+", default=list(OPS), help="operator types to quantize")
    ap.add_argument("--keep-first", type=int, default=0, help="keep the first N convolutions in fp32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embedder", action="store_true",
                    help="quantize the crop embedder (--model weights/embedder.onnx), calibrated on product crops")
    ap.add_argument("--crop-size", type=int, default=112, help="with --embedder: crop side (CropEmbedder's)")
    return ap.parse_args()


def quantize(args: argparse.Namespace, inputs: list[np.ndarray]) -> tuple[list[str], list[str]]:
    """Write the QDQ model to ``args.out``; returns (decode nodes kept fp32, convs kept fp32)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
              "entropy": CalibrationMethod.Entropy}[args.method]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(args.model, str(pre), skip_symbolic_shape=True)
        decode, last = ([], []) if args.embedder else graph_parts(pre)
        convs = (last if args.exclude_last_convs else []) + first_convs(pre, args.keep_first)
        reader = Reader(inputs, "crops" if args.embedder else "images")
        quantize_static(str(pre), args.out, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=not args.no_reduce_range, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8 if args.weights == "int8" else QuantType.QUInt8,
                        op_types_to_quantize=args.ops, nodes_to_exclude=decode + convs, calibrate_method=method,
                        extra_options={"CalibMovingAverage": False})
    return decode, convs


def write_metadata(args: argparse.Namespace, n_inputs: int) -> None:
    """Give ``args.out`` the fp32 model's metadata (config, classes, size) plus the recipe (``quantization``)."""
    import json

    import onnx

    from shelfscan.batch.settings import file_sha256

    src, dst = onnx.load(args.model), onnx.load(args.out)
    meta = {p.key: p.value for p in dst.metadata_props}
    meta.update({p.key: p.value for p in src.metadata_props})
    meta["quantization"] = json.dumps({
        "precision": "int8", "format": "QDQ", "method": args.method, "reduce_range": not args.no_reduce_range,
        "weights": args.weights, "per_channel": True, "ops": args.ops, "images": n_inputs,
        **({"crop_size": args.crop_size} if args.embedder else {"sizes": args.sizes, "side": args.side}),
        "keep_first": args.keep_first, "seed": args.seed, "calibration": [Path(c).name for c in args.calib],
        "fp32_sha256": file_sha256(args.model)})
    del dst.metadata_props[:]
    for key, value in meta.items():
        dst.metadata_props.add(key=key, value=value)
    onnx.save(dst, args.out)


def main() -> int:
    args = parse_args()
    if args.embedder:
        inputs = crop_inputs(args.calib, args.images, args.crop_size, 64, args.seed)
    else:
        inputs = calibration_inputs(args.calib, args.images, tuple(args.sizes), args.side, args.seed)
    decode, convs = quantize(args, inputs)
    write_metadata(args, len(inputs))
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB; {args.method}, reduce_range "
          f"{not args.no_reduce_range}, weights {args.weights}, {len(decode)} decode nodes and {len(convs)} convs "
          f"kept fp32, {len(inputs)} calibration inputs of {args.crop_size if args.embedder else args.side} px)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
