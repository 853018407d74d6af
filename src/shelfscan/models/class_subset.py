"""A detector narrowed to some of its classes: the same network with fewer class channels in each level head.

The class branch of :class:`~shelfscan.models.head.LevelHead` ends in a 1x1 convolution with one output channel
per class, each scored by its own sigmoid, and non-maximum suppression runs per class: dropping a class's
channel leaves every other class's logits, boxes and IoU quality unchanged, bit for bit. This is how a model
trained with an extra class (the shelf model's ``gap``) ships for the classes that are good enough.
"""
from __future__ import annotations

import copy
import dataclasses

import torch

from shelfscan.errors import InputError
from shelfscan.models.detector import ShelfDetector


def keep_classes(model: ShelfDetector, names: list[str]) -> ShelfDetector:
    """A copy of ``model`` that predicts only ``names`` (in that order); ``model`` itself is not changed.

    Raises :class:`InputError` when ``names`` is a string instead of a list, is empty, repeats a class, or names
    one the model does not have.
    """
    have = list(model.config.class_names)
    if isinstance(names, str):
        raise InputError(f"keep_classes: expected a list of class names, got the string {names!r} (use [{names!r}])")
    if not names:
        raise InputError(f"keep_classes: expected at least one of the model's classes {have}, got none")
    unknown = [n for n in names if n not in have]
    if unknown:
        raise InputError(f"keep_classes: expected classes of the model {have}, got unknown {unknown}")
    if len(set(names)) != len(names):
        raise InputError(f"keep_classes: expected each class once, got {list(names)}")
    index = torch.tensor([have.index(n) for n in names])
    narrowed = copy.deepcopy(model)
    narrowed.config = dataclasses.replace(model.config, class_names=list(names))
    for head in narrowed.heads:
        old = head.cls_out
        new = torch.nn.Conv2d(old.in_channels, len(names), 1).to(old.weight.device, old.weight.dtype)
        with torch.no_grad():
            new.weight.copy_(old.weight[index])
            new.bias.copy_(old.bias[index])
        head.cls_out = new
    return narrowed


__all__ = ["keep_classes"]
