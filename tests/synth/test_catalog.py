"""Catalog: deterministic fronts, look-alike families share shape and differ in colour."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")

from shelfscan.synth import Catalog  # noqa: E402


def test_catalog_is_deterministic_and_named(small_catalog: Catalog) -> None:
    again = Catalog.random(0, n_skus=40, texture_height=64)
    assert again.names == [f"sku_{i}" for i in range(40)] == small_catalog.names
    assert all(np.array_equal(a, b) for a, b in zip(again.textures, small_catalog.textures))
    other = Catalog.random(1, n_skus=40, texture_height=64)
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(other.textures, small_catalog.textures))


def test_look_alikes_share_shape_and_differ_in_colour(small_catalog: Catalog) -> None:
    fam = small_catalog.family
    assert len(fam) == 40 and (np.diff(fam) >= 0).all()
    multi = [f for f in np.unique(fam) if (fam == f).sum() >= 2]
    assert multi, "expected at least one family with look-alike variants"
    for f in multi:
        a, b = small_catalog.family_members(f)[:2]
        assert small_catalog.shapes[a] == small_catalog.shapes[b]
        assert small_catalog.textures[a].shape == small_catalog.textures[b].shape
        np.testing.assert_array_equal(small_catalog.alphas[a], small_catalog.alphas[b])
        assert not np.array_equal(small_catalog.textures[a], small_catalog.textures[b])
    kinds = {s.kind for s in small_catalog.shapes}
    assert len(kinds) >= 4, f"expected several package shapes, got {kinds}"


def test_front_resizes_to_the_asked_size(small_catalog: Catalog) -> None:
    rgb, alpha = small_catalog.front(3, 17, 29)
    assert rgb.shape == (29, 17, 3) and alpha.shape == (29, 17, 1)
    assert 0 <= alpha.min() and alpha.max() <= 1 and alpha.max() > 0.9
