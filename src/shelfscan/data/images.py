"""Image files: find them, check that they decode, read their size and pixels.

Shelf datasets carry broken files (SKU-110K has dozens of truncated JPEGs), so every reader checks images with
:func:`check_image` before trusting them. A check decodes the whole file, because truncation only shows at the end
of the compressed data; for JPEGs the decoder is asked for a 1/8-scale image (``Image.draft``), which still reads
every byte of the entropy-coded data but skips most of the inverse DCT and colour work (about 2x faster than a
full decode on 1600-px photos).
"""
from __future__ import annotations

import filecmp
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from shelfscan.errors import InputError

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

_ORIENTATION_TAG = 0x0112  # EXIF orientation; values 5..8 swap width and height
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)


def is_image_file(path: str | Path) -> bool:
    """True when ``path`` has one of :data:`IMAGE_SUFFIXES` (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    try:
        orientation = image.getexif().get(_ORIENTATION_TAG)
    except Exception:  # a broken EXIF block must not hide a readable image
        orientation = None
    return (height, width) if orientation in _SWAPPING_ORIENTATIONS else (width, height)


def inspect_image(path: str | Path) -> tuple[str | None, tuple[int, int] | None]:
    """Decode ``path`` fully and read its size.

    Returns:
        ``(reason, size)``: ``reason`` is None when the file decodes fully, else a short text such as
        ``"truncated JPEG"``, ``"not an image"``, ``"empty file"``, ``"file not found"`` or
        ``"cannot decode (...)"``. ``size`` is ``(width, height)`` with EXIF orientation applied (as
        :func:`read_image` returns the pixels), or None when not even the header could be read.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "empty file", None
    except OSError:
        return "file not found", None
    size = None
    fmt = "image"
    try:
        with Image.open(path) as image:
            fmt = image.format or "image"
            size = _oriented_size(image)
            if fmt == "JPEG":  # 1/8-scale decode: reads all the data, skips most of the pixel work
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            load_strict(image)
    except UnidentifiedImageError:
        return "not an image", None
    except Image.DecompressionBombError as exc:
        return f"cannot decode ({exc})", size
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "truncated" in str(exc) or isinstance(exc, EOFError):
            return f"truncated {fmt}", size
        return f"cannot decode ({exc})", size
    return None, size


def load_strict(image: Image.Image) -> None:
    """``image.load()`` with truncated files raising, even when someone set ``LOAD_TRUNCATED_IMAGES``."""
    if not ImageFile.LOAD_TRUNCATED_IMAGES:
        image.load()
        return
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = True


def check_image(path: str | Path) -> str | None:
    """None when ``path`` decodes fully; otherwise a short reason ("truncated JPEG", "not an image", ...).

    A JPEG that lost only its 2-byte end marker still decodes to every pixel and passes; any cut into the image
    data is caught.
    """
    return inspect_image(path)[0]


def inspect_images(paths: Sequence[str | Path], workers: int | None = None) -> list[tuple[str | None,
                                                                                        tuple[int, int] | None]]:
    """:func:`inspect_image` for many files, on ``workers`` threads (Pillow decodes without the GIL).

    Default ``workers``: the number of CPU cores, at most 8.
    """
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise InputError(f"inspect_images workers: expected an int >= 1, got {workers!r}")
    if workers == 1 or len(paths) < 2:
        return [inspect_image(p) for p in paths]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(inspect_image, paths))


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from the file header only, EXIF orientation applied (the shape read_image returns)."""
    try:
        with Image.open(path) as image:
            return _oriented_size(image)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: expected an image file, got no such file") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"{path}: expected an image file, got a file that is not an image") from exc
    except OSError as exc:
        raise InputError(f"{path}: expected an image file, got an unreadable file ({exc})") from exc


def read_image(path: str | Path) -> np.ndarray:
    """Pixels of ``path`` as a uint8 RGB array (H, W, 3), EXIF orientation applied.

    Raises:
        InputError: the file is missing, not an image, truncated or otherwise undecodable (message has the path
            and the reason).
    """
    try:
        with Image.open(path) as image:
            load_strict(image)
            image = ImageOps.exif_transpose(image)
            return pil_to_rgb(image)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: expected an image file, got no such file") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"{path}: expected an image file, got a file that is not an image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "a truncated file" if "truncated" in str(exc) else f"an undecodable file ({exc})"
        raise InputError(f"{path}: expected a decodable image, got {reason}") from exc


def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """A loaded PIL image of any mode -> (H, W, 3) uint8 RGB (16/32-bit grey scaled to 8 bits, alpha dropped)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grey: scale to 8 bits instead of clipping
        grey = np.asarray(image).astype(np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(grey.max()), 1.0)
        grey = np.clip(grey / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy()


def find_images(sources: Sequence[str | Path]) -> list[Path]:
    """Image files named by ``sources`` (files, or folders searched recursively), sorted and without repeats.

    Only files with one of :data:`IMAGE_SUFFIXES` (any case) are taken from folders; files and folders whose
    name starts with "." (e.g. macOS ``._IMG.jpg`` resource forks) are skipped there.

    Raises:
        InputError: a source does not exist, or a file given directly is not an image file by its suffix.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    found: set[Path] = set()
    for source in sources:
        path = Path(source)
        if path.is_file():
            if not is_image_file(path):
                raise InputError(f"{path}: expected an image file ({', '.join(IMAGE_SUFFIXES)}), "
                                 f"got suffix {path.suffix!r}")
            found.add(path)
        elif path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found.update(Path(folder) / f for f in files if not f.startswith(".") and is_image_file(f))
        else:
            raise InputError(f"{path}: expected an existing image file or folder, got nothing at that path")
    return sorted(found)


def copy_image(src: str | Path, dst: str | Path) -> None:
    """Put the file ``src`` at ``dst`` without re-encoding: a hard link where possible, else a byte copy.

    Raises:
        InputError: ``src`` is missing, or ``dst`` already holds a different file (two images with one name,
            e.g. from two splits written into one ``images/`` folder); a file with the same bytes is left as is.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise InputError(f"{src}: expected an image file to copy, got no such file")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        if dst.samefile(src) or filecmp.cmp(src, dst, shallow=False):
            return
        raise InputError(f"{dst}: expected a free name or the same image as {src}, got a different file there")
    try:
        os.link(src, dst)
    except OSError:  # other file system, or links not supported
        shutil.copyfile(src, dst)
