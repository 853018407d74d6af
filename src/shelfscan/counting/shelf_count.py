"""Per-shelf product-type counts: group the detected products of one photo into types and count each type."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from shelfscan.box_ops import box_sizes
from shelfscan.cluster.methods import UNASSIGNED  # noqa: F401  (re-exported: the id of boxes no type took)
from shelfscan.detections import Detections
from shelfscan.counting.config import CountConfig
from shelfscan.errors import InputError, expect

# the grouping's settings (linkage, cut, type radius, hue crops, mirror pass) and how they were chosen: CountConfig


@dataclass
class ProductGroup:
    """One product type found on a shelf.

    Attributes:
        id: type id (0 = the most facings); -1 gathers the products no type took (HDBSCAN noise).
        indices: int64 (n,) positions of its boxes in the shelf's detections, the most typical first (closest
            to the type's mean embedding).
        count: number of facings n.
        share_of_facings: n / all boxes.
        share_of_width: sum of its box widths / sum of all box widths.
        example_box: ``[x1, y1, x2, y2]`` of its most typical box.
    """

    id: int
    indices: np.ndarray
    share_of_facings: float
    share_of_width: float
    example_box: list[float]

    @property
    def count(self) -> int:
        return int(len(self.indices))


@dataclass
class ShelfCount:
    """Products of one photo grouped into types, with counts.

    Attributes:
        image: name of the photo (file name, or what the caller gave).
        detections: the boxes with ``data["cluster_id"]`` (N,) int64 (-1 unassigned) and ``data["embedding"]``
            (N, D) float32.
        groups: the types, largest first; a group with id -1 (unassigned boxes) comes last when there is one.
        silhouette: silhouette of the grouping (None when undefined: fewer than 2 types).
        method: clustering method that ran.
        pixels: the photo (H, W, 3) uint8 RGB, kept for :meth:`save`'s pictures (None to skip them).
        gaps: the empty-shelf boxes (class ``gap``) of a two-class model, never counted as products or types;
            None when the model has no gap class (see :mod:`shelfscan.counting.gaps`).
        noun: what the boxes are called in :meth:`table` and the pictures (``"products"``; ``"items"`` for a
            tagging model, see :func:`shelfscan.models.shipped.model_noun`).
    """

    image: str
    detections: Detections
    groups: list[ProductGroup]
    silhouette: float | None
    method: str
    pixels: np.ndarray | None = field(default=None, repr=False)
    gaps: Detections | None = field(default=None, repr=False)
    noun: str = "products"

    @property
    def total(self) -> int:
        return len(self.detections)

    @property
    def num_types(self) -> int:
        return sum(1 for g in self.groups if g.id != UNASSIGNED)

    def counts(self) -> dict[int, int]:
        """``{type id: facings}``, largest first (-1: unassigned, when present)."""
        return {g.id: g.count for g in self.groups}

    def to_json(self) -> dict:
        """``{"image", "total", "silhouette", "groups": [{"id", "count", "share_of_facings", "share_of_width",
        "example_box", "boxes"}]}``; boxes as ``[x1, y1, x2, y2]`` pixel lists."""
        xyxy = self.detections.xyxy.astype(float)
        gaps = {}
        if self.gaps is not None:  # "gaps": {"count", "boxes", "share_of_width"} (counting/gaps.py)
            from shelfscan.counting.gaps import gap_fields

            gaps = {"gaps": gap_fields(self.gaps, self.detections)}
        return {
            "image": self.image,
            "total": self.total,
            "silhouette": None if self.silhouette is None else round(float(self.silhouette), 4),
            "groups": [
                {"id": g.id, "count": g.count, "share_of_facings": round(g.share_of_facings, 4),
                 "share_of_width": round(g.share_of_width, 4), "example_box": [round(v, 1) for v in g.example_box],
                 "boxes": [[round(v, 1) for v in xyxy[i]] for i in g.indices.tolist()]}
                for g in self.groups
            ],
            **gaps,
        }

    def summary(self) -> str:
        """``"143 products, 27 types"`` (the noun of the model: ``"items"`` for a tagging model)."""
        return f"{self.total} {self.noun}, {self.num_types} type{'s' if self.num_types != 1 else ''}"

    def table(self) -> str:
        """A text table of the types (for the terminal)."""
        sil = "n/a" if self.silhouette is None else f"{self.silhouette:.3f}"
        gap_text = ""
        if self.gaps is not None:
            from shelfscan.counting.gaps import gap_share_of_width

            gap_text = f", {len(self.gaps)} gaps ({gap_share_of_width(self.gaps, self.detections):.1%} of width)"
        share = "facings" if self.noun == "products" else "share"  # facings: products side by side on a shelf
        lines = [f"{self.image}: {self.summary()}, silhouette {sil}{gap_text}",
                 f"  {'type':>10} {'count':>6} {share:>8} {'width':>7}"]
        for g in self.groups:
            name = "unassigned" if g.id == UNASSIGNED else str(g.id)
            lines.append(f"  {name:>10} {g.count:>6} {g.share_of_facings:>8.1%} {g.share_of_width:>7.1%}")
        return "\n".join(lines)

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``counts.json``, and with pixels ``annotated.jpg`` (boxes coloured by type, gaps hatched red, and
        a legend panel beside or below the photo: per type its colour, an example and its count) and ``types.jpg``
        (a few crops per type), into ``out_dir`` (created). Returns the paths."""
        from shelfscan.annotate import save_rgb
        from shelfscan.counting.render import annotate_types, contact_sheet

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"counts": out / "counts.json"}
        paths["counts"].write_text(json.dumps(self.to_json(), indent=1) + "\n")
        if self.pixels is not None:
            paths["annotated"] = out / "annotated.jpg"
            save_rgb(paths["annotated"], annotate_types(self.pixels, self.detections, self.groups, gaps=self.gaps,
                                                        noun=self.noun))
            paths["types"] = out / "types.jpg"
            save_rgb(paths["types"], contact_sheet(self.pixels, self.detections, self.groups))
        return paths


