"""Turn a training run's best.pt into the shipped fp16 checkpoint inside the package.

    python scripts/ship_model.py runs/train/<name>/best.pt src/shelfscan/weights/shelf.pt --commit <sha> \
        --command "shelfscan train ..." [--classes object]

Keeps only what inference needs (config + fp16 weights) plus provenance: the training command, the commit it
was trained at, and the per-epoch history. The model card (MODEL_CARD.md beside it) is written by hand from the
benchmark numbers.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("best")
    ap.add_argument("out")
    ap.add_argument("--commit", required=True, help="git commit the model was trained at")
    ap.add_argument("--command", required=True, help="the exact training command")
    ap.add_argument("--classes", nargs="+", metavar="NAME",
                    help="ship only these of the run's classes (e.g. object: a product model from a product+gap run)")
    args = ap.parse_args()
    from shelfscan.engine.train import export_shipped

    path = export_shipped(args.best, args.out, classes=args.classes,
                          provenance={"commit": args.commit, "command": args.command})
    print(f"{path}: {Path(path).stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
