"""`shelfscan count` with the shipped model on a small synthetic shelf: files written, counts add up."""
import csv
import json

import pytest

pytest.importorskip("cv2", reason="needs OpenCV (the [synth] extra): synthetic shelves")

from shelfscan.annotate import save_rgb  # noqa: E402
from shelfscan.cli import main  # noqa: E402
from shelfscan.synth import render_shelf  # noqa: E402


def test_count_writes_json_images_and_summary(tmp_path, capsys):
    image, truth = render_shelf(3, width=640)
    save_rgb(tmp_path / "shelf.jpg", image, quality=95)
    save_rgb(tmp_path / "other.jpg", image[:, ::-1].copy(), quality=95)
    out = tmp_path / "out"
    assert main(["count", str(tmp_path / "shelf.jpg"), str(tmp_path / "other.jpg"), "--out", str(out)]) == 0
    data = json.loads((out / "shelf" / "counts.json").read_text())
    assert data["image"] == "shelf.jpg"
    assert data["total"] == sum(g["count"] for g in data["groups"]) > 0.5 * len(truth)
    assert (out / "shelf" / "annotated.jpg").is_file() and (out / "shelf" / "types.jpg").is_file()
    from shelfscan.data.images import read_image

    h, w = read_image(out / "shelf" / "annotated.jpg").shape[:2]
    assert h >= image.shape[0] and w > image.shape[1]  # a portrait photo: the legend panel on its right
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == len(data["groups"]) + len(json.loads((out / "other" / "counts.json").read_text())["groups"])
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    # one line per photo, no table; the shipped shelf model has no gap class: no gap count
    assert lines == [f"shelf.jpg: {data['total']} products, {len(data['groups'])} types -> {out / 'shelf'}",
                     lines[1]] and lines[1].startswith("other.jpg: ") and lines[1].endswith(f"-> {out / 'other'}")
    assert "2/2" in printed.err and "count" in printed.err  # the progress bar, on stderr


def test_verbose_prints_the_table(tmp_path, capsys):
    image, _ = render_shelf(3, width=640)
    save_rgb(tmp_path / "shelf.jpg", image, quality=95)
    out = tmp_path / "out"
    assert main(["count", str(tmp_path / "shelf.jpg"), "--out", str(out), "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    data = json.loads((out / "shelf" / "counts.json").read_text())
    assert lines[0].startswith("shelf.jpg: ") and lines[0].endswith(f"-> {out / 'shelf'}")
    assert lines[1].startswith(f"shelf.jpg: {data['total']} products") and "type" in lines[2]
    assert len(lines) == 3 + len(data["groups"])  # the summary line, then the table: title, header, one per type


def test_cli_and_python_api_count_the_same_boxes(tmp_path):
    import shelfscan
    from shelfscan.counting.api import _default_detector
    from shelfscan.counting.config import CountConfig

    image, _ = render_shelf(4, width=640)
    save_rgb(tmp_path / "shelf.png", image)
    out = tmp_path / "out"
    assert main(["count", str(tmp_path / "shelf.png"), "--out", str(out)]) == 0
    cli_total = json.loads((out / "shelf" / "counts.json").read_text())["total"]
    assert _default_detector().conf == CountConfig.count_conf  # one default threshold for counting, CLI and API
    api = shelfscan.count(tmp_path / "shelf.png")
    assert api.total == cli_total > 0
    assert api.detections.scores.min() >= CountConfig.count_conf


def test_confirm_below_zero_counts_every_box_above_conf(tmp_path):
    from shelfscan.counting.api import _default_detector
    from shelfscan.counting.config import CountConfig

    image, _ = render_shelf(4, width=640)
    save_rgb(tmp_path / "shelf.png", image)
    totals = {}
    for flag in ("0", str(CountConfig.confirm_below)):
        out = tmp_path / f"out{flag}"
        assert main(["count", str(tmp_path / "shelf.png"), "--out", str(out), "--confirm-below", flag]) == 0
        totals[flag] = json.loads((out / "shelf" / "counts.json").read_text())["total"]
    detected = len(_default_detector().predict(image).with_scores_above(CountConfig.count_conf))
    # with 0 every detected box forms types; with the default, weak boxes that look like no type are left out
    assert totals["0"] == detected >= totals[str(CountConfig.confirm_below)] > 0


def test_count_at_any_precision_embeds_with_the_int8_paired_network():
    import numpy as np

    import shelfscan
    from shelfscan.counting import count_embedder

    image, _ = render_shelf(4, width=640)
    results = {p: shelfscan.count(image, precision=p) for p in ("auto", "fp32")}
    assert results["auto"].total > 0 and results["fp32"].total > 0
    for precision, result in results.items():  # the detector runs at ``precision`` (tests/inference/test_precision)
        embedder = count_embedder(precision=precision)
        assert embedder.precision == "int8"  # counting's paired crop network ships as int8 only
        expected = embedder.embed_boxes(image, result.detections.xyxy)
        assert np.allclose(result.detections.data["embedding"], expected, atol=1e-5)