def summary_rows(counts: list[ShelfCount]) -> list[dict[str, Any]]:
    """One row per image and type: image, type, count, share_of_facings, share_of_width, total, silhouette.
    A photo with no product gets one row with an empty type and count 0."""
    rows = []
    for c in counts:
        sil = "" if c.silhouette is None else round(float(c.silhouette), 4)
        base = {"image": c.image, "total": c.total, "silhouette": sil}
        if c.gaps is not None:  # the photo's gaps, repeated on each of its rows (counting/gaps.py)
            from shelfscan.counting.gaps import gap_share_of_width

            base.update(gaps=len(c.gaps), gap_share_of_width=round(gap_share_of_width(c.gaps, c.detections), 4))
        if not c.groups:
            rows.append({**base, "type": "", "count": 0, "share_of_facings": 0.0, "share_of_width": 0.0})
        for g in c.groups:
            rows.append({**base, "type": "unassigned" if g.id == UNASSIGNED else g.id, "count": g.count,
                         "share_of_facings": round(g.share_of_facings, 4),
                         "share_of_width": round(g.share_of_width, 4)})
    return rows


def write_summary_csv(counts: list[ShelfCount], path: str | Path) -> Path:
    """``summary.csv``: the rows of :func:`summary_rows` with a header."""
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["image", "type", "count", "share_of_facings", "share_of_width", "total", "silhouette"]
    if any(c.gaps is not None for c in counts):  # two-class model: gap columns (empty for photos without)
        fields += ["gaps", "gap_share_of_width"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(summary_rows(counts))
    return path


def count_embedder(network=None, *, device: str = "cpu", precision: str = CountConfig.embed_precision,
                   threads: int | None = None, flip: bool = CountConfig.flip, **options):
    """Counting's crop embedder: a :class:`~shelfscan.embed.CropEmbedder` of ``network`` with counting's settings.

    Args:
        network: a :class:`~shelfscan.embed.CropNetwork` (None: ``COUNT_NETWORK`` of
            :mod:`shelfscan.counting.config`, :data:`~shelfscan.embed.PAIR`: the ImageNet and the shelf-trained
            network in one graph).
        device: where it runs; a network that runs on the CPU only (``PAIR``) stays on the CPU whatever
            ``device`` says.
        precision: ``"auto"`` (default: the int8 network on a CPU), ``"fp32"`` or ``"int8"``; a network that
            ships as int8 only (``PAIR``) runs int8 whatever this says (``count(precision="fp32")`` runs the
            detector in fp32 and this network in int8).
        threads: ONNX Runtime threads (None: the runtime's default).
        flip: add the mirror-image pass (default ``CountConfig.flip``: off, half the embedding time, no loss on
            real photos).
        **options: other :class:`~shelfscan.embed.CropEmbedder` settings.
    """
    from shelfscan.counting.config import COUNT_NETWORK
    from shelfscan.embed import CropEmbedder

    network = COUNT_NETWORK if network is None else network
    on_cpu_only, int8_only = not getattr(network, "torch", True), getattr(network, "onnx", True) is None
    return CropEmbedder(device="cpu" if on_cpu_only else device, flip=flip, precision="int8" if int8_only else precision,
                        threads=threads, network=network, **options)


@lru_cache(maxsize=8)
def default_embedder(device: str = "cpu", precision: str = CountConfig.embed_precision, threads: int | None = None):
    """:func:`count_embedder` with its defaults, built once per process and setting: what ``count`` and
    ``group_products`` use when no embedder is given."""
    return count_embedder(device=device, precision=precision, threads=threads)


def make_groups(detections: Detections, labels: np.ndarray, embeddings: np.ndarray) -> list[ProductGroup]:
    """Groups from cluster labels (0 = largest, -1 = unassigned), members ordered most typical first.

    Args:
        detections: N boxes.
        labels: int64 (N,) cluster ids.
        embeddings: (N, D) unit rows (the most typical member is the closest to the type's mean direction).
    """
    n = len(detections)
    widths = box_sizes(detections.xyxy, dtype=None)[:, 0].astype(np.float64)
    width_total = float(widths.sum())
    ids = sorted(set(labels.tolist()), key=lambda c: (c == UNASSIGNED, c))
    groups = []
    for gid in ids:
        members = np.flatnonzero(labels == gid)
        centre = embeddings[members].astype(np.float64).mean(0)
        order = members[np.argsort(-(embeddings[members] @ centre), kind="stable")]
        groups.append(ProductGroup(
            id=int(gid), indices=order.astype(np.int64), share_of_facings=len(members) / n,
            share_of_width=float(widths[members].sum()) / width_total if width_total > 0 else len(members) / n,
            example_box=[float(v) for v in detections.xyxy[order[0]]]))
    return groups


def _confirm(detections: Detections, embeddings: np.ndarray, strong_labels: np.ndarray, strong: np.ndarray,
             result, silhouette: float | None):
    """Weak boxes join the types of the strong ones or leave (:func:`~shelfscan.counting.confirm.confirm_weak`).

    Returns the kept detections, their embeddings, their labels and the silhouette over them."""
    from shelfscan.cluster.distances import combined_distance
    from shelfscan.cluster.methods import silhouette as silhouette_score
    from shelfscan.counting.confirm import DROPPED, confirm_weak

    labels = np.zeros(len(detections), np.int64)
    labels[strong] = strong_labels
    if not strong.any():  # nothing scored well enough to form a type: nothing is confirmed
        keep = np.zeros(len(detections), bool)
        return detections[keep], embeddings[keep], labels[keep], None
    dist = combined_distance(embeddings)  # all boxes: the weak ones are compared on the same scale
    labels = confirm_weak(labels, dist, strong, CountConfig.type_radius)
    keep = labels != DROPPED
    if (labels[keep & ~strong] >= 0).any():  # the types grew: score the grouping of the boxes kept
        if result.method == "kmeans":
            silhouette = silhouette_score(embeddings[keep], labels[keep], "cosine")
        else:
            silhouette = silhouette_score(dist[np.ix_(keep, keep)], labels[keep], "precomputed")
    return detections[keep], embeddings[keep], labels[keep], silhouette


def _embed(embedder, pixels: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(embeddings (N, D), the crops the hue split reads or None): an embedder that takes resized crops of the
    hue split's size (``CountConfig.hue_crop``, no context) gets them, so the photo is cut once."""
    size, context = getattr(embedder, "input_size", None), getattr(embedder, "context", None)
    if size != CountConfig.hue_crop or context != 0 or not hasattr(embedder, "embed_resized"):
        return embedder.embed_boxes(pixels, xyxy), None
    from shelfscan.embed.crops import crop_boxes

    crops = crop_boxes(pixels, xyxy, size)
    return embedder.embed_resized(crops), crops


def _refine_types(result, xyxy: np.ndarray, pixels: np.ndarray, *, absorb: bool, split: bool,
                  crops: np.ndarray | None = None):
    """(labels (N,), silhouette) of an agglomerative grouping of the boxes ``xyxy`` (N, 4) after absorbing edge
    fragments and splitting types by hue (each when asked and possible; ``crops``: the boxes' crops of side
    ``CountConfig.hue_crop``, cut here when None); the silhouette is rescored on the clustering's distances when
    the types changed."""
    labels, silhouette = result.labels, result.silhouette
    n_strong = len(xyxy)
    # (no distances: every crop alike, one type, nothing to absorb)
    if absorb and result.method == "agglomerative" and n_strong > 2 and result.distances is not None:
        from shelfscan.counting.fragments import absorb_edge_fragments, touches_border

        border = touches_border(xyxy, pixels.shape[1], pixels.shape[0])
        if border.any():
            labels = absorb_edge_fragments(labels, result.distances, border, CountConfig.type_radius)
    if split and result.method == "agglomerative" and n_strong > 1:
        from shelfscan.counting.hues import hue_histograms, split_by_hue
        from shelfscan.embed.crops import crop_boxes

        hues, coloured = hue_histograms(crop_boxes(pixels, xyxy, CountConfig.hue_crop) if crops is None else crops)
        labels = split_by_hue(labels, hues, coloured)
    if labels is not result.labels:  # the types changed: score the grouping once, on the distances cut
        from shelfscan.cluster.methods import silhouette as silhouette_score

        silhouette = None if result.distances is None else silhouette_score(result.distances, labels, "precomputed")
    return labels, silhouette


def _split_inputs(detections: Detections, confirm_below: float | None, k: int | None):
    """(product boxes, gap boxes or None, bool (N,) the products that form types); InputError for a wrong type,
    a ``confirm_below`` outside [0, 1] or a ``k`` above the number of boxes that form types."""
    from shelfscan.counting.gaps import has_gap_class, split_gaps

    if not isinstance(detections, Detections):
        raise InputError(f"group_products detections: expected a shelfscan Detections, got "
                         f"{type(detections).__name__}")
    gaps = None
    if has_gap_class(detections.class_names):  # empty shelf space is never a product nor a type
        detections, gaps = split_gaps(detections)
    expect(confirm_below is None or (isinstance(confirm_below, (int, float)) and 0 <= confirm_below <= 1),
           "confirm_below", "None or a score in [0, 1]", confirm_below)
    strong = np.ones(len(detections), bool) if confirm_below is None else detections.scores >= confirm_below
    n_strong = int(strong.sum())
    expect(k is None or n_strong == 0 or k <= n_strong, "k",
           f"at most the number of boxes that form types ({n_strong}"
           + (f" scoring >= confirm_below {confirm_below})" if confirm_below is not None else ")"), k)
    return detections, gaps, strong


def _shelf_cut(method: str, linkage: str, distance_threshold: float | None) -> float | None:
    """The agglomerative cut: the one given, else the shelf's (``CountConfig.distance_threshold``) with the shelf's
    linkage, else None (the clustering's own default)."""
    if distance_threshold is None and method in ("auto", "agglomerative") and linkage == CountConfig.linkage:
        return CountConfig.distance_threshold
    return distance_threshold


def group_products(image: Any, detections: Detections, *, method: str = CountConfig.method, embedder=None,
                   name: str | None = None, k: int | None = None, distance_threshold: float | None = None,
                   linkage: str = CountConfig.linkage,
                   keep_pixels: bool = True, absorb_edges: bool = True, split_hues: bool = True,
                   confirm_below: float | None = None, noun: str = "products",
                   neighbours: int = CountConfig.neighbours) -> ShelfCount:
    """Group the products detected on one photo into types and count each type.

    Args:
        image: the photo: (H, W, 3) uint8 RGB array, PIL image, or path.
        detections: its products (absolute pixel boxes), e.g. from ``Detector.predict``.
        method: clustering method of :func:`~shelfscan.cluster.cluster_embeddings` (default ``"auto"``).
        embedder: a :class:`~shelfscan.embed.CropEmbedder` (default: one shared CPU embedder).
        name: image name in the results (default: the file name when ``image`` is a path, else ``"image"``).
        k: number of types, when known; None finds it.
        distance_threshold: agglomerative cut on the combined distance (default ``CountConfig.distance_threshold``
            = 1.5 with the default linkage, the clustering's own default with the others; larger merges more).
        linkage: agglomerative linkage (default ``CountConfig.linkage`` = ``"average"``; ``"single"`` chains the
            facings of a product along a shelf even where the light changes, but also chains look-alike types).
        keep_pixels: keep the photo on the result so :meth:`ShelfCount.save` can draw pictures.
        absorb_edges: with agglomerative clustering and k not given, a type of one or two boxes that all touch
            the photo's border (packs cut off by the edge) joins the type it resembles most when its mean
            distance to that type is within 1.5 × ``CountConfig.type_radius``
            (:func:`~shelfscan.counting.fragments.absorb_edge_fragments`).
        split_hues: with agglomerative clustering and k not given, a type whose labels fall into groups of
            different hues (flavours of one brand) is cut into one type per group
            (:func:`~shelfscan.counting.hues.split_by_hue`).
        confirm_below: boxes scoring under this do not form types: each joins the type it resembles most when
            its mean combined distance to that type's boxes is at most ``CountConfig.type_radius`` (1.0, whatever
            the method), and is left out of the result otherwise (:func:`~shelfscan.counting.confirm.confirm_weak`).
            None: every box takes part.
        noun: what the boxes are called in the result's table and pictures (``Detector.noun``).
        neighbours: k of the shared-neighbour view added to the combined distance the types are cut on
            (default ``CountConfig.neighbours`` = 5; 0 leaves it out; not used by k-means).

    Returns:
        :class:`ShelfCount` whose detections (the boxes counted) carry ``cluster_id`` and ``embedding``.
    """
    from shelfscan.cluster import cluster_embeddings
    from shelfscan.data.images import as_rgb

    if isinstance(image, (str, Path)) and name is None:
        name = Path(image).name
    pixels = as_rgb(image, "group_products image")
    detections, gaps, strong = _split_inputs(detections, confirm_below, k)
    embedder = default_embedder() if embedder is None else embedder
    embeddings, crops = _embed(embedder, pixels, detections.xyxy)
    result = cluster_embeddings(embeddings[strong], method=method, k=k if strong.any() else None,
                                distance_threshold=_shelf_cut(method, linkage, distance_threshold), linkage=linkage,
                                neighbours=neighbours)
    labels, silhouette = _refine_types(result, detections.xyxy[strong], pixels, absorb=absorb_edges and k is None,
                                       split=split_hues and k is None, crops=None if crops is None else crops[strong])
    if not strong.all():
        detections, embeddings, labels, silhouette = _confirm(detections, embeddings, labels, strong, result,
                                                              silhouette)
    data = dict(detections.data)
    data["cluster_id"] = labels.astype(np.int64)
    data["embedding"] = embeddings.astype(np.float32)
    dets = Detections(detections.xyxy, detections.scores, detections.class_id, list(detections.class_names), data,
                      detections.metadata)
    groups = make_groups(dets, labels, embeddings) if len(dets) else []
    return ShelfCount(name or "image", dets, groups, silhouette, result.method,
                      pixels if keep_pixels else None, gaps=gaps, noun=noun)
