"""``shelfscan train-embedder``: fine-tune the crop network that groups products into types, on the product boxes
of real shelf photos (no type labels: pairs of one photo are related by the shipped embedder, see
``shelfscan.engine.crop_bank``). Writes a lukemelas-layout state_dict that ``count --embedder-weights`` and
``CropEmbedder(weights=...)`` read."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from shelfscan.engine.crop_bank import BankConfig
from shelfscan.engine.embed_config import EmbedTrainConfig
from shelfscan.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    d, b = EmbedTrainConfig, BankConfig  # every default below is one of their fields'
    p = sub.add_parser("train-embedder", help="fine-tune the crop network that groups products into types",
                       description=__doc__)
    p.add_argument("--data", nargs="+", required=True, metavar="DIR",
                   help="datasets with product boxes (any format `train` reads)")
    p.add_argument("--splits", nargs="+", default=None, help="splits to use where a dataset has splits (default all)")
    p.add_argument("--exclude", nargs="*", default=[], metavar="IMAGE", help="image names left out")
    p.add_argument("--exclude-labels", type=Path, default=None, metavar="DIR",
                   help="leave out the images of the type-label files in DIR (e.g. benchmarks/data/shelf_types)")
    p.add_argument("--minutes", type=float, default=d.minutes, help=f"training time (default {d.minutes:g})")
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--photos-per-step", type=int, default=d.photos_per_step)
    p.add_argument("--crops-per-photo", type=int, default=d.crops_per_photo)
    p.add_argument("--frozen-stages", type=int, default=d.frozen_stages)
    p.add_argument("--init", default=d.init, metavar="PT",
                   help="start from these crop-network weights (a run's last.pt) instead of ImageNet's")
    p.add_argument("--max-boxes", type=int, default=b.max_boxes, help="crops kept per photo")
    p.add_argument("--same-cos", type=float, default=b.same_cos,
                   help=f"pairs of one photo this close (shipped embedder's cosine) are one type (default {b.same_cos})")
    p.add_argument("--different-cos", type=float, default=b.different_cos,
                   help=f"pairs below this cosine are different types (default {b.different_cos}); between the two: "
                        "not used")
    p.add_argument("--threads", type=int, default=None, help="CPU threads of torch (default: its own)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, default=Path("runs/embedder/train"), help="run folder")
    p.set_defaults(func=run)


def excluded_images(args: argparse.Namespace) -> set[str]:
    """The image names ``--exclude`` and ``--exclude-labels`` leave out."""
    names = set(args.exclude)
    if args.exclude_labels is not None:
        files = sorted(args.exclude_labels.glob("*.json"))
        if not files:
            raise InputError(f"--exclude-labels: expected type-label JSON files in {args.exclude_labels}, got none")
        names |= {json.loads(f.read_text())["image"] for f in files}
    return names


def run(args: argparse.Namespace) -> int:
    from shelfscan.inference.torch_model import import_torch

    torch = import_torch("train-embedder")
    from shelfscan.embed import CropEmbedder
    from shelfscan.engine.crop_bank import build_bank
    from shelfscan.engine.train_embedder import dataset_photos, train_embedder

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not 0 < args.different_cos <= args.same_cos <= 1:
        raise InputError(f"--different-cos / --same-cos: expected 0 < different <= same <= 1, got "
                         f"{args.different_cos} / {args.same_cos}")
    bank_config = BankConfig(max_boxes=args.max_boxes, same_cos=args.same_cos, different_cos=args.different_cos)
    config = EmbedTrainConfig(minutes=args.minutes, max_steps=args.max_steps, lr=args.lr,
                              photos_per_step=args.photos_per_step, crops_per_photo=args.crops_per_photo,
                              frozen_stages=args.frozen_stages, seed=args.seed, init=args.init)
    photos = dataset_photos(args.data, args.splits, excluded_images(args), report=print)
    bank = build_bank(photos, CropEmbedder(flip=True, precision="auto", threads=args.threads), bank_config,
                      seed=args.seed)
    print("crop bank:", ", ".join(f"{k} {v}" for k, v in bank.summary().items()))
    path = train_embedder(bank, args.out, config, bank_config)
    print(f"weights in {path} (count --embedder-weights {path})")
    return 0
