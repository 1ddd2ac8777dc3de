"""Supermasks (Zhou, Lan, Liu & Yosinski, "Deconstructing lottery tickets: zeros, signs, and the
supermask", NeurIPS 2019; docs/theory.md §8): a learned Bernoulli mask over frozen weights.

Every weight ``w`` has a score ``s``; the forward pass in training samples ``m ~ Bernoulli(sigmoid(s))``
and uses ``m * w``; the gradient reaches ``s`` through ``sigmoid(s)`` by the straight-through estimator
(``m + p - stop_gradient(p)``), as in the paper. The weights never change. The scores start at
``logit(density)`` plus a small seeded perturbation, so the sampled masks start at the requested density.
Evaluation during training uses the deterministic mask of the ``kept_count`` largest scores per layer. The returned mask keeps,
per layer or pooled, exactly the requested count of largest ``s`` (the package's density semantics); the
learned mask's own expected density (mean ``sigmoid(s)``) is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stronglth import _validate
from stronglth.baselines.edge_popup import kept_count, layer_generator
from stronglth.pruning.masks import _top, check_scope, layer_densities, masks_from_scores, prunable_layers
from stronglth.pruning.popup import replace_layers, strong_result
from stronglth.pruning.result import PruningResult
from stronglth.pruning.training import TrainSettings, train

__all__ = ["BernoulliMask", "supermask"]


SUPERMASK_SETTINGS = TrainSettings(lr=100.0, optimizer="sgd", momentum=0.9, schedule="cosine")
"""SGD with momentum at lr 100, cosine: the mask scores need a large rate (Zhou et al. train masks at lr 100)."""


class BernoulliMask(nn.Module):
    """Wraps a bias-free ``nn.Linear`` or ``nn.Conv2d``: frozen ``weight``, trainable ``scores``."""

    def __init__(self, layer: nn.Linear | nn.Conv2d, density: float, *, seed: int):
        super().__init__()
        w = layer.weight.detach().clone()
        self.conv = isinstance(layer, nn.Conv2d)
        self.stride: Any = layer.stride if isinstance(layer, nn.Conv2d) else 1
        self.padding: Any = layer.padding if isinstance(layer, nn.Conv2d) else 0
        self.weight = nn.Parameter(w, requires_grad=False)
        init = torch.rand(tuple(w.shape), generator=layer_generator(seed, 61), dtype=torch.float64)
        logit = math.log(density / (1 - density)) if density < 1 else 6.0
        self.scores = nn.Parameter((logit + (init * 2 - 1) * 0.1).to(w.dtype).to(w.device))
        self._generator: torch.Generator | None = None
        self._seed = int(seed)
        self.k = kept_count(density, w.numel())

    def _sample(self, p: torch.Tensor) -> torch.Tensor:
        if self._generator is None or self._generator.device != p.device:
            self._generator = torch.Generator(device=p.device).manual_seed(self._seed)
        return (torch.rand(p.shape, generator=self._generator, device=p.device, dtype=p.dtype) < p).to(p.dtype)

    def effective_weight(self) -> torch.Tensor:
        p = torch.sigmoid(self.scores)
        if self.training:
            m = self._sample(p.detach())
            return self.weight * (m + p - p.detach())
        return self.weight * _top(self.scores.detach(), self.k).to(p.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.effective_weight()
        return F.conv2d(x, w, stride=self.stride, padding=self.padding) if self.conv else F.linear(x, w)


def supermask(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "layer",
    settings: TrainSettings = SUPERMASK_SETTINGS,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> PruningResult:
    """Learn a Bernoulli supermask over ``model``'s frozen weights, then keep the ``density`` of largest scores.

    Default training: SGD with momentum 0.9 at lr 100, cosine: the mask scores need a large rate (Zhou et al.
    train masks at lr 100)."""
    seed = _validate.seed(seed)
    scope = check_scope(scope)
    per_layer = layer_densities(density if scope == "layer" else float(density), len(prunable_layers(model)))  # type: ignore[arg-type]
    masked = replace_layers(model, lambda m, i: BernoulliMask(m, per_layer[i], seed=seed * 1000 + i))
    log = train(masked, data, settings, seed=seed, device=device, progress=progress, desc="supermask")
    layers = [m for m in masked.modules() if isinstance(m, BernoulliMask)]
    masks = [m.cpu() for m in masks_from_scores([m.scores.detach() for m in layers], density, scope)]
    with torch.no_grad():
        probs = [torch.sigmoid(m.scores.detach()) for m in layers]
    info = {
        "bernoulli_density": sum(float(p.sum()) for p in probs) / sum(p.numel() for p in probs),
        "threshold_density": sum(int((p > 0.5).sum()) for p in probs) / sum(p.numel() for p in probs),
        **{"search_" + k: v for k, v in log.summary().items()},
    }
    return strong_result("supermask", model, masks, density, scope, **info)
