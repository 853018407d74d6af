"""The Ray Data engine on a tiny local Ray (1 CPU) gives exactly the local engine's records."""
from __future__ import annotations

import pytest

from tests.batch.conftest import settings_and_config

pytest.importorskip("sqlalchemy", reason="the results database needs SQLAlchemy (pip install 'shelfscan[db]')")
pytest.importorskip("ray.data", reason="Ray Data not installed (pip install 'shelfscan[ray]'): Ray engine untested")


def test_ray_records_equal_local(counted, shelf_pair, tmp_path):
    from dataclasses import replace

    from shelfscan.batch.runner import run_batch

    settings, cfg = settings_and_config()
    summary = run_batch([shelf_pair.folder], tmp_path / "ray", settings, replace(cfg, engine="ray"),
                        progress=False)
    assert (summary.counted, summary.failed) == (2, 1)
    local = sorted((counted / "results.jsonl").read_text().splitlines())
    ray_lines = sorted((tmp_path / "ray" / "results.jsonl").read_text().splitlines())
    assert ray_lines == local
