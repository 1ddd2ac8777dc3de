"""Tiny seeded data and models for the pruning tests (no data set loaded, a few milliseconds each)."""

from __future__ import annotations

import torch

from stronglth.baselines.models import mlp
from stronglth.pruning.training import SplitData, TrainSettings


def tiny_data(n: int = 240, d: int = 12, classes: int = 3, seed: int = 0) -> SplitData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n + 120, d, generator=g)
    y = (x @ torch.randn(d, classes, generator=g)).argmax(dim=1)
    return SplitData("tiny", x[:n], y[:n], x[n : n + 60], y[n : n + 60], x[n + 60 :], y[n + 60 :], classes)


def tiny_mlp(seed: int = 0, widths=(16, 8), d: int = 12, classes: int = 3):
    return mlp(d, list(widths), classes, mode="dense", seed=seed)


FAST = TrainSettings(iterations=30, batch_size=40, lr=0.01, eval_every=10)
