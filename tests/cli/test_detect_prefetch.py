"""`shelfscan detect FOLDER` decodes the next photo while the detector runs on this one: results and problems
keep the order of the photos, each result belongs to its own photo, and a broken file costs only itself."""
from __future__ import annotations

import threading
import time

import numpy as np
from PIL import Image

import shelfscan.data.images
import shelfscan.inference
from shelfscan.cli import main
from shelfscan.cli.detect import decode_ahead
from shelfscan.data.predictions import read_predictions_csv
from shelfscan.detections import Detections
from shelfscan.errors import InputError


class WidthDetector:
    """Answers ``width // 10`` boxes for a photo ``width`` pixels wide, so each answer names its photo."""

    calls: list[int] = []

    def __init__(self, *args, **kwargs):
        self.class_names, self.noun = ["object"], "products"

    def predict(self, image: np.ndarray) -> Detections:
        time.sleep(0.02)
        n = image.shape[1] // 10
        WidthDetector.calls.append(image.shape[1])
        return Detections(xyxy=np.tile(np.array([[0, 0, 5, 5]], np.float32), (n, 1)), scores=np.ones(n, np.float32),
                          class_names=self.class_names)


def test_folder_keeps_order_and_reports_every_broken_photo(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "photos"
    (folder / "b").mkdir(parents=True)
    widths = {"a01.jpg": 40, "a02.png": 50, "b/c03.jpg": 60, "d04.jpg": 70, "e05.png": 80, "f06.jpg": 90}
    for name, w in widths.items():
        Image.fromarray(np.full((30, w, 3), 128, np.uint8)).save(folder / name)
    (folder / "a02.png").write_bytes((folder / "a02.png").read_bytes()[:40])  # truncated
    (folder / "d04.jpg").write_text("not a photo")
    WidthDetector.calls = []
    monkeypatch.setattr(shelfscan.inference, "Detector", WidthDetector)

    out = tmp_path / "p.csv"
    rc = main(["detect", str(folder), str(tmp_path / "missing.jpg"), "--out", str(out)])
    assert rc == 1
    preds = read_predictions_csv(out)
    assert {k: len(v) for k, v in preds.items()} == {"a01.jpg": 4, "b/c03.jpg": 6, "e05.png": 8, "f06.jpg": 9}
    assert WidthDetector.calls == [40, 60, 80, 90]  # photo order, each photo once
    stdout, stderr = capsys.readouterr()
    assert [line.split(":")[0] for line in stdout.splitlines()[:4]] == ["a01.jpg", "b/c03.jpg", "e05.png", "f06.jpg"]
    skipped = [line for line in stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 3
    assert "missing.jpg" in skipped[0] and "no such path" in skipped[0]  # found while listing the sources
    assert "a02.png" in skipped[1] and "d04.jpg" in skipped[2]  # then the photos, in their order
    assert "3 of 7 inputs failed" in stderr


def test_decoding_runs_ahead_on_another_thread(tmp_path, monkeypatch):
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full((8, 10 + i, 3), 0, np.uint8)).save(paths[-1])
    seen = []
    real = shelfscan.data.images.read_image

    def slow_read(path):
        seen.append((path.name, threading.current_thread().name))
        if path.name == "2.png":
            raise InputError(f"{path}: expected a decodable image, got a test failure")
        time.sleep(0.05)
        return real(path)

    monkeypatch.setattr(shelfscan.data.images, "read_image", slow_read)
    got = []
    for name, image in decode_ahead([(p, p.name) for p in paths]):
        if name == "0.png":  # while photo 0 is "detected", photo 1 is being decoded
            deadline = time.monotonic() + 5
            while len(seen) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert [s[0] for s in seen] == ["0.png", "1.png"]
        got.append((name, image if isinstance(image, InputError) else image.shape[1]))
    assert [g[0] for g in got] == ["0.png", "1.png", "2.png", "3.png"]
    assert [g[1] for g in got if not isinstance(g[1], InputError)] == [10, 11, 13]
    assert isinstance(got[2][1], InputError) and "test failure" in str(got[2][1])
    assert len(seen) == 4 and all(thread.startswith("shelfscan-decode") for _, thread in seen)
