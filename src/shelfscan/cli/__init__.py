"""``shelfscan <verb>``: the command line. Each verb lives in its own module with ``add_parser`` and ``run``."""
from __future__ import annotations

import argparse
import importlib
import sys

from shelfscan import __version__
from shelfscan.errors import ShelfscanError

# verb name -> module under shelfscan.cli (imported lazily so `shelfscan --help` stays fast)
VERBS: dict[str, str] = {
    "synth": "synth",
    "detect": "detect",
    "count": "count",
    "train": "train",
    "train-embedder": "train_embedder",
    "val": "val",
    "convert": "convert",
    "export": "export",
    "serve": "serve",
    "cluster": "cluster",
    "batch": "batch",
    "history": "history",
    "diff": "diff",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelfscan",
        description="Find every product on a shelf photo, group the products into types and count them.",
    )
    parser.add_argument("--version", action="version", version=f"shelfscan {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name, module in VERBS.items():
        importlib.import_module(f"shelfscan.cli.{module}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ShelfscanError as exc:
        print(f"shelfscan {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
