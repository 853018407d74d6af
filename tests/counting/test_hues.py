"""Look-alike flavours (same design, other colours) are cut apart by the hue of their labels."""
import numpy as np
import pytest

from shelfscan.counting.hues import HUE_BINS, hue_histograms, split_by_hue
from shelfscan.errors import InputError
from shelfscan.imageops import hsv_to_rgb


def _crop(hue: int, value: int = 200, saturation: int = 200, size: int = 32) -> np.ndarray:
    hsv = np.zeros((size, size, 3), np.uint8)
    hsv[..., 0], hsv[..., 1], hsv[..., 2] = hue, saturation, value
    return hsv_to_rgb(hsv)


def test_hue_histograms_ignore_brightness_and_greys():
    crops = np.stack([_crop(20, 230), _crop(20, 120), _crop(110), _crop(20, saturation=10)])
    hues, coloured = hue_histograms(crops)
    assert hues.shape == (4, HUE_BINS) and coloured.tolist() == [True, True, True, False]
    assert hues[0] @ hues[1] == pytest.approx(1.0)  # same hue, other light: identical
    assert hues[0] @ hues[2] == pytest.approx(0.0)  # other hue: disjoint
    assert np.allclose(np.linalg.norm(hues[:3], axis=1), 1.0)
    with pytest.raises(InputError, match="uint8"):
        hue_histograms(crops.astype(np.float32))


def test_split_by_hue_cuts_flavours_and_keeps_grey_members():
    # type 0: 4 orange (two lights) + 2 blue + 1 grey; type 1: 3 green; one unassigned box
    crops = np.stack([_crop(15, 230), _crop(15, 160), _crop(15, 230), _crop(15, 120), _crop(110), _crop(110),
                      _crop(0, saturation=0), _crop(60), _crop(60), _crop(60), _crop(110)])
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, -1])
    hues, coloured = hue_histograms(crops)
    out = split_by_hue(labels, hues, coloured)
    # orange (with the grey member, which has no hue) keeps the largest type, blue becomes a type of its own
    assert out.tolist() == [0, 0, 0, 0, 2, 2, 0, 1, 1, 1, -1]
    same = np.array([0, 0, 0, 1, 1, 1, -1])
    assert split_by_hue(same, hues[[0, 1, 3, 7, 8, 9, 10]], coloured[[0, 1, 3, 7, 8, 9, 10]]) is same
    with pytest.raises(InputError, match="threshold"):
        split_by_hue(labels, hues, coloured, threshold=0)
