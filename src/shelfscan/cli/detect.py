"""``shelfscan detect``: boxes for every product in images or folders, written as CSV, COCO or YOLO."""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from shelfscan.cli.common import add_inference, add_merging, add_model, add_runtime, inference_config
from shelfscan.inference.config import InferenceConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="detect products in photos", description=__doc__)
    p.add_argument("sources", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--out", required=True, help="predictions file (csv, coco: .json) or folder (yolo)")
    p.add_argument("--format", choices=("csv", "coco", "yolo"), default="csv")
    add_model(p)
    add_inference(p)
    p.add_argument("--tile", type=int, default=InferenceConfig.tile,
                   help="cut the scaled photo into overlapping tiles of this side (for very dense, large photos)")
    add_merging(p)
    p.add_argument("--save-images", metavar="DIR", help="also write annotated images to DIR (gaps hatched red)")
    p.add_argument("--classes", default=None, metavar="NAMES",
                   help="comma-separated classes to keep, e.g. product,gap or gap (default: all; 'product' is "
                        "every class but gap)")
    add_runtime(p)
    p.set_defaults(func=run)


def collect_sources(sources: list[str]) -> tuple[list[tuple[Path, str]], list[str]]:
    """(path, image_name) pairs — names relative to the folder given, or the file name — and problems."""
    from shelfscan.data.images import find_images

    items, problems = [], []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            items += [(f, f.relative_to(p).as_posix()) for f in find_images([p])]
        elif p.is_file():
            items.append((p, p.name))
        else:
            problems.append(f"{src}: expected an image file or a folder, got no such path")
    return items, problems


def require_images(items: list, problems: list[str], sources: list[str]) -> None:
    """Raise InputError (exit 2, with the reason) when the sources hold no image at all, before any model loads."""
    if items:
        return
    from shelfscan.data.images import IMAGE_SUFFIXES
    from shelfscan.errors import InputError

    for msg in problems:
        print(f"skipped: {msg}", file=sys.stderr)
    raise InputError(f"{' '.join(sources)}: expected image files ({', '.join(IMAGE_SUFFIXES)}) or folders holding "
                     f"some, got none")


def decode_ahead(items: list[tuple[Path, str]], ahead: int = 1):
    """Yield ``(name, RGB image or the InputError that reading it raised)`` in the order of ``items``, decoding up
    to ``ahead`` photos on a background thread while the caller runs the detector on the current one (Pillow's
    decoders and ONNX Runtime release the GIL). Errors other than InputError are raised at their photo."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from shelfscan.data.images import read_image
    from shelfscan.errors import InputError

    def read(path: Path):
        try:
            return read_image(path)
        except InputError as exc:
            return exc

    todo = iter(items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shelfscan-decode") as pool:
        pending = deque((name, pool.submit(read, path)) for path, name in itertools.islice(todo, ahead + 1))
        while pending:
            name, future = pending.popleft()
            yield name, future.result()
            for path, next_name in itertools.islice(todo, 1):
                pending.append((next_name, pool.submit(read, path)))


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from shelfscan.annotate import draw_boxes, draw_count, save_rgb
    from shelfscan.errors import InputError
    from shelfscan.inference import Detector

    from shelfscan.counting.gaps import describe, draw_gaps, has_gap_class, parse_classes, select_classes, split_gaps

    items, problems = collect_sources(args.sources)
    require_images(items, problems, args.sources)
    classes = parse_classes(args.classes)
    detector = Detector(args.model, config=inference_config(args))
    save_dir = Path(args.save_images) if args.save_images else None
    if save_dir:
        save_dir.mkdir(parents=True, exist_ok=True)
    results, sizes = {}, {}
    for name, image in tqdm(decode_ahead(items), total=len(items), desc="detect", unit="img", disable=len(items) < 2):
        if isinstance(image, InputError):
            problems.append(str(image))
            continue
        det = select_classes(detector.predict(image), classes)
        results[name] = det
        sizes[name] = (image.shape[1], image.shape[0])
        if save_dir:
            products, gaps = split_gaps(det)
            multi = len(det.class_names) > 1
            labels = [f"{n} {s:.2f}" for n, s in zip(products.labels, products.scores)] if multi else None
            drawn = draw_boxes(draw_gaps(image, gaps.xyxy), products, labels=labels)
            out = draw_count(drawn, describe(len(products), len(gaps) if has_gap_class(det.class_names) else None,
                                            detector.noun))
            target = save_dir / (Path(name).with_suffix(".jpg").as_posix().replace("/", "__"))
            save_rgb(target, out)
    write_results(Path(args.out), args.format, results, sizes, detector.class_names)
    total = sum(len(d) for d in results.values())
    if len(results) <= 20:
        for name, det in results.items():
            products, gaps = split_gaps(det)
            n_gaps = len(gaps) if has_gap_class(det.class_names) else None
            print(f"{name}: {describe(len(products), n_gaps, detector.noun)}")
    print(f"{len(results)} images, {total} boxes -> {args.out}")
    for msg in problems:
        print(f"skipped: {msg}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} of {len(items) + sum(1 for m in problems if 'no such path' in m)} inputs failed",
              file=sys.stderr)
    return 1 if problems or not results else 0


def write_results(out: Path, fmt: str, results: dict, sizes: dict, class_names: list[str]) -> None:
    """Write predictions as the predictions CSV, a COCO json (annotations carry ``score``) or YOLO txt files
    (:func:`shelfscan.data.predictions.write_predictions`)."""
    from shelfscan.data.predictions import write_predictions

    write_predictions(out, fmt, results, sizes, class_names)
