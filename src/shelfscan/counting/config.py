"""``CountConfig``: how the products of a shelf are counted and grouped into types, and the one place those
defaults live (``count()``, ``group_products``, ``shelfscan count/serve/batch``, ``/v1/count`` and the batch
settings read them from here).

The values were chosen on real photos (``benchmarks/count_real_shelves.py``, the six TUNED_ON photos):

- Score thresholds (average linkage): the most recall whose total count stays within 10% of the judged products.
  mean |count error| / recall / ARI for ``count_conf``-``confirm_below``: 0.45-0.6 0.084 / 0.854 / 0.708;
  0.5-0.6 0.090 / 0.827 / 0.721; 0.4-0.6 0.111 / 0.866; 0.45-0.5 0.128 / 0.881; 0.25-0.5 reaches recall 0.92 but
  counts 30% more boxes than there are products (false boxes that join a type). Re-chosen for shelf model v5
  (2026-12-07; it scores the products higher): 0.5-0.65, ``count_real_shelves.py`` ARI / mCIoU / recall /
  precision on all eleven photos 0.650 / 0.592 / 0.871 / 0.903 against 0.45-0.6's 0.642 / 0.578 / 0.891 / 0.873
  (0.45-0.7 0.650 / 0.603 / 0.843 / 0.907; 0.3-0.5 recall 0.915 at precision 0.83); model v4 at 0.45-0.6 scored
  0.665 / 0.621 / 0.840 / 0.892.
- Grouping (labelled boxes): average linkage cut at 1.0 on the combined distance, ARI / mCIoU 0.707 / 0.587
  against 0.649 / 0.545 for the earlier single linkage at 0.85 (chosen on synthetic shelves); average 0.9:
  0.684 / 0.549, 1.1: 0.678 / 0.612, 1.2: 0.648 / 0.576; complete 1.4: 0.645 / 0.552. A cut chosen per shelf by
  silhouette gained 0.02 ARI on all eleven photos and was not adopted.
- Shared neighbours (2026-12-07): the cut distance adds 0.5 x the share of its 5 nearest neighbours two boxes do not
  have in common (``neighbours``), and the cut moves from 1.0 to 1.45. ``grouping_sweep.py`` (0.45-0.6, detected
  boxes), ARI / mCIoU on the tuned | held-out | all photos: without 0.733 / 0.630 | 0.578 / 0.537 | 0.663 / 0.588;
  k 5 cut 1.45: 0.755 / 0.686 | 0.557 / 0.543 | 0.665 / 0.621, the tuned photos' best of k 4/5/6/8 x cut 1.2-1.6
  that keeps ``count_synthetic.py`` within 0.02 of its ARI (k 6 cut 1.4: 0.765 / 0.712 | 0.566 / 0.556 on the
  photos, but seed 2000's ARI falls 0.986 -> 0.963: with a fixed k, a 38-facing SKU splits in two). mCIoU gains
  0.02-0.05 at every k and cut tried; ARI moves within +-0.03 (the photo-to-photo noise).
- No mirror-image pass in the crop embeddings: the facings of one shelf are near-duplicates seen from one side
  (average linkage 1.0: ARI / mCIoU 0.632 / 0.544 with and without it; synthetic seeds 1000/2000/3000 per-shelf
  mCIoU 0.950/0.922/0.936 with, 0.943/0.919/0.936 without), and it halves the embedding time.
- Two crop networks, joined (2026-12-07, ``COUNT_NETWORK`` = ``embed.PAIR``): the ImageNet network and the same
  network fine-tuned on unlabelled shelf crops (run e2 of ``shelfscan train-embedder``; none of the eleven photos
  trained it), each box's two unit vectors concatenated (weights 1 : 1), int8, one graph for both; the cut moves
  from 1.45 to 1.5. ``count_real_shelves.py`` ARI / mCIoU on tuned | held-out | all photos: ImageNet alone at
  1.45 0.695 / 0.642 | 0.597 / 0.531 | 0.650 / 0.592 (recall 0.871); joined at 1.45 0.744 / 0.687 | 0.630 / 0.545
  | 0.692 / 0.622; joined at 1.5 (shipped, the pair's int8 graph) 0.732 / 0.667 | 0.623 / 0.541 | 0.683 / 0.609
  (recall 0.873). 1.45 was the tuned photos' best (of 1.4-1.6, the shelf network weighted 0.6 / 0.8 / 1.0 / 1.2),
  but it splits a large SKU of shelf 2020 of ``count_synthetic.py`` seed 2000 (end-to-end ARI over its 24 shelves
  0.975 -> 0.946, beyond the 0.02 allowed); 1.5 keeps seeds 1000 / 2000 / 3000 within it (model card,
  "embedder_pair_int8.onnx"). The shelf network alone is worse on photos with a few large types (it pushes look-alikes
  apart and so splits a product's facings lit differently); joined, the ImageNet vector holds them.
- The int8 crop embedder on a CPU (``embed_precision="auto"``; ``weights/embedder_int8.onnx``, first 6
  convolutions fp32): on the eleven photos ARI / mCIoU / recall 0.663 / 0.588 / 0.845 against fp32's 0.663 / 0.591
  / 0.846 (labelled boxes 0.635 / 0.536 against 0.632 / 0.544), 0.17 s instead of 0.30 s per 150 crops.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from shelfscan.cluster.methods import LINKAGES, METHODS
from shelfscan.embed.embedder import PAIR
from shelfscan.errors import expect
from shelfscan.inference.config import PRECISIONS


COUNT_NETWORK = PAIR
"""The crop network of ``count``: ImageNet's and the shelf-trained vectors of each crop, joined (module notes)."""


