"""annotated.jpg: boxes coloured by type on the untouched photo, and a legend panel beside or below it
(counting/render.py, counting/legend.py)."""
from __future__ import annotations

import numpy as np
import pytest

from shelfscan.counting.gaps import GAP_COLOUR
from shelfscan.counting.legend import legend_layout, row_height
from shelfscan.counting.render import GREY, _type_colour, annotate_types, legend_entries
from shelfscan.counting.shelf_count import make_groups
from shelfscan.detections import Detections


def grid(n_types: int, per_type: list[int], *, height: int, width: int, seed: int = 0):
    """A noisy photo with a grid of 30x40 boxes; box i belongs to type ``labels[i]`` (-1: unassigned)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(len(per_type)), per_type)
    labels[labels >= n_types] = -1
    cols = (width - 4) // 34
    boxes = [[4 + (i % cols) * 34, 4 + (i // cols) * 46, 4 + (i % cols) * 34 + 30, 4 + (i // cols) * 46 + 40]
             for i in range(len(labels))]
    det = Detections(np.array(boxes, np.float32))
    emb = np.eye(len(per_type) + 1, dtype=np.float32)[labels]  # one direction per type
    return image, det, make_groups(det, labels, emb)


def swatch_rows(panel: np.ndarray, x: int, top: int) -> int:
    """Number of separate non-white runs down column ``x`` of the panel, from ``top`` (one per legend line)."""
    ink = (panel[top:, x] < 250).any(1).astype(np.int8)
    return int(((np.diff(np.r_[0, ink]) == 1)).sum())


def test_legend_beside_a_portrait_photo_leaves_the_photo_alone():
    image, det, groups = grid(4, [7, 2, 5, 3, 2], height=400, width=300)  # 4 types + 2 unassigned
    gaps = Detections(np.array([[200, 300, 280, 380]], np.float32))
    out = annotate_types(image, det, groups, gaps=gaps)
    h, w = image.shape[:2]
    assert out.shape[0] >= h and out.shape[1] > w  # the panel is on the right
    photo, panel = out[:h, :w], out[:, w:]
    # outside the box outlines the photo is untouched: no per-box tags, no banner over it
    t = max(1, round(max(h, w) / 600))
    outline = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in np.vstack([det.xyxy, gaps.xyxy]).astype(int).tolist():
        outline[max(0, y1 - t):y2 + t + 1, max(0, x1 - t):x2 + t + 1] = True
        outline[y1 + t + 1:y2 - t, x1 + t + 1:x2 - t] = False  # box interiors must be untouched as well
    x1, y1, x2, y2 = gaps.xyxy[0].astype(int)
    outline[y1:y2 + 1, x1:x2 + 1] = True  # the gap is hatched inside
    assert np.array_equal(photo[~outline], image[~outline])
    for g in groups:  # each box is outlined in its type's legend colour
        x1, y1 = det.xyxy[g.indices[0], :2].astype(int)
        assert tuple(photo[y1, x1 + 5]) == (_type_colour(g.id, 4) if g.id >= 0 else GREY)
    # every type's swatch colour, the grey of the unassigned and the red of the gaps are in the panel
    colours = {tuple(int(v) for v in _type_colour(g.id, 4)) for g in groups if g.id >= 0}
    for c in colours | {GREY, GAP_COLOUR}:
        assert (panel == np.array(c, np.uint8)).all(-1).any(), c
    # one line per type + unassigned + gaps, in one column, largest type first
    entries = legend_entries(image, det, groups, gaps)
    assert [e.text for e in entries] == ["type 0: 7", "type 2: 5", "type 3: 3", "type 1: 2", "unassigned: 2",
                                         "gaps: 1"]
    layout = legend_layout(h, w, entries, "title")
    assert layout.side == "right" and layout.columns == 1
    pad = max(2, layout.row_h // 8)
    assert swatch_rows(panel, pad, layout.title_h) == len(entries)


def test_legend_below_a_landscape_photo():
    image, det, groups = grid(3, [4, 3, 2], height=200, width=500)
    out = annotate_types(image, det, groups)
    assert out.shape[1] >= 500 and out.shape[0] > 200
    assert np.array_equal(out[190:200, 480:500], image[190:200, 480:500])  # a corner with no box
    assert not (out[200:] < 250).all(-1).all()  # something is written below


@pytest.mark.parametrize("height,width", [(900, 700), (500, 900)])
def test_sixty_types_stay_readable(height, width):
    n = 60
    image, det, groups = grid(n, [3] * n, height=height, width=width, seed=1)
    entries = legend_entries(image, det, groups)
    assert len(entries) == n and all(e.count == 3 for e in entries)
    layout = legend_layout(height, width, entries, f"{len(det)} products, {n} types")
    assert layout.columns > 1 and layout.columns * layout.rows >= n
    assert layout.row_h >= 28 and layout.font >= 28 / 42  # letters no smaller than on a small photo
    out = annotate_types(image, det, groups)
    panel = out[:, width:] if layout.side == "right" else out[height:]
    assert panel.shape[:2] == (layout.height, layout.width) or layout.side == "right"
    for g in groups:
        assert (panel == _type_colour(g.id, n)).all(-1).any()
    pad = max(2, layout.row_h // 8)
    assert swatch_rows(panel, pad, layout.title_h) == layout.rows  # the first column is full


def test_font_scales_with_the_photo():
    assert row_height(4000, 3000) > row_height(800, 600) >= 28
    assert legend_entries(np.zeros((300, 200, 3), np.uint8), Detections.empty(), []) == []
    out = annotate_types(np.zeros((300, 200, 3), np.uint8), Detections.empty(), [])
    assert out.shape[1] > 200 and (out[:300, :200] == 0).all()
