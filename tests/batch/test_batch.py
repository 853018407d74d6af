"""shelfscan batch: one record per photo, failures recorded, re-runs skip what is done, a torn line recounted."""
from __future__ import annotations

import json

import pytest

from tests.batch.conftest import settings_and_config

pytest.importorskip("sqlalchemy", reason="the results database needs SQLAlchemy (pip install 'shelfscan[db]')")


def _lines(out):
    return [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]


def test_one_record_per_photo_and_failure_recorded(counted, shelf_pair):
    records = {r["image"].rsplit("/", 1)[1]: r for r in _lines(counted)}
    assert sorted(records) == ["a_shelf.png", "b_shelf.png", "broken.jpg"]
    bad = records["broken.jpg"]
    assert bad["status"] == "error" and "not an image" in bad["error"] and bad["total"] is None
    good = records["a_shelf.png"]
    assert good["status"] == "ok" and good["error"] is None
    assert good["total"] == sum(g["count"] for g in good["groups"])
    from shelfscan.counting.config import CountConfig  # the defaults of `shelfscan count`

    from shelfscan.batch.settings import count_models_id, model_id

    # the detector and counting's crop networks: new networks of either kind count the photos again
    assert good["model"] == count_models_id(None) and good["model"].startswith(model_id(None) + "+crops@")
    assert good["settings"]["conf"] == CountConfig.count_conf
    assert good["settings"]["confirm_below"] == CountConfig.confirm_below
    assert len(good["sha256"]) == 64 and good["taken_at"]
    # the synthetic shelf's products are all found but one (53 of 54): the count is a real one
    assert abs(good["total"] - sum(shelf_pair.true_a.values())) <= 2


def test_rerun_skips_everything(counted_copy, shelf_pair):
    from shelfscan.batch.runner import run_batch

    before = (counted_copy / "results.jsonl").read_bytes()
    summary = run_batch([shelf_pair.folder], counted_copy, *settings_and_config(), progress=False)
    assert (summary.photos, summary.skipped, summary.counted, summary.failed) == (3, 3, 0, 0)
    assert (counted_copy / "results.jsonl").read_bytes() == before


def test_torn_last_line_is_counted_again_once(counted_copy, shelf_pair):
    from shelfscan.batch.runner import run_batch

    path = counted_copy / "results.jsonl"
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    torn_image = json.loads(data[last_start:])["image"]
    path.write_bytes(data[:last_start + 40])  # kill -9 in the middle of writing the last line
    summary = run_batch([shelf_pair.folder], counted_copy, *settings_and_config(), progress=False)
    assert summary.skipped == 2 and summary.counted + summary.failed == 1
    assert any("torn last line" in p for p in summary.problems)
    images = [r["image"] for r in _lines(counted_copy)]
    assert sorted(images) == sorted(set(images)) and len(images) == 3 and torn_image in images
    assert path.read_bytes().endswith(b"\n")


def test_other_settings_count_again(counted_copy, shelf_pair):
    from dataclasses import replace

    from shelfscan.batch.runner import run_batch

    settings, cfg = settings_and_config()
    listing = counted_copy / "one.txt"
    listing.write_text(str(shelf_pair.folder / "broken.jpg") + "\n")  # the cheap photo: fails at once
    summary = run_batch([listing], counted_copy, replace(settings, conf=0.55), cfg, progress=False)
    assert (summary.skipped, summary.failed) == (0, 1)
    assert len(_lines(counted_copy)) == 4


def test_cli_exit_code_and_message(shelf_pair, tmp_path, capsys):
    from shelfscan.cli import main

    code = main(["batch", str(shelf_pair.folder / "broken.jpg"), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 1  # a photo failed (recorded)
    assert "1 failed" in capsys.readouterr().out
    assert main(["batch", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
