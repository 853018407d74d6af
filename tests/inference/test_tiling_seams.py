"""Tiled prediction: a product cut by a tile seam comes out as one box, in the photo's pixels.

The network is a fake whose outputs we control: it "detects" every bright rectangle of its input (one box per
connected blob, as seen: a product cut by the tile's edge gives the box of its visible part), so what is tested
is the Detector's tiling, seam scoring, NMS and fragment removal, not a trained model.
"""
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

from shelfscan.box_ops import box_iou
from shelfscan.inference import Detector
from shelfscan.inference.tiling import seam_boxes, tile_grid


class BlobNet:
    """A runtime object (``.config``, ``.runtime``, ``.run``): one candidate per bright blob of (1, 3, H, W)."""

    runtime = "fake"

    def __init__(self, imgsz: int) -> None:
        self.config = SimpleNamespace(imgsz=imgsz, class_names=["object"], hard_score_rate=0.5)
        self.inputs: list[tuple[int, int]] = []

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self.inputs.append(x.shape[2:])
        bright = (x[0].mean(0) > 200).astype(np.uint8)  # padding (114) and background (0) are not products
        blobs = ndimage.find_objects(ndimage.label(bright)[0])  # 4-connected, in raster order
        boxes = np.array([[x.start, y.start, x.stop, y.stop] for y, x in blobs], np.float32).reshape(-1, 4)
        k = len(boxes)
        return {"boxes": boxes[None], "cls_scores": np.full((1, k, 1), 0.9, np.float32),
                "iou_scores": np.full((1, k), 0.9, np.float32)}


def shelf(products: np.ndarray, size: tuple[int, int] = (256, 256)) -> np.ndarray:
    """Black (H, W, 3) uint8 image with a white rectangle per ``products`` row (x1, y1, x2, y2)."""
    img = np.zeros((size[1], size[0], 3), np.uint8)
    for x1, y1, x2, y2 in products.astype(int):
        img[y1:y2, x1:x2] = 255
    return img


# 256 x 256 in 128-px tiles with 25 % overlap: tiles start at 0, 64 and 128 on each axis (seams at 64-192 inside)
PRODUCTS = np.array([[100, 100, 150, 150],   # cut by every seam around the centre: four tiles see fragments
                     [10, 10, 40, 50],       # inside the first tile only
                     [200, 20, 240, 60],     # cut by the seam at x = 192 (tile 64..192) and seen whole at 128..256
                     [20, 110, 50, 140]], np.float32)  # cut by the seam at y = 128 of the top row


def test_the_setup_really_cuts_products_at_seams():
    tiles = tile_grid(256, 256, 128)
    assert sorted({t.x0 for t in tiles}) == [0, 64, 128] and len(tiles) == 9
    net = BlobNet(256)
    cut = 0
    for t in tiles:  # the fake sees a fragment of the centre product in the tiles whose edge runs through it
        out = net.run(shelf(PRODUCTS)[t.y0:t.y0 + t.height, t.x0:t.x0 + t.width].transpose(2, 0, 1)[None]
                      .astype(np.float32))
        cut += int(seam_boxes(out["boxes"][0], t).sum())
    assert cut >= 4


def test_a_product_cut_by_a_tile_seam_is_one_box():
    net = BlobNet(256)
    det = Detector(net, imgsz=256, conf=0.25, tile=128)
    d = det.predict(shelf(PRODUCTS))
    assert all(shape == (128, 128) for shape in net.inputs) and len(net.inputs) == 9  # it really ran tiled
    assert len(d) == len(PRODUCTS)  # no fragment left beside a whole box
    iou = box_iou(d.xyxy, PRODUCTS)
    assert np.all(iou.max(1) > 0.95) and sorted(iou.argmax(1).tolist()) == [0, 1, 2, 3]  # one box per product


def test_tiled_and_whole_image_runs_agree():
    whole = Detector(BlobNet(256), imgsz=256, conf=0.25).predict(shelf(PRODUCTS))
    tiled = Detector(BlobNet(256), imgsz=256, conf=0.25, tile=128).predict(shelf(PRODUCTS))
    assert len(whole) == len(tiled) == len(PRODUCTS)
    np.testing.assert_allclose(np.sort(tiled.xyxy, 0), np.sort(whole.xyxy, 0), atol=0.5)


@pytest.mark.parametrize("gap", [4, 12])
def test_neighbours_on_either_side_of_a_seam_stay_two_boxes(gap):
    """Two products close together across the seam at x = 128 are not merged into one."""
    left, right = [90, 30, 128 - gap // 2, 90], [128 + gap // 2, 30, 170, 90]
    products = np.array([left, right], np.float32)
    d = Detector(BlobNet(256), imgsz=256, conf=0.25, tile=128).predict(shelf(products, (256, 128)))
    assert len(d) == 2
    assert np.all(box_iou(d.xyxy, products).max(1) > 0.95)
