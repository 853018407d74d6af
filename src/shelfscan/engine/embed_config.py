"""Settings of ``shelfscan train-embedder`` (no torch needed to read them: the command line shows them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbedTrainConfig:
    """The loop's settings (the data are a :class:`CropBank`)."""

    minutes: float = 60.0  # wall-clock budget; the learning rate follows a cosine over it
    photos_per_step: int = 4
    typed_share: float = 0.5  # of a step's photos, this share is drawn from typed photos when the bank mixes both
    crops_per_photo: int = 32
    lr: float = 1e-4
    warmup_steps: int = 20
    temperature: float = 0.1
    frozen_stages: int = 2  # stem + this many leading stages keep their weights
    gem_p: float = 3.0
    save_every_minutes: float = 10.0
    max_steps: int | None = None  # stop after this many steps even if time is left (None: time only)
    seed: int = 0
    init: str | None = None  # lukemelas-layout state_dict to start from (None: the ImageNet weights)
    device: str = "cpu"  # torch device of the network ("cuda", "cuda:1"); the random views are cut on the CPU
