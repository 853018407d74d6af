"""A small catalog shared by the synth tests (fronts 64 px tall: quick to build)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_catalog():
    pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")
    from shelfscan.synth import Catalog

    return Catalog.random(0, n_skus=40, texture_height=64)
