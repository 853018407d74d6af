"""Shared fixtures. Tests that read ../shared/data skip cleanly when it is absent (users' machines).

Tests that need torch (the ``[train]`` extra) say so, so that the core install (``pip install .``, run by
``make test`` in ``.venv-core``) skips them and runs everything else without torch: a whole module with
``torch = pytest.importorskip("torch")`` before its other imports, a single test with ``@pytest.mark.torch``.
Any other ``import torch`` reached from a test fails the core run, which is the point (issue #16).
Tests that render synthetic shelves or train need OpenCV (the ``[synth]`` extra, not in the core install either):
``pytest.importorskip("cv2")`` in the module, fixture or test that reaches ``shelfscan.synth``.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHELFSCAN_SHARED_DATA", REPO.parent / "shared" / "data"))
HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked ``torch`` where torch is not installed (the core install)."""
    if HAS_TORCH:
        return
    skip = pytest.mark.skip(reason="needs torch (the [train] extra): not in the core install")
    for item in items:
        if item.get_closest_marker("torch"):
            item.add_marker(skip)


def shared_dataset(name: str) -> Path:
    """Path of ``../shared/data/<name>``, or skip the test when it is not there."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data set {name!r} not found at {path}")
    return path


@pytest.fixture
def shared():
    return shared_dataset
