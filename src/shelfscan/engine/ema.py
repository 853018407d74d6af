"""Exponential moving average of model weights, with a decay that ramps up (short runs are not dominated by
their first, untrained iterations)."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn


class ModelEMA:
    """``decay_t = decay · (1 − exp(−t / tau))`` after t updates; buffers (BatchNorm statistics) are copied."""

    def __init__(self, model: nn.Module, decay: float = 0.998, tau: float = 200.0) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        src = model.state_dict()
        for k, v in self.module.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)
            else:
                v.copy_(src[k])

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
