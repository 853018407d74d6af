"""Image files: find them, check that they decode, read their size and pixels.

Shelf datasets carry broken files (SKU-110K has dozens of truncated JPEGs), so every reader checks images with
:func:`check_image` before trusting them. A check decodes the whole file, because truncation only shows at the end
of the compressed data; for JPEGs the decoder is asked for a 1/8-scale image (``Image.draft``), which still reads
every byte of the entropy-coded data but skips most of the inverse DCT and colour work (about 2x faster than a
full decode on 1600-px photos).

Only raster formats are decoded (:data:`RASTER_FORMATS`: JPEG, PNG, WebP, TIFF, BMP, GIF): a file is identified
by its content, and Pillow's other plugins (EPS and PDF, which call Ghostscript, and the rest) are never tried, so an
EPS file named ``.jpg`` is "not an image". An image larger than :data:`MAX_PIXELS` is refused from its header,
before its pixels are allocated (a 1 MB PNG can declare 20000x20000 pixels). Whatever a broken file makes the
decoder raise, it becomes a reason (``inspect_image``) or an :class:`InputError` (``read_image``), never a crash.
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

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
# Pillow plugins an image may be decoded with (MPO: phone JPEGs with a depth map or preview); nothing that calls an
# external program (EPS, PDF) or a vector, video or scientific format
RASTER_FORMATS: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF")
# Pillow's own decompression-bomb limit (2 x Image.MAX_IMAGE_PIXELS by default), held fixed here so that an
# application setting Image.MAX_IMAGE_PIXELS = None does not switch the check off: 179 MP, about 540 MB as RGB
MAX_PIXELS = 178_956_970

_ORIENTATION_TAG = 0x0112  # EXIF orientation; values 5..8 swap width and height
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)


def exists_as_file(path: str | Path) -> bool:
    """``Path(path).is_file()``, False instead of an error for names the OS refuses (too long, a NUL byte)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def is_image_file(path: str | Path) -> bool:
    """True when ``path`` has one of :data:`IMAGE_SUFFIXES` (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


class ImageTooLarge(InputError):
    """An image whose header declares more than the allowed number of pixels (a decompression bomb, or a photo
    too large to decode here); raised before its pixels are allocated. ``size`` is (width, height) when known."""

    def __init__(self, pixels: int, max_pixels: int, size: tuple[int, int] | None = None,
                 where: object = None) -> None:
        self.pixels, self.max_pixels, self.size = pixels, max_pixels, size
        got = f"{size[0]}x{size[1]} = {pixels} pixels" if size else f"{pixels} pixels"
        self.reason = f"expected at most {max_pixels} pixels, got {got} (decompression-bomb guard: refused from " \
                      f"the header, nothing decoded)"
        super().__init__(f"{where}: {self.reason}" if where is not None else self.reason)


def raster_formats() -> list[str]:
    """:data:`RASTER_FORMATS` this Pillow build can open (registers Pillow's plugins on first use)."""
    Image.init()
    return [f for f in RASTER_FORMATS if f in Image.OPEN]


def open_raster(fp, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``Image.open`` restricted to :data:`RASTER_FORMATS`, refusing more than ``max_pixels`` pixels.

    Raises:
        UnidentifiedImageError: not a raster image of those formats (EPS, PDF, text, ...).
        ImageTooLarge: the header declares more than ``max_pixels`` pixels (also when Pillow's own bomb check
            trips first).
        Exception: whatever Pillow raises on a broken header (OSError, SyntaxError, ValueError, ...).
    """
    try:
        image = Image.open(fp, formats=raster_formats())
    except Image.DecompressionBombError as exc:  # Pillow's limit is below ours: report ours, with the size
        import re

        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageTooLarge(int(found.group(1)) if found else max_pixels + 1, max_pixels) from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageTooLarge(width * height, max_pixels, (width, height))
    return image


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
    except (OSError, ValueError):  # ValueError: a name with a NUL byte
        return "file not found", None
    size = None
    fmt = "image"
    try:
        with open_raster(path) as image:
            fmt = image.format or "image"
            size = _oriented_size(image)
            if fmt == "JPEG":  # 1/8-scale decode: reads all the data, skips most of the pixel work
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            load_strict(image)
    except UnidentifiedImageError:
        return "not an image", None  # nor one of RASTER_FORMATS (an EPS named .jpg is "not an image")
    except ImageTooLarge as exc:
        return f"too large ({exc.reason})", None
    except Exception as exc:  # noqa: BLE001 - a broken file may make a decoder raise anything; it is a reason here
        if "truncated" in str(exc) or isinstance(exc, EOFError):
            return f"truncated {fmt}", size
        return f"cannot decode ({type(exc).__name__}: {exc})", size
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


def _open_error(path: str | Path, exc: FileNotFoundError | UnidentifiedImageError | ImageTooLarge) -> InputError:
    """What to raise, naming ``path``, when opening it found no file, no image or too many pixels."""
    if isinstance(exc, ImageTooLarge):
        return ImageTooLarge(exc.pixels, exc.max_pixels, exc.size, where=path)
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: expected an image file, got no such file")
    return InputError(f"{path}: expected an image file ({', '.join(RASTER_FORMATS)}), got a file that is not an image")


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from the file header only, EXIF orientation applied (the shape read_image returns)."""
    try:
        with open_raster(path) as image:
            return _oriented_size(image)
    except (FileNotFoundError, UnidentifiedImageError, ImageTooLarge) as exc:
        raise _open_error(path, exc) from (None if isinstance(exc, ImageTooLarge) else exc)
    except Exception as exc:  # noqa: BLE001 - whatever a broken header makes Pillow raise
        raise InputError(f"{path}: expected an image file, got an unreadable file ({type(exc).__name__}: "
                         f"{exc})") from exc


def read_image(path: str | Path) -> np.ndarray:
    """Pixels of ``path`` as a uint8 RGB array (H, W, 3), EXIF orientation applied.

    Raises:
        InputError: the file is missing, not an image, truncated or otherwise undecodable (message has the path
            and the reason).
    """
    try:
        with open_raster(path) as image:
            load_strict(image)
            image = ImageOps.exif_transpose(image)
            return pil_to_rgb(image)
    except (FileNotFoundError, UnidentifiedImageError, ImageTooLarge) as exc:
        raise _open_error(path, exc) from (None if isinstance(exc, ImageTooLarge) else exc)
    except MemoryError:
        raise InputError(f"{path}: expected an image that fits in memory, got one that does not") from None
    except Exception as exc:  # noqa: BLE001 - whatever a broken file makes the decoder raise
        reason = "a truncated file" if "truncated" in str(exc) or isinstance(exc, EOFError) \
            else f"an undecodable file ({type(exc).__name__}: {exc})"
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
    if not exists_as_file(src):
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


def as_rgb(image, what: str = "image") -> np.ndarray:
    """The one image intake of the package: a path, a PIL image or an (H, W, 3) uint8 RGB array ->
    (H, W, 3) uint8 RGB array. Raises :class:`InputError` saying what was expected and what came."""
    if isinstance(image, (str, Path)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return pil_to_rgb(image)
    arr = np.asarray(image)
    if not (arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8 and arr.shape[0] > 0 and arr.shape[1] > 0):
        raise InputError(f"{what}: expected an RGB uint8 array (H, W, 3), a PIL image or a path, got "
                         f"{arr.dtype} array of shape {arr.shape}")
    return arr
