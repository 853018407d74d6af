"""``shelfscan count``: detect products, group them into types and count each type, per photo."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shelfscan.cli.common import add_inference, add_merging, add_model, add_runtime, inference_config
from shelfscan.counting.config import METHODS, CountConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("count", help="count products per type on shelf photos", description=__doc__)
    p.add_argument("sources", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--out", required=True, help="folder: <image stem>/counts.json, annotated.jpg, types.jpg, "
                                                "and summary.csv")
    add_model(p)
    p.add_argument("--method", default=CountConfig.method, choices=METHODS,
                   help=f"clustering of product crops (default {CountConfig.method}: agglomerative on blended cosine "
                        "distances)")
    add_inference(p, conf=CountConfig.count_conf)
    p.add_argument("--confirm-below", type=float, default=CountConfig.confirm_below, metavar="S",
                   help=f"boxes scoring under S do not form product types: each is counted only when it looks like "
                        f"a type formed by boxes scoring >= S (default {CountConfig.confirm_below}; 0: every box "
                        "forms types)")
    add_merging(p)
    add_runtime(p)
    p.add_argument("--verbose", action="store_true",
                   help="also print each photo's table of types (the files always hold it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shelfscan.cli.detect import collect_sources, require_images
    from shelfscan.counting import count, write_summary_csv
    from shelfscan.data.images import read_image
    from shelfscan.errors import InputError
    from shelfscan.inference import Detector
    from tqdm import tqdm

    items, problems = collect_sources(args.sources)
    require_images(items, problems, args.sources)  # before the output folder is made
    detector = Detector(args.model, config=inference_config(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    # one line per photo on stdout (tqdm.write keeps it clear of the bar), the progress bar on stderr
    for path, name in tqdm(items, desc="count", unit="photo", file=sys.stderr, disable=len(items) < 2):
        try:
            image = read_image(path)
        except InputError as exc:
            problems.append(str(exc))
            continue
        result = count(image, detector=detector, method=args.method, name=name,
                       confirm_below=args.confirm_below)
        folder = out / Path(name).with_suffix("").as_posix().replace("/", "__")
        result.save(folder)
        results.append(result)
        tqdm.write(summary_line(result, folder), file=sys.stdout)
        if args.verbose:
            tqdm.write(result.table(), file=sys.stdout)
    if results:
        write_summary_csv(results, out / "summary.csv")
    for msg in problems:
        print(f"skipped: {msg}", file=sys.stderr)
    return 1 if problems or not results else 0


def summary_line(result, folder: Path) -> str:
    """``"shelf.jpg: 143 products, 27 types, 3 gaps -> out/shelf"`` (gaps only from a model with a gap class;
    the noun is the model's: ``items`` for a tagging model)."""
    gaps = "" if result.gaps is None else f", {len(result.gaps)} gap{'s' if len(result.gaps) != 1 else ''}"
    return f"{result.image}: {result.summary()}{gaps} -> {folder}"
