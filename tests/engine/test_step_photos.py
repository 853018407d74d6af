"""Which photos a crop-embedder step draws: typed photos keep their share among many untyped ones."""
import numpy as np
import pytest

pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.engine.crop_bank import CropBank
from shelfscan.engine.embed_config import EmbedTrainConfig
from shelfscan.engine.train_embedder import step_photos


def _bank(typed):
    n = len(typed)
    return CropBank(np.zeros((2 * n, 8, 8, 3), np.uint8), np.repeat(np.arange(n), 2),
                    [np.ones((2, 2), np.int8)] * n, [f"p{i}" for i in range(n)], list(typed))


def test_a_step_draws_its_typed_share_from_the_few_typed_photos():
    bank = _bank([True] * 2 + [False] * 98)
    rng = np.random.default_rng(0)
    for share, typed_per_step in ((0.5, 2), (0.25, 1), (0.1, 1), (0.0, 0), (1.0, 2)):
        config = EmbedTrainConfig(photos_per_step=4, typed_share=share)
        for _ in range(20):
            photos = step_photos(bank, config, rng)
            assert len(set(photos.tolist())) == 4
            assert (photos < 2).sum() == typed_per_step  # at least one typed unless 0, at most the 2 there are


def test_a_bank_of_one_kind_is_drawn_uniformly():
    rng = np.random.default_rng(0)
    config = EmbedTrainConfig(photos_per_step=3)
    drawn = np.concatenate([step_photos(_bank([False] * 5), config, rng) for _ in range(200)])
    assert set(drawn.tolist()) == set(range(5))
    assert len(step_photos(_bank([True] * 2), config, rng)) == 2  # fewer photos than a step asks for
    assert len(step_photos(_bank([True] * 3 + [False]), EmbedTrainConfig(photos_per_step=4, typed_share=0.25),
                           rng)) == 4  # one untyped photo: the other three places are typed
