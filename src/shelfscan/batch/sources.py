"""The photos of a batch: folders (searched recursively), image files, and ``.txt`` files listing paths.

A list file holds one path per line (blank lines and lines starting with ``#`` are skipped); relative paths are
taken from the list file's folder. Every photo is named by its absolute path, so a re-run from another working
directory still finds its earlier results. Nothing is dropped silently: missing paths and list lines that name no
file come back as problems (``path:line: expected ..., got ...``); a path given twice is counted once and
reported.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

LIST_SUFFIXES = (".txt", ".lst")


def _read_list(path: Path) -> tuple[list[Path], list[str]]:
    """Paths named by a list file, and its bad lines."""
    found, problems = [], []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                problems.append(f"{path}:{number}: expected a UTF-8 path, got undecodable bytes")
                continue
            if not line or line.startswith("#"):
                continue
            target = Path(line) if Path(line).is_absolute() else path.parent / line
            if target.is_file():
                found.append(target)
            else:
                problems.append(f"{path}:{number}: expected an image file, got no such file ({line})")
    return found, problems


def collect_photos(sources: Sequence[str | Path]) -> tuple[list[str], list[str]]:
    """(absolute posix paths of the photos, in the order given, without repeats; problems).

    Folders give the image files under them (by suffix, as ``shelfscan detect``); a file with a list suffix
    (``.txt``, ``.lst``) gives the paths it lists; any other file is taken as a photo (a file that is not an
    image is recorded as failed when it is counted, not dropped here).
    """
    from shelfscan.data.images import find_images

    paths, problems = [], []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            paths += find_images([p])
        elif p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            listed, bad = _read_list(p)
            paths += listed
            problems += bad
        elif p.is_file():
            paths.append(p)
        else:
            problems.append(f"{src}: expected a folder, an image file or a .txt list of paths, got no such path")
    seen, out, repeats = set(), [], 0
    for p in paths:
        name = p.resolve().as_posix()
        if name in seen:
            repeats += 1
            continue
        seen.add(name)
        out.append(name)
    if repeats:
        problems.append(f"{repeats} paths were given more than once: each is counted once")
    return out, problems
