"""Training augmentation: rectangular crops and 4-photo mosaics keep boxes on the objects they frame."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.augment import mosaic, scale_and_crop
from shelfscan.engine.data import AugmentConfig, ShelfTrainSet
from shelfscan.errors import InputError


def _photo(colour: int, h: int = 300, w: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grey photo with one solid square of ``colour`` (the only object), boxes in xyxy."""
    img = np.full((h, w, 3), 40, np.uint8)
    img[100:160, 60:120] = colour
    return img, np.array([[60, 100, 120, 160]], np.float32), np.array([colour % 7], np.int64)


def test_scale_and_crop_rectangular_window():
    img, boxes, labels = _photo(200)
    rng = np.random.default_rng(0)
    out, b, lab = scale_and_crop(img, boxes, labels, rng, imgsz=300, crop=(150, 90), scale_range=(1.0, 1.0))
    assert out.shape == (90, 150, 3)
    assert (b[:, [0, 2]] <= 150).all() and (b[:, [1, 3]] <= 90).all()


def test_mosaic_boxes_frame_their_squares():
    rng = np.random.default_rng(3)
    samples = [_photo(c) for c in (200, 150, 100, 250)]
    for _ in range(20):
        img, b, lab = mosaic(samples, rng, imgsz=300, crop=256, scale_range=(0.8, 1.2))
        assert img.shape == (256, 256, 3) and img.dtype == np.uint8
        assert len(b) == len(lab) <= 4
        for (x1, y1, x2, y2), c in zip(b.round().astype(int), lab):
            inner = img[y1 + 2:y2 - 2, x1 + 2:x2 - 2]
            # every kept box is filled by one of the coloured squares (its class follows the colour)
            assert inner.size and np.median(inner) in (200, 150, 100, 250)
            assert int(np.median(inner)) % 7 == c
    with pytest.raises(InputError, match="expected 4"):
        mosaic(samples[:3], rng, imgsz=300, crop=256)


def test_train_set_mosaic_mixes_several_photos(tmp_path):
    from shelfscan.annotate import save_rgb
    from shelfscan.data.records import ImageRecord
    from shelfscan.detections import Detections

    records = []
    for k, c in enumerate((200, 150, 100, 250)):
        img, boxes, labels = _photo(c)
        path = tmp_path / f"{k}.png"
        save_rgb(path, img)
        records.append(ImageRecord(path.name, path, img.shape[1], img.shape[0],
                                   Detections(boxes, None, labels, [str(i) for i in range(7)])))
    plain = ShelfTrainSet(records, AugmentConfig(imgsz=300, crop=256, color=False, hflip=0.0))
    mixed = ShelfTrainSet(records, AugmentConfig(imgsz=300, crop=256, color=False, hflip=0.0, mosaic=1.0))
    def squares(sample) -> set[int]:  # colours covering >= 200 pixels, besides background and padding
        values, counts = np.unique(sample[0].numpy()[0], return_counts=True)
        return {int(v) for v, c in zip(values, counts) if c >= 200} - {40, 114}

    # plain samples only hold their own square; mosaics hold squares of other photos too
    assert max(len(squares(plain[i])) for i in range(4)) <= 1
    assert max(len(squares(mixed[i])) for i in range(4)) >= 2
    assert set().union(*(squares(mixed[i]) for i in range(4))) <= {200, 150, 100, 250}
