"""The crop embedder's loss: supervised-contrastive (Khosla et al. 2020) over the products of one photo, with the
pair relations of :mod:`shelfscan.engine.crop_bank` standing in for type labels.

Two views of every crop are embedded. For an anchor view, the positives are its other view and the views of the
crops related SAME to it; the denominator holds the positives and the views related DIFFERENT; LEFT_OUT pairs
and every pair of two different photos are not used. Only products of one shelf are compared, the question the
grouping asks: the network cannot lower the loss by telling photos (lighting, camera) apart.
"""
from __future__ import annotations

import torch

from shelfscan.engine.crop_bank import DIFFERENT, SAME
from shelfscan.errors import expect


def batch_relations(relations: list[torch.Tensor], sizes: list[int]) -> torch.Tensor:
    """One photo-block matrix (B, B) int8 from the per-photo relation blocks of a batch (other photos: LEFT_OUT)."""
    return torch.block_diag(*[r[:n, :n].to(torch.int8) for r, n in zip(relations, sizes)])


def shelf_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, relation: torch.Tensor,
                           temperature: float = 0.1) -> torch.Tensor:
    """Mean loss over anchor views that have at least one DIFFERENT view.

    Args:
        z1, z2: (B, D) L2-normalised embeddings of the two views of B crops.
        relation: (B, B) int8 SAME / DIFFERENT / LEFT_OUT between the crops (block diagonal over photos).
        temperature: softmax temperature of the cosine similarities.

    Returns:
        scalar tensor (0 when no anchor has a DIFFERENT view).
    """
    b = len(z1)
    expect(z2.shape == z1.shape and relation.shape == (b, b), "shelf_contrastive_loss",
           f"z1, z2 (B, D) and relation (B, B) with B = {b}", f"{tuple(z2.shape)} and {tuple(relation.shape)}")
    z = torch.cat([z1, z2])  # (2B, D)
    rel = relation.repeat(2, 2)  # view i and view i + B are the same crop
    eye = torch.eye(2 * b, dtype=torch.bool, device=z.device)
    positive = (rel == SAME) & ~eye
    valid = positive | (rel == DIFFERENT)
    logits = (z @ z.T / temperature).masked_fill(~valid, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, 1, keepdim=True)
    anchors = (rel == DIFFERENT).any(1)
    if not anchors.any():
        return z.sum() * 0.0
    pos = positive[anchors]
    per_anchor = -(log_prob[anchors].masked_fill(~pos, 0.0).sum(1) / pos.sum(1))
    return per_anchor.mean()
