"""The SKUs a synthetic store sells: each one's front image rendered once and reused by every shelf."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from shelfscan.errors import expect
from shelfscan.synth.design import palette_rgb, random_design, random_palette_hsv, variant_palette_hsv
from shelfscan.synth.products import PackShape, random_shape, render_pack

from shelfscan.synth.defaults import DEFAULT_SKUS
DEFAULT_CATALOG_SEED = 0
TEXTURE_HEIGHT = 160
# number of look-alike variants per family and how often each occurs
FAMILY_SIZES = (1, 2, 3, 4, 5)
FAMILY_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)


@dataclass
class Catalog:
    """Pre-rendered SKUs.

    Attributes:
        names: ``sku_0`` ... ``sku_{K-1}``; a SKU's index is its ``class_id`` in rendered shelves.
        textures: K arrays (texture_height, w_k, 3) uint8 RGB, the front view of each SKU.
        alphas: K arrays (texture_height, w_k) float32 in [0, 1], its silhouette.
        family: int64 (K,). SKUs of one family share label design and pack shape and differ in colour
            (look-alikes); consecutive ids.
        shapes: the :class:`PackShape` of each SKU.
        height_factor: float32 (K,) in [0.75, 1], how tall the SKU stands relative to the tallest in its row.
        seed: the seed :meth:`random` was given.
    """

    names: list[str]
    textures: list[np.ndarray]
    alphas: list[np.ndarray]
    family: np.ndarray
    shapes: list[PackShape]
    height_factor: np.ndarray
    seed: int
    _pyramids: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_families(self) -> int:
        return int(self.family.max()) + 1 if len(self.family) else 0

    def family_members(self, family: int) -> np.ndarray:
        """SKU ids of one family, (M,) int64."""
        return np.flatnonzero(self.family == family)

    def front(self, sku: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """One SKU's front resized to ``width`` x ``height``: rgb (h, w, 3) float32 and alpha (h, w, 1) float32.

        Resizes from the nearest level of a halving pyramid (built on first use) with bilinear interpolation,
        which is fast and does not alias.
        """
        levels = self._pyramids.get(sku)
        if levels is None:
            levels = [(self.textures[sku].astype(np.float32), self.alphas[sku])]
            while levels[-1][0].shape[0] >= 32 and levels[-1][0].shape[1] >= 8:
                tex, alpha = levels[-1]
                half = (max(1, tex.shape[1] // 2), tex.shape[0] // 2)
                levels.append((cv2.resize(tex, half, interpolation=cv2.INTER_AREA),
                               cv2.resize(alpha, half, interpolation=cv2.INTER_AREA)))
            self._pyramids[sku] = levels
        tex, alpha = levels[0]
        for level_tex, level_alpha in levels[1:]:
            if level_tex.shape[0] < height or level_tex.shape[1] < width:
                break
            tex, alpha = level_tex, level_alpha
        size = (int(width), int(height))
        return (cv2.resize(tex, size, interpolation=cv2.INTER_LINEAR),
                cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)[..., None])

    @classmethod
    def random(cls, seed: int, n_skus: int = DEFAULT_SKUS, texture_height: int = TEXTURE_HEIGHT) -> "Catalog":
        """Draw ``n_skus`` SKUs in families of 1 to 5 look-alikes and render their fronts.

        Args:
            seed: non-negative int; the same seed and arguments give identical textures.
            n_skus: number of SKUs K (>= 1).
            texture_height: pixel height of the stored fronts; shelves resize them.
        """
        expect(isinstance(seed, (int, np.integer)) and seed >= 0, "Catalog.random seed", "an int >= 0", seed)
        expect(isinstance(n_skus, (int, np.integer)) and n_skus >= 1, "Catalog.random n_skus", "an int >= 1",
               n_skus)
        expect(isinstance(texture_height, (int, np.integer)) and texture_height >= 16,
               "Catalog.random texture_height", "an int >= 16", texture_height)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
        textures, alphas, family, shapes, height = [], [], [], [], []
        fam = 0
        while len(textures) < n_skus:
            size = min(int(rng.choice(FAMILY_SIZES, p=FAMILY_WEIGHTS)), n_skus - len(textures))
            design, shape = random_design(rng), random_shape(rng)
            factor = float(rng.uniform(0.75, 1.0))
            palette = random_palette_hsv(rng)
            for v in range(size):
                pal = palette if v == 0 else variant_palette_hsv(rng, palette)
                rgb, alpha = render_pack(shape, design, palette_rgb(pal), texture_height)
                textures.append(rgb)
                alphas.append(alpha)
                family.append(fam)
                shapes.append(shape)
                height.append(factor)
            fam += 1
        return cls([f"sku_{i}" for i in range(n_skus)], textures, alphas, np.array(family, np.int64), shapes,
                   np.array(height, np.float32), int(seed))


@lru_cache(maxsize=4)
def default_catalog(seed: int = DEFAULT_CATALOG_SEED, n_skus: int = DEFAULT_SKUS) -> Catalog:
    """The catalog shelves use when none is given, built once per process (same SKU names across datasets)."""
    return Catalog.random(seed, n_skus)
