"""Training samples: real annotated photos (cached in memory) mixed on the fly with synthetic shelves."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from shelfscan.data.records import ImageRecord
from shelfscan.engine.augment import color_jitter, hflip, mosaic, scale_and_crop
from shelfscan.engine.train_config import TrainConfig


@dataclass(frozen=True)
class AugmentConfig:
    """How one training sample is made; the settings a run shares with :class:`TrainConfig` default to its.

    Attributes:
        imgsz: working resolution the photo is scaled around. crop: side of the sample cut at that scale.
        scale_range: scale jitter (log-uniform) around ``imgsz``.
        hflip: probability of a horizontal flip. color: whether colour jitter is applied.
        mosaic: probability that a real photo's sample is a mosaic of it and 3 other real photos.
        mosaic_scale: scale jitter of the mosaic pieces (None: ``scale_range``).
    """

    imgsz: int = TrainConfig.imgsz
    crop: int = TrainConfig.crop
    scale_range: tuple[float, float] = TrainConfig.scale_range
    hflip: float = 0.5
    color: bool = True
    mosaic: float = TrainConfig.mosaic
    mosaic_scale: tuple[float, float] | None = TrainConfig.mosaic_scale


class ShelfTrainSet(TorchDataset):
    """Index i < len(records) is a real photo; the next ``synthetic`` indices are synthetic shelves.

    Each item: (image uint8 tensor (3, crop, crop), boxes float32 (M, 4) xyxy, labels int64 (M,)).
    Synthetic products are all mapped to class 0 (``synthetic_class``) — they teach "a product", not an identity.
    With ``augment.mosaic`` > 0 a real photo's sample is, with that probability, a mosaic of it and three other
    real photos drawn at random (synthetic shelves are never mixed in).
    Randomness comes from (seed, epoch, index), so a run is reproducible; call :meth:`set_epoch` every epoch.

    With ``class_names`` given (pooled datasets that label different classes), each item gets a fourth member,
    a bool (C,) mask of the classes labelled on it (``ImageRecord.labelled``; synthetic shelves label only
    ``synthetic_class``; a mosaic labels the classes all its pieces label), for :class:`DetectionCriterion`.
    """

    def __init__(self, records: list[ImageRecord], augment: AugmentConfig, *, synthetic: int = 0,
                 synthetic_class: int = 0, seed: int = 0, cache: bool = True, synthetic_refresh: int = 3,
                 class_names: list[str] | None = None) -> None:
        self.records = records
        self.class_masks = None
        if class_names is not None:
            names = list(class_names)
            self.class_masks = np.ones((len(records) + synthetic, len(names)), bool)
            for k, r in enumerate(records):
                if r.labelled is not None:
                    self.class_masks[k] = [c in r.labelled for c in names]
            self.class_masks[len(records):] = False
            self.class_masks[len(records):, synthetic_class] = True
        self.augment = augment
        self.synthetic = synthetic
        self.synthetic_class = synthetic_class
        self.seed = seed
        self.epoch = 0
        self._cache: dict[int, np.ndarray] = {}
        self._synth_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.synthetic_refresh = synthetic_refresh
        self.cache = cache

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records) + self.synthetic

    def _image(self, i: int) -> np.ndarray:
        if i in self._cache:
            return self._cache[i]
        from shelfscan.data.images import read_image

        img = read_image(self.records[i].path)
        if self.cache:
            self._cache[i] = img
        return img

    def _sample(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if i < len(self.records):
            r = self.records[i]
            return self._image(i), r.boxes.xyxy, r.boxes.class_id
        # a synthetic shelf is rendered on the fly and reused for `synthetic_refresh` epochs (rendering costs
        # about as much as a training step); its crops and augmentation still change every epoch
        key = (i, self.epoch // self.synthetic_refresh)
        if key not in self._synth_cache:
            from shelfscan.synth import render_shelf

            self._synth_cache = {k: v for k, v in self._synth_cache.items() if k[1] == key[1]}
            srng = np.random.default_rng([self.seed, *key])
            width = int(self.augment.imgsz * srng.uniform(0.8, 1.25))
            image, dets = render_shelf(int(srng.integers(2**31)), width=width)
            self._synth_cache[key] = (image, dets.xyxy, np.full(len(dets), self.synthetic_class, np.int64))
        return self._synth_cache[key]

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        image, boxes, labels = self._sample(i, rng)
        a = self.augment
        n_real = len(self.records)
        mask = None if self.class_masks is None else self.class_masks[i]
        if i < n_real and n_real > 1 and a.mosaic > 0 and rng.random() < a.mosaic:
            others = rng.integers(0, n_real, 3)
            if mask is not None:
                mask = mask & self.class_masks[others].all(0)
            samples = [(image, boxes, labels)] + [self._sample(int(j), rng) for j in others]
            order = rng.permutation(4)  # the drawn photo is not always top-left
            img, b, lab = mosaic([samples[k] for k in order], rng, imgsz=a.imgsz, crop=a.crop,
                                 scale_range=a.mosaic_scale or a.scale_range)
        else:
            img, b, lab = scale_and_crop(image, boxes, labels, rng, imgsz=a.imgsz, crop=a.crop,
                                         scale_range=a.scale_range)
        if rng.random() < a.hflip:
            img, b = hflip(img, b)
        if a.color:
            img = color_jitter(img, rng)
        item = (torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1),
                torch.from_numpy(b.astype(np.float32)).reshape(-1, 4), torch.from_numpy(lab.astype(np.int64)))
        if mask is not None:
            item += (torch.from_numpy(np.array(mask, bool)),)
        return item


def collate(batch):
    """List of items -> images (B, 3, S, S) uint8, list of boxes, list of labels (+ class masks (B, C) bool
    when the items carry them)."""
    if batch and len(batch[0]) == 4:
        images, boxes, labels, masks = zip(*batch)
        return torch.stack(images), list(boxes), list(labels), torch.stack(masks)
    images, boxes, labels = zip(*batch)
    return torch.stack(images), list(boxes), list(labels)
