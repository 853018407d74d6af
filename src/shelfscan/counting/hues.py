"""Look-alike products told apart by the hue of their labels.

Flavours of one brand share the label's design and differ in its colours. Network features of a crop barely
change with hue, so such variants can end up in one type (and a chain of facings makes that easier). Within each
type, the hue histograms of the labels are clustered on their own: a part whose colours differ from the rest
becomes a type of its own. Light that changes along the shelf alters brightness much more than hue, so the facings
of one product stay together.
"""
from __future__ import annotations

import numpy as np

from shelfscan.cluster.methods import UNASSIGNED, agglomerative_labels, relabel_by_size
from shelfscan.embed.crops import COLOUR_MARGIN, HSV_CHUNK, central_hsv
from shelfscan.errors import expect
from shelfscan.imageops import counts_per_image, hist_bins

HUE_BINS = 16
MIN_SATURATION = 64   # of 255: greys, whites and blacks carry no hue
MIN_COLOURED = 0.05   # a crop with less than this share of coloured pixels has no hue to compare
HUE_SPLIT = 0.6       # Hellinger distance between hue histograms at which a type is cut (average linkage)


def hue_histograms(crops: np.ndarray, margin: float = COLOUR_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Hue histograms of the coloured pixels of each crop's central region.

    Args:
        crops: uint8 (N, S, S, 3) RGB.
        margin: fraction of the side left out on each border.

    Returns:
        float64 (N, HUE_BINS) square roots of the normalised counts (unit rows; dot products are Bhattacharyya
        coefficients), and bool (N,) whether the crop has enough coloured pixels (``MIN_COLOURED``) to have a hue.
    """
    crops = np.asarray(crops)
    expect(crops.dtype == np.uint8 and crops.ndim == 4 and crops.shape[-1] == 3, "hue_histograms crops",
           "uint8 (N, S, S, 3)", f"{crops.dtype} {crops.shape}")
    n = len(crops)
    out = np.zeros((n, HUE_BINS))
    coloured = np.zeros(n, bool)
    for start in range(0, n, HSV_CHUNK):
        hsv = central_hsv(crops[start:start + HSV_CHUNK], margin)  # (B, S', S', 3)
        bins = np.where(hsv[..., 1] >= MIN_SATURATION, hist_bins(hsv[..., 0], HUE_BINS, 0, 180), -1)
        hist = counts_per_image(bins, HUE_BINS)  # the coloured pixels' hues (cv2.calcHist with a mask)
        total = hist.sum(1).astype(np.float64)
        coloured[start:start + len(hsv)] = total >= MIN_COLOURED * hsv[0, ..., 0].size
        out[start:start + len(hsv)] = np.sqrt(hist / np.maximum(total, 1.0)[:, None])
    return out, coloured


def split_by_hue(labels: np.ndarray, hues: np.ndarray, coloured: np.ndarray, threshold: float = HUE_SPLIT
                 ) -> np.ndarray:
    """Cut each type where its members' hues differ.

    Within a type, the coloured members are clustered (average linkage on the Hellinger distance of their hue
    histograms, cut at ``threshold``); the largest part keeps the type with every member that has no hue, each
    other part becomes a new type.

    Args:
        labels: int (N,) types (-1 unassigned, left alone).
        hues, coloured: from :func:`hue_histograms`.
        threshold: Hellinger distance in (0, 1].

    Returns:
        int64 (N,) labels renumbered by size (0 = largest), -1 kept; ``labels`` itself when nothing was cut.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    expect(hues.shape == (n, HUE_BINS), "split_by_hue hues", f"shape ({n}, {HUE_BINS})", hues.shape)
    expect(coloured.shape == (n,), "split_by_hue coloured", f"shape ({n},)", coloured.shape)
    expect(0 < threshold <= 1, "split_by_hue threshold", "a Hellinger distance in (0, 1]", threshold)
    out = labels.copy()
    next_id = int(labels.max()) + 1 if n else 0
    for t in np.unique(labels[labels != UNASSIGNED]).tolist():
        members = np.flatnonzero((labels == t) & coloured)
        if len(members) < 2:
            continue
        h = hues[members]
        dist = np.sqrt(np.clip(1.0 - h @ h.T, 0.0, 1.0))
        np.fill_diagonal(dist, 0.0)
        parts = agglomerative_labels(dist, linkage="average", threshold=threshold)
        if parts.max() == 0:
            continue
        keep = int(np.argmax(np.bincount(parts)))  # ties: the part found first
        for p in np.unique(parts).tolist():
            if p != keep:
                out[members[parts == p]] = next_id
                next_id += 1
    if (out == labels).all():
        return labels
    return relabel_by_size(out)


__all__ = ["HUE_SPLIT", "hue_histograms", "split_by_hue"]
