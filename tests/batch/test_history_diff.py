"""history and diff on two scans of one shelf: a synthetic shelf and its copy with products painted out (every
facing of one SKU, three of another). The changes diff reports must be the painted ones, counted from the
synthetic shelf's true boxes."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.batch.conftest import FEWER_BY, FEWER_SKU, GONE_SKU

pytest.importorskip("sqlalchemy", reason="the results database needs SQLAlchemy (pip install 'shelfscan[db]')")


def _scan_ids(engine):
    import sqlalchemy as sa

    from shelfscan.batch import schema as t

    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.scans.c.id, t.scans.c.image)).all()
    return {image.rsplit("/", 1)[1]: i for i, image in rows}


def test_diff_reports_the_painted_out_products(counted, shelf_pair):
    from shelfscan.batch.db import engine_for, sqlite_url
    from shelfscan.batch.diff import diff_scans

    engine = engine_for(sqlite_url(counted / "scans.db"))
    ids = _scan_ids(engine)
    d = diff_scans(engine, ids["a_shelf.png"], ids["b_shelf.png"])
    assert [c.count_a for c in d.vanished] == [shelf_pair.true_a[GONE_SKU]]  # all 8 facings of the SKU gone
    assert d.appeared == []
    changed = [c for c in d.matched if c.delta]
    # the painted SKU's type loses exactly FEWER_BY facings; its counts may be one off on both photos alike (the
    # shared-neighbour grouping puts one facing of its look-alike SKU 394 with it: 8 -> 5 for 7 -> 4)
    fewer = [c for c in changed if c.delta == -FEWER_BY and abs(c.count_a - shelf_pair.true_a[FEWER_SKU]) <= 1]
    assert len(fewer) == 1
    # any other change is one facing, counted in one photo and not the other: photo b has one box of SKU 211 that
    # scores 0.5-0.65 next to the painted-out area, and its confirmation is a near thing (dropped by counting's
    # joined crop networks: 12 -> 11; with the ImageNet network alone it moved between two look-alike types
    # instead: 7 -> 6 and 5 -> 6). At most two types, one facing each, and at most one facing lost in all.
    others = [c for c in changed if c is not fewer[0]]
    assert len(others) <= 2 and sum(c.delta for c in others) in (-1, 0) and all(abs(c.delta) == 1 for c in others)
    assert all(c.similarity >= 0.9 for c in d.matched)
    painted = shelf_pair.true_a[GONE_SKU] + FEWER_BY
    assert d.total_a - d.total_b - painted == -sum(c.delta for c in others)
    assert "vanished: type" in d.text() and "gaps not compared" in d.text()
    same = diff_scans(engine, ids["a_shelf.png"], ids["a_shelf.png"])
    assert not same.vanished and not same.appeared and all(c.delta == 0 for c in same.matched)


def test_gap_matching():
    from shelfscan.batch.matching import match_gaps

    a = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float)
    b = np.array([[1, 0, 11, 10], [60, 0, 70, 10]], float)  # first kept (moved 1 px), 2 closed, 1 opened
    closed, opened, kept = match_gaps(a, b)
    assert (closed, opened, kept) == ([1, 2], [1], 1)


def test_history_csv_and_html(counted, tmp_path):
    from shelfscan.cli import main

    db = str(counted / "scans.db")
    assert main(["history", "--db", db, "--shelf", "shelf", "--out", str(tmp_path / "h.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "h.csv")))
    assert sorted(r["image"].rsplit("/", 1)[1] for r in rows) == ["a_shelf.png", "b_shelf.png"]  # failed one out
    by_name = {r["image"].rsplit("/", 1)[1]: r for r in rows}
    assert int(by_name["a_shelf.png"]["total"]) > int(by_name["b_shelf.png"]["total"])
    assert all(r["shelf_id"] == "shelf" and r["gap_share"] == "" for r in rows)
    assert main(["history", "--db", db, "--since", "2999-01-01", "--out", str(tmp_path / "none.csv")]) == 1
    assert main(["history", "--db", db, "--out", str(tmp_path / "h.html")]) == 0
    page = (tmp_path / "h.html").read_text()
    assert page.count("<svg") == 1 and "<polyline" in page and "a_shelf.png" in page


def test_diff_cli(counted, capsys):
    from shelfscan.batch.db import engine_for, sqlite_url
    from shelfscan.cli import main

    ids = _scan_ids(engine_for(sqlite_url(counted / "scans.db")))
    assert main(["diff", str(ids["a_shelf.png"]), str(ids["b_shelf.png"]), "--db", str(counted / "scans.db")]) == 0
    assert "vanished" in capsys.readouterr().out
    assert main(["diff", str(ids["broken.jpg"]), str(ids["a_shelf.png"]), "--db", str(counted / "scans.db")]) == 2


def test_diff_refuses_scans_embedded_by_different_crop_networks(counted_copy):
    import sqlalchemy as sa

    from shelfscan.batch import schema as t
    from shelfscan.batch.db import engine_for, sqlite_url
    from shelfscan.batch.diff import diff_scans
    from shelfscan.batch.worker import pack_array, unpack_array
    from shelfscan.errors import InputError

    engine = engine_for(sqlite_url(counted_copy / "scans.db"))
    ids = _scan_ids(engine)
    with engine.begin() as conn:  # scan b as an older version stored it: vectors of another length
        scan_b = ids["b_shelf.png"]
        for row in conn.execute(sa.select(t.types.c.type_id, t.types.c.embedding)
                                .where(t.types.c.scan_id == scan_b)).all():
            short = unpack_array(row.embedding)[:1408]
            conn.execute(t.types.update().where((t.types.c.scan_id == scan_b) & (t.types.c.type_id == row.type_id))
                         .values(embedding=pack_array(short)))
    with pytest.raises(InputError, match="one crop network, got lengths 2816 and 1408"):
        diff_scans(engine, ids["a_shelf.png"], ids["b_shelf.png"])
