import numpy as np

from shelfscan import Detections
from shelfscan.annotate import draw_boxes, draw_count, palette


def test_draw_boxes_changes_only_box_pixels_and_keeps_input():
    img = np.zeros((60, 80, 3), np.uint8)
    d = Detections([[10, 10, 30, 40]])
    out = draw_boxes(img, d, thickness=1)
    assert img.sum() == 0
    assert out[10, 10:31].any() and not out[20, 20].any() and not out[50, 70].any()


def test_colours_follow_groups_and_empty_is_fine():
    img = np.zeros((40, 40, 3), np.uint8)
    assert (draw_boxes(img, Detections.empty()) == 0).all()
    d = Detections([[2, 2, 10, 10], [20, 20, 30, 30]])
    out = draw_boxes(img, d, color_by=[0, 1], thickness=1)
    assert tuple(out[2, 5]) != tuple(out[20, 25])
    assert len({tuple(c) for c in palette(12)}) == 12
    assert draw_count(img, "3 products")[:30].any()
