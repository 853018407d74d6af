"""shelfscan.lazy: a package's names imported on first use."""
from __future__ import annotations

import sys
import types

import pytest

from shelfscan.lazy import lazy_attributes


def test_a_name_is_imported_once_on_first_use_and_unknown_names_raise(monkeypatch):
    calls = []
    pkg = types.ModuleType("fakepkg")
    sub = types.ModuleType("fakepkg.part")
    sub.thing = object()
    monkeypatch.setitem(sys.modules, "fakepkg", pkg)
    monkeypatch.setitem(sys.modules, "fakepkg.part", sub)
    pkg.__getattr__ = lazy_attributes("fakepkg", {"thing": "part"}, before=lambda: calls.append(1))
    assert pkg.thing is sub.thing and calls == [1]
    assert pkg.thing is sub.thing and calls == [1]  # cached in the package: no second import, no second check
    with pytest.raises(AttributeError, match="fakepkg.*other"):
        pkg.other


def test_the_check_before_an_import_can_refuse_it(monkeypatch):
    pkg = types.ModuleType("fakepkg2")
    monkeypatch.setitem(sys.modules, "fakepkg2", pkg)

    def refuse():
        raise RuntimeError("needs an extra")

    pkg.__getattr__ = lazy_attributes("fakepkg2", {"thing": "part"}, before=refuse)
    with pytest.raises(RuntimeError, match="needs an extra"):
        pkg.thing
