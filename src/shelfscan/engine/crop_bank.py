"""The training data of the crop embedder: product crops of real shelf photos and, per photo, which pairs of
products are taken to be the same type, a different type, or left out.

Without type labels, a pair of boxes of one photo is

- **same** (+1) when the shipped embedder's vectors are very close (cosine >= ``same_cos``): facings of one
  product;
- **different** (-1) when the vectors are far apart (cosine < ``different_cos``);
- **left out** (0) otherwise, so that look-alikes the embedder cannot tell apart teach nothing either way.

The thresholds were read off the pair cosines of the six ``TUNED_ON`` photos of
``benchmarks/count_real_shelves.py`` (cosine >= 0.9: 97% of pairs of one type; < 0.7: 0.3% of pairs of one
type; requiring the same box size or the same shelf row as well made the same-type pairs less pure there,
0.947 and 0.897); see the embedder's model card.
A photo whose products were typed by eye (a type-label file, ``benchmarks/data/shelf_types/``) relates its pairs by
those types instead (:func:`label_relations`): same type SAME, two judged types DIFFERENT, a box not judged (-1)
LEFT_OUT with every other. Those pairs carry what the embedder cannot tell: facings of one product lit
differently (SAME at a low cosine) and look-alike flavours (DIFFERENT at a high one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shelfscan.box_ops import box_sizes
from shelfscan.embed.crops import crop_boxes, grow_boxes
from shelfscan.errors import expect

SAME, DIFFERENT, LEFT_OUT = 1, -1, 0


@dataclass(frozen=True)
class BankConfig:
    """How crops are cut and pairs are related (see the module docstring)."""

    window: int = 128  # side of the stored crop windows (box + context), pixels
    context: float = 0.15  # fraction of the box size stored around it on each side (room for jittered views)
    min_side: float = 16.0  # boxes narrower or lower than this (pixels) are not used
    max_boxes: int = 160  # boxes kept per photo (a random subset when there are more)
    same_cos: float = 0.9
    different_cos: float = 0.7


@dataclass
class CropBank:
    """Crop windows of many photos and the pair relations within each photo.

    Attributes:
        windows: uint8 (N, W, W, 3) RGB: each box grown by ``context`` on each side, resized to W x W.
        photo: int64 (N,) index of the photo each crop comes from (crops of one photo are contiguous).
        relations: per photo an int8 (n, n) matrix of SAME / DIFFERENT / LEFT_OUT (diagonal SAME).
        names: per photo its image name.
        typed: per photo True when its relations come from type labels (``label_relations``).
    """

    windows: np.ndarray
    photo: np.ndarray
    relations: list[np.ndarray]
    names: list[str] = field(default_factory=list)
    typed: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.windows)

    def photo_slices(self) -> list[slice]:
        """Crops of each photo as a slice of the arrays."""
        starts = np.searchsorted(self.photo, np.arange(len(self.relations) + 1))
        return [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]

    def summary(self) -> dict[str, float]:
        """Counts of crops, photos and pairs of each relation (off the diagonal)."""
        off = [r[~np.eye(len(r), dtype=bool)] for r in self.relations]
        allp = np.concatenate(off) if off else np.zeros(0, np.int8)
        return {"crops": len(self), "photos": len(self.relations), "typed_photos": int(sum(self.typed)),
                "pairs": int(allp.size),
                "same": int((allp == SAME).sum()), "different": int((allp == DIFFERENT).sum()),
                "left_out": int((allp == LEFT_OUT).sum())}


def pair_relations(vectors: np.ndarray, config: BankConfig = BankConfig()) -> np.ndarray:
    """SAME / DIFFERENT / LEFT_OUT for every pair of one photo's boxes.

    Args:
        vectors: float (n, D) unit rows (the shipped embedder's vectors of one photo's boxes).

    Returns:
        int8 (n, n), symmetric, diagonal SAME.
    """
    vectors = np.asarray(vectors, np.float64)
    expect(vectors.ndim == 2, "pair_relations vectors", "a 2-d array (n, D)", vectors.shape)
    cos = vectors @ vectors.T
    out = np.full(cos.shape, LEFT_OUT, np.int8)
    out[cos < config.different_cos] = DIFFERENT
    out[cos >= config.same_cos] = SAME
    np.fill_diagonal(out, SAME)
    return out


def label_relations(types: np.ndarray) -> np.ndarray:
    """SAME / DIFFERENT / LEFT_OUT for every pair of one photo's boxes from their types (-1 = not judged).

    Args:
        types: int (n,) type of each box, -1 for a box not judged.

    Returns:
        int8 (n, n), symmetric, diagonal SAME.
    """
    types = np.asarray(types)
    expect(types.ndim == 1 and np.issubdtype(types.dtype, np.integer), "label_relations types",
           "a 1-d integer array (n,)", f"{types.dtype} {types.shape}")
    judged = types >= 0
    both = judged[:, None] & judged[None, :]
    same = types[:, None] == types[None, :]
    out = np.full((len(types), len(types)), LEFT_OUT, np.int8)
    out[both & same] = SAME
    out[both & ~same] = DIFFERENT
    np.fill_diagonal(out, SAME)
    return out


def usable_boxes(xyxy: np.ndarray, width: int, height: int, config: BankConfig,
                 rng: np.random.Generator) -> np.ndarray:
    """Indices of the boxes a bank keeps: inside the photo with their context, not tiny, at most ``max_boxes``
    (a random subset)."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    size = box_sizes(xyxy)
    grown = grow_boxes(xyxy, config.context)  # the stored window must not be clipped
    inside = (grown[:, 0] >= 0) & (grown[:, 1] >= 0) & (grown[:, 2] <= width) & (grown[:, 3] <= height)
    idx = np.flatnonzero(inside & (size >= config.min_side).all(1))
    if len(idx) > config.max_boxes:
        idx = np.sort(rng.choice(idx, config.max_boxes, replace=False))
    return idx


