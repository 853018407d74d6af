"""``shelfscan convert``: rewrite a dataset in another format (SKU-110K CSV, COCO JSON or YOLO).

Images are hard-linked (or copied), never re-encoded. Every split of the source is converted unless ``--split``
names one; a source without split names is written as split ``all`` (flat ``images/``, ``labels/`` for YOLO).
All splits share one class list (the union of theirs, in natural order, when they differ), so class ids agree
across the written splits. What the readers fixed or skipped is printed to stderr.
"""
from __future__ import annotations

import argparse
import sys

from shelfscan.cli.common import add_out

TARGETS = ("coco", "yolo", "sku")
SOURCES = ("sku", "coco", "yolo", "voc")
UNNAMED_SPLIT = "all"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="convert a dataset to COCO, YOLO or SKU-110K CSV",
                              description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("--data", required=True, help="source dataset: folder or annotation file (format detected)")
    p.add_argument("--split", default=None, help="convert only this split (default: all splits)")
    p.add_argument("--format", default=None, choices=SOURCES, help="source format (default: detected)")
    p.add_argument("--to", required=True, choices=TARGETS, help="target format")
    add_out(p, help="output folder")
    p.add_argument("--keep-corrupt", action="store_true",
                   help="keep images that do not decode (default: skip them; they are listed either way)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shelfscan.data import detect_format, list_splits, load_dataset, write_coco, write_sku110k, write_yolo
    from shelfscan.data.load import natural_sorted, with_class_names

    fmt = args.format or detect_format(args.data)
    splits = [args.split] if args.split is not None else list_splits(args.data, fmt) or [None]
    datasets = [load_dataset(args.data, split, format=fmt, skip_corrupt=not args.keep_corrupt) for split in splits]
    names = datasets[0].class_names
    if any(d.class_names != names for d in datasets):  # one class list for all splits, so ids agree
        names = natural_sorted([c for d in datasets for c in d.class_names])
        datasets = [with_class_names(d, names) for d in datasets]
    total = 0
    for split, dataset in zip(splits, datasets):
        print(dataset.report.summary(), file=sys.stderr)
        name = split or UNNAMED_SPLIT
        if args.to == "coco":
            written = write_coco(dataset, args.out, split=name)
        elif args.to == "yolo":
            written = write_yolo(dataset, args.out, split=split)  # no split name: flat images/, labels/
        else:
            written = write_sku110k(dataset, args.out, split=name)
            empty = sum(1 for r in dataset.images if len(r.boxes) == 0)
            if empty:
                print(f"{written}: {empty} images without boxes are not in the CSV (the format has one row per "
                      f"box); their files are in images/", file=sys.stderr)
        print(f"{fmt} {name}: {len(dataset)} images, {dataset.num_boxes} boxes, {len(dataset.class_names)} classes "
              f"-> {written}", file=sys.stderr)
        total += len(dataset)
    if not total:
        print(f"{args.data}: expected at least one image to convert, got none (see the report above)",
              file=sys.stderr)
    return 0 if total else 1
