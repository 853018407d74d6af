"""results.jsonl: whole lines, a torn last line ignored and cut, bad lines reported, one writer at a time."""
from __future__ import annotations

import json

import pytest

from shelfscan.batch.records import ResultsLog, key_of, read_results, record_line
from shelfscan.batch.sources import collect_photos
from shelfscan.errors import InputError


def _record(image: str, sha: str = "ab", status: str = "ok") -> dict:
    return {"image": image, "sha256": sha, "model": "m@1", "settings": {"conf": 0.5}, "status": status,
            "error": None, "total": 3}


def test_append_then_read_back(tmp_path):
    with ResultsLog(tmp_path) as log:
        log.append([record_line(_record("/a.jpg")), record_line(_record("/b.jpg"))])
    found = read_results(tmp_path / "results.jsonl")
    assert [r["image"] for r in found.records.values()] == ["/a.jpg", "/b.jpg"]
    assert found.torn_bytes == 0 and found.problems == []
    assert key_of(found.records[next(iter(found.records))]) == ("/a.jpg", "ab", "m@1", '{"conf":0.5}')


def test_torn_last_line_ignored_then_cut_before_the_next_append(tmp_path):
    path = tmp_path / "results.jsonl"
    whole = record_line(_record("/a.jpg"))
    path.write_text(whole + record_line(_record("/b.jpg"))[:25])  # a kill in the middle of the second line
    found = read_results(path)
    assert list(r["image"] for r in found.records.values()) == ["/a.jpg"]
    assert found.torn_bytes == 25
    with ResultsLog(tmp_path) as log:
        log.append([record_line(_record("/b.jpg"))])
    lines = path.read_text().splitlines()
    assert [json.loads(x)["image"] for x in lines] == ["/a.jpg", "/b.jpg"]  # nothing glued onto the torn part


def test_bad_middle_line_and_repeats_are_reported(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(record_line(_record("/a.jpg")) + "{oops\n" + record_line(_record("/a.jpg")))
    found = read_results(path)
    assert len(found.records) == 1
    assert any(":2: expected a JSON record" in p for p in found.problems)
    assert any("1 records repeat" in p for p in found.problems)


def test_second_writer_refused(tmp_path):
    with ResultsLog(tmp_path):
        with pytest.raises(InputError, match="no other batch"):
            with ResultsLog(tmp_path):
                pass


def test_sources_folders_files_lists_and_problems(tmp_path):
    (tmp_path / "d").mkdir()
    for name in ("d/x.jpg", "d/y.png", "z.jpg"):
        (tmp_path / name).write_bytes(b"x")
    listing = tmp_path / "list.txt"
    listing.write_text("# photos\nz.jpg\nmissing.jpg\n\nd/x.jpg\n")
    paths, problems = collect_photos([tmp_path / "d", listing, tmp_path / "nowhere"])
    assert paths == [(tmp_path / n).resolve().as_posix() for n in ("d/x.jpg", "d/y.png", "z.jpg")]
    assert any("list.txt:3: expected an image file" in p for p in problems)
    assert any("nowhere: expected a folder" in p for p in problems)
    assert any("1 paths were given more than once" in p for p in problems)


def test_taken_at_from_exif_else_file_time(tmp_path):
    import os

    from PIL import Image

    from shelfscan.batch.worker import DATETIME_ORIGINAL, EXIF_IFD, taken_at

    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2026:05:01 08:30:00"
    Image.new("RGB", (8, 8)).save(tmp_path / "exif.jpg", exif=exif)
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.jpg")
    os.utime(tmp_path / "plain.jpg", (1_700_000_000, 1_700_000_000))
    assert taken_at(str(tmp_path / "exif.jpg")) == ("2026-05-01T08:30:00", "exif")
    when, source = taken_at(str(tmp_path / "plain.jpg"))
    assert source == "mtime" and when.startswith("2023-11-1")


def test_shelf_ids_regex_and_csv(tmp_path):
    pytest.importorskip("sqlalchemy")
    from shelfscan.batch.db import ShelfIds

    mapping = tmp_path / "map.csv"
    mapping.write_text(f"path,shelf\n{tmp_path / 'x.jpg'},S9\n")
    ids = ShelfIds.from_args(r"aisle(?P<shelf>\d+)/", str(mapping))
    assert ids("/photos/aisle12/a.jpg") == "12"
    assert ids((tmp_path / "x.jpg").as_posix()) == "S9"
    assert ids("/photos/other/b.jpg") is None and ids.unmatched == 1
    with pytest.raises(InputError, match=r"named group \(\?P<shelf>"):
        ShelfIds.from_args(r"aisle(\d+)", None)
