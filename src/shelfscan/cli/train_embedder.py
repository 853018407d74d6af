"""``shelfscan train-embedder``: fine-tune the crop network that groups products into types, on the product boxes
of real shelf photos: pairs of one photo of ``--data`` are related by the shipped embedder, pairs of a photo typed
by eye (``--type-labels``) by its types (see ``shelfscan.engine.crop_bank``). Writes a lukemelas-layout state_dict
that ``count --embedder-weights`` and ``CropEmbedder(weights=...)`` read."""
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
    p.add_argument("--data", nargs="+", default=[], metavar="DIR",
                   help="datasets with product boxes (any format `train` reads)")
    p.add_argument("--type-labels", type=Path, nargs="+", default=None, metavar="DIR",
                   help="folders of type-label files (benchmarks/data/shelf_types layout): their photos' pairs are "
                        "related by the types typed by eye; their photos are left out of --data")
    p.add_argument("--type-label-images", type=Path, default=None, metavar="DIR",
                   help="folder holding the photos of --type-labels")
    p.add_argument("--type-label-only", nargs="+", default=None, metavar="STEM",
                   help="use only these type-label files (stems), e.g. to hold the others out")
    p.add_argument("--splits", nargs="+", default=None, help="splits to use where a dataset has splits (default all)")
    p.add_argument("--exclude", nargs="*", default=[], metavar="IMAGE", help="image names of --data left out")
    p.add_argument("--exclude-labels", type=Path, default=None, metavar="DIR",
                   help="leave out of --data the images of the type-label files in DIR "
                        "(e.g. benchmarks/data/shelf_types)")
    p.add_argument("--minutes", type=float, default=d.minutes, help=f"training time (default {d.minutes:g})")
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--photos-per-step", type=int, default=d.photos_per_step)
    p.add_argument("--crops-per-photo", type=int, default=d.crops_per_photo)
    p.add_argument("--typed-share", type=float, default=d.typed_share,
                   help=f"share of each step's photos drawn from --type-labels photos when --data is given too "
                        f"(default {d.typed_share:g})")
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
    p.add_argument("--device", default=d.device,
                   help=f"torch device of the network: cpu, cuda, cuda:0 (default {d.device}; CUDA trains in "
                        "bfloat16 autocast)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, default=Path("runs/embedder/train"), help="run folder")
    p.set_defaults(func=run)


def label_file_images(files: list[Path]) -> set[str]:
    """The image names of the type-label files ``files``."""
    return {json.loads(f.read_text())["image"] for f in files}


def excluded_images(args: argparse.Namespace) -> set[str]:
    """The image names ``--exclude`` and ``--exclude-labels`` leave out."""
    names = set(args.exclude)
    if args.exclude_labels is not None:
        from shelfscan.engine.train_embedder import type_label_files

        names |= label_file_images(type_label_files(args.exclude_labels, what="--exclude-labels"))
    return names


def training_photos(args: argparse.Namespace):
    """The photos of ``--type-labels`` (with their types) and then those of ``--data`` (without), each image once;
    InputError when neither is given or ``--type-labels`` comes without its images."""
    import itertools

    from shelfscan.engine.train_embedder import dataset_photos, labelled_photos, type_label_files

    if not args.data and args.type_labels is None:
        raise InputError("train-embedder: expected --data DIR... or --type-labels DIR (or both), got neither")
    if (args.type_labels is None) != (args.type_label_images is None):
        raise InputError("train-embedder: expected --type-labels and --type-label-images together, got "
                         f"{'--type-labels' if args.type_labels is not None else '--type-label-images'} alone")
    if args.type_label_only is not None and args.type_labels is None:
        raise InputError("train-embedder: --type-label-only expected --type-labels, got none")
    exclude = excluded_images(args)
    labelled = []
    if args.type_labels is not None:
        files = type_label_files(args.type_labels, args.type_label_only, what="--type-labels")
        exclude |= label_file_images(files)
        labelled = labelled_photos(files, args.type_label_images, report=print)
    unlabelled = dataset_photos(args.data, args.splits, exclude, report=print) if args.data else []
    return itertools.chain(labelled, unlabelled)


def run(args: argparse.Namespace) -> int:
    from shelfscan.inference.torch_model import import_torch

    torch = import_torch("train-embedder")
    from shelfscan.embed import CropEmbedder
    from shelfscan.engine.crop_bank import build_bank
    from shelfscan.engine.train_embedder import train_embedder, training_device

    training_device(args.device)  # a device this torch cannot use is refused before the crops are cut
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not 0 < args.different_cos <= args.same_cos <= 1:
        raise InputError(f"--different-cos / --same-cos: expected 0 < different <= same <= 1, got "
                         f"{args.different_cos} / {args.same_cos}")
    if not 0 <= args.typed_share <= 1:
        raise InputError(f"--typed-share: expected a share in [0, 1], got {args.typed_share}")
    bank_config = BankConfig(max_boxes=args.max_boxes, same_cos=args.same_cos, different_cos=args.different_cos)
    config = EmbedTrainConfig(minutes=args.minutes, max_steps=args.max_steps, lr=args.lr,
                              photos_per_step=args.photos_per_step, crops_per_photo=args.crops_per_photo,
                              typed_share=args.typed_share,
                              frozen_stages=args.frozen_stages, seed=args.seed, init=args.init, device=args.device)
    photos = training_photos(args)
    bank = build_bank(photos, CropEmbedder(flip=True, precision="auto", threads=args.threads), bank_config,
                      seed=args.seed)
    print("crop bank:", ", ".join(f"{k} {v}" for k, v in bank.summary().items()))
    path = train_embedder(bank, args.out, config, bank_config)
    print(f"weights in {path} (count --embedder-weights {path})")
    return 0
