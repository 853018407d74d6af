"""``shelfscan synth``: render synthetic dense shelves with SKU labels, in the SKU-110K layout."""
from __future__ import annotations

import argparse

from shelfscan.cli.common import add_out
from shelfscan.errors import expect

from shelfscan.synth.defaults import DEFAULT_SKUS, PHOTO_WIDTH


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "synth", help="render synthetic shelf photos with a box and SKU id per product",
        description="Render synthetic photos of densely packed shelves (50-300 products each) and write them in "
                    "the SKU-110K layout: DIR/images/synth_<split>_<i>.jpg and "
                    "DIR/annotations/annotations_<split>.csv with class sku_<id>.")
    add_out(p, help="output folder; images/ and annotations/ are created in it")
    p.add_argument("--images", type=int, required=True, help="number of photos to render")
    p.add_argument("--seed", type=int, required=True, help="seed of the photos (splits differ for the same seed)")
    p.add_argument("--split", choices=["train", "val", "test"], default="train",
                   help="split name in file names (default train)")
    p.add_argument("--imgsz", type=int, default=PHOTO_WIDTH,
                   help=f"photo width in pixels (default {PHOTO_WIDTH}); the height is 4/3 (portrait) or 3/4 (landscape) "
                        "of it")
    p.add_argument("--skus", type=int, default=DEFAULT_SKUS,
                   help=f"number of SKUs in the catalog (default {DEFAULT_SKUS})")
    p.add_argument("--catalog-seed", type=int, default=0,
                   help="seed of the catalog (default 0); keep it equal across splits so sku_<id> names the same "
                        "product")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    expect(args.images >= 1, "--images", "an int >= 1", args.images)
    expect(args.imgsz >= 64, "--imgsz", "an int >= 64", args.imgsz)
    expect(args.skus >= 1, "--skus", "an int >= 1", args.skus)
    expect(args.seed >= 0, "--seed", "an int >= 0", args.seed)
    expect(args.catalog_seed >= 0, "--catalog-seed", "an int >= 0", args.catalog_seed)
    from shelfscan.synth import default_catalog, write_synthetic_dataset

    catalog = default_catalog(args.catalog_seed, args.skus)
    csv_path = write_synthetic_dataset(args.out, args.images, args.seed, args.split, args.imgsz, catalog=catalog,
                                       progress=True)
    with open(csv_path) as f:
        n_boxes = sum(1 for line in f if line.strip())
    print(f"wrote {args.images} images with {n_boxes} boxes ({n_boxes / args.images:.1f} per image, "
          f"{len(catalog)} SKUs) to {args.out}: images in {csv_path.parent.parent / 'images'}, "
          f"annotations in {csv_path}")
    return 0