def _score(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 <= value <= 1.0


@dataclass(frozen=True)
class CountConfig:
    """Every setting of counting one shelf photo.

    Attributes:
        count_conf: boxes scoring at least this are counted at all: the score threshold of counting (the
            default detector of ``count()`` is built with it; ``shelfscan count --conf``, ``serve --count-conf``).
        confirm_below: boxes scoring at least this form the product types; boxes from ``count_conf`` up to it
            are counted only when they look like one of those types (``--confirm-below``; None or 0: every
            counted box forms types).
        method: clustering of the crop embeddings: ``"auto"`` (agglomerative), ``"agglomerative"``,
            ``"hdbscan"`` or ``"kmeans"``.
        linkage: agglomerative linkage of a shelf's boxes (``"single"`` chains the facings of a product along a
            shelf even where the light changes, but also chains look-alike types).
        distance_threshold: agglomerative cut on the combined distance used with the default ``linkage``
            (other linkages use the clustering's own default; larger merges more).
        neighbours: k of the shared-neighbour view the shelf's distance adds
            (:func:`~shelfscan.cluster.distances.shared_neighbour_distance`, weight ``NEIGHBOUR_WEIGHT`` = 0.5;
            0 leaves it out).
        flip: whether the crop embeddings average in the mirror image (twice the embedding time).
        type_radius: steps that compare one box with a whole type (edge fragments, weak boxes) use its mean
            combined distance to the type's boxes; a box within this (1.0: the distance's own unit) looks like
            the type.
        hue_crop: side (pixels) of the crops whose hue histograms split a type by colour (``counting/hues.py``).
        embed_precision: arithmetic of the default crop embedder (``CropEmbedder(precision=...)``): ``"auto"``
            runs the int8 network on a CPU; ``count()`` without an embedder uses its detector's ``precision``
            instead. ``COUNT_NETWORK`` (``embed.PAIR``) ships as int8 only, so it runs int8 at every precision:
            ``shelfscan count --precision fp32`` runs the detector in fp32.
    """

    count_conf: float = 0.5
    confirm_below: float | None = 0.65
    method: str = "auto"
    linkage: str = "average"
    distance_threshold: float = 1.5
    neighbours: int = 5
    flip: bool = False
    type_radius: float = 1.0
    hue_crop: int = 112
    embed_precision: str = "auto"

    def __post_init__(self) -> None:
        expect(_score(self.count_conf), "count_conf", "a score in [0, 1]", self.count_conf)
        expect(self.confirm_below is None or _score(self.confirm_below), "confirm_below", "None or a score in [0, 1]",
               self.confirm_below)
        expect(self.method in METHODS, "method", f"one of {METHODS}", self.method)
        expect(self.linkage in LINKAGES, "linkage", f"one of {LINKAGES}", self.linkage)
        for name in ("distance_threshold", "type_radius"):
            value = getattr(self, name)
            expect(isinstance(value, numbers.Real) and value > 0, name, "a positive number", value)
        expect(isinstance(self.neighbours, int) and not isinstance(self.neighbours, bool) and self.neighbours >= 0,
               "neighbours", "an integer >= 0", self.neighbours)
        expect(isinstance(self.hue_crop, int) and not isinstance(self.hue_crop, bool) and self.hue_crop >= 8,
               "hue_crop", "an integer ≥ 8 (pixels)", self.hue_crop)
        expect(self.embed_precision in PRECISIONS, "embed_precision", f"one of {PRECISIONS}", self.embed_precision)