def cut_windows(image: np.ndarray, xyxy: np.ndarray, config: BankConfig) -> np.ndarray:
    """The boxes grown by ``context`` on each side, each resized to ``window`` x ``window`` (the box itself is
    the central ``1 / (1 + 2 context)`` of the window: :func:`box_in_window`)."""
    return crop_boxes(image, xyxy, config.window, config.context)


def box_in_window(config: BankConfig) -> tuple[float, float]:
    """Where a box lies in its stored window: ``(start, end)`` in pixels along either side."""
    side = config.window / (1 + 2 * config.context)
    start = config.context * side
    return start, start + side


def is_grey(image: np.ndarray) -> bool:
    """True for a photo whose three channels are equal up to JPEG noise (a grayscale photo stored as RGB)."""
    small = np.asarray(image)[::8, ::8].astype(np.int16)
    return bool(np.abs(small[..., 0] - small[..., 1]).mean() < 2 and np.abs(small[..., 1] - small[..., 2]).mean() < 2)


def build_bank(photos, embedder, config: BankConfig = BankConfig(), seed: int = 0, progress=None) -> CropBank:
    """A :class:`CropBank` from ``photos``, an iterable of ``(name, image (H, W, 3) uint8, xyxy (n, 4))`` or
    ``(name, image, xyxy, types (n,))``.

    A photo without types has its pairs related by ``embedder`` (a :class:`~shelfscan.embed.CropEmbedder`;
    :func:`pair_relations`); a photo with types (ints, -1 = not judged) by them (:func:`label_relations`), its
    unjudged boxes left out of the bank, and ``embedder`` is not called (None is fine when every photo has types).
    Photos with fewer than two usable boxes and grey photos (all three channels equal: a label's colour is part
    of what tells products apart) are skipped; ``progress``, if given, is called with each name and the number of
    boxes kept (0 for a skipped photo).
    """
    rng = np.random.default_rng(seed)
    windows, photo, relations, names, typed = [], [], [], [], []
    for item in photos:
        expect(len(item) in (3, 4), "build_bank photos", "(name, image, xyxy) or (name, image, xyxy, types)",
               f"a tuple of {len(item)}")
        name, image, xyxy = item[:3]
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        types = None if len(item) == 3 or item[3] is None else np.asarray(item[3])
        expect(types is None or types.shape == (len(xyxy),), f"build_bank types of {name}",
               f"one type per box ({len(xyxy)},)", None if types is None else types.shape)
        judged = np.flatnonzero(types >= 0) if types is not None else np.arange(len(xyxy))
        idx = judged[usable_boxes(xyxy[judged], image.shape[1], image.shape[0], config, rng)]
        if is_grey(image):
            idx = idx[:0]
        if progress is not None:
            progress(name, len(idx))
        if len(idx) < 2:
            continue
        boxes = xyxy[idx]
        relations.append(label_relations(types[idx]) if types is not None
                         else pair_relations(embedder.embed_boxes(image, boxes), config))
        windows.append(cut_windows(image, boxes, config))
        photo.append(np.full(len(idx), len(names), np.int64))
        names.append(name)
        typed.append(types is not None)
    expect(bool(names), "build_bank photos", "at least one photo with two usable boxes", "none")
    return CropBank(np.concatenate(windows), np.concatenate(photo), relations, names, typed)
