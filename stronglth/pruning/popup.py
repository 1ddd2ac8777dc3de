"""Edge-popup (Ramanujan et al., CVPR 2020; docs/theory.md §8) under the finders' interface.

:func:`edge_popup` puts the model's own weights, frozen, under :class:`~stronglth.baselines.edge_popup.SupermaskLinear`
and :class:`~stronglth.baselines.edge_popup.SupermaskConv2d` layers (the top-k of ``|score|`` per layer, a
straight-through gradient), trains the scores with :func:`~stronglth.pruning.training.train`, and returns the
final masks over the unchanged weights: a *strong* ticket, used without training its weights.
Edge-popup ranks within each layer, so ``scope`` is ``"layer"`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
from torch import nn

from stronglth import _validate
from stronglth.baselines.edge_popup import SupermaskConv2d, SupermaskLinear, supermask_layers
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import layer_densities, prunable_layers
from stronglth.pruning.result import PruningResult
from stronglth.pruning.training import TrainSettings, copy_model, train

__all__ = ["replace_layers", "edge_popup"]


EDGE_POPUP_SETTINGS = TrainSettings(lr=0.1, optimizer="sgd", schedule="cosine", weight_decay=5e-4)
"""Ramanujan et al.'s training of the scores: SGD, lr 0.1, momentum 0.9, weight decay 5e-4, cosine."""


def _square(value: Any, what: str) -> int:
    values = value if isinstance(value, tuple) else (value,)
    if len(set(values)) != 1 or not isinstance(values[0], int):
        raise InvalidInputError(f"only square {what}s are supported, got {value!r}")
    return int(values[0])


def replace_layers(model: nn.Module, make: Callable[[nn.Linear | nn.Conv2d, int], nn.Module]) -> nn.Module:
    """A copy of ``model`` with its ``i``-th prunable layer ``m`` replaced by ``make(m, i)`` (biases refused)."""
    out = copy_model(model)
    targets = {id(m): i for i, m in enumerate(prunable_layers(out))}
    for parent in list(out.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in targets:
                if getattr(child, "bias", None) is not None:
                    raise InvalidInputError(f"layer {name} has a bias: the supermask finders take bias-free models")
                setattr(parent, name, make(cast(nn.Linear | nn.Conv2d, child), targets[id(child)]))
    return out


def _supermask(layer: nn.Linear | nn.Conv2d, density: float, seed: int) -> nn.Module:
    w = layer.weight.detach()
    if isinstance(layer, nn.Linear):
        return SupermaskLinear(
            layer.in_features, layer.out_features, density, weight=w, seed=seed, dtype=w.dtype, device=w.device
        )
    assert isinstance(layer, nn.Conv2d)
    if _square(layer.dilation, "dilation") != 1 or layer.groups != 1:
        raise InvalidInputError("edge-popup supports plain convolutions (dilation 1, one group)")
    return SupermaskConv2d(
        layer.in_channels,
        layer.out_channels,
        _square(layer.kernel_size, "kernel"),
        density,
        weight=w,
        stride=_square(layer.stride, "stride"),
        padding=_square(layer.padding, "padding"),
        seed=seed,
        dtype=w.dtype,
        device=w.device,
    )


def strong_result(
    method: str, model: nn.Module, masks: list[torch.Tensor], density: Any, scope: str, **info: Any
) -> PruningResult:
    """The original weights, unchanged, masked: the strong ticket a mask-learning finder found."""
    ticket = copy_model(model)
    with torch.no_grad():
        for layer, m in zip(prunable_layers(ticket), masks, strict=True):
            layer.weight.mul_(m.to(layer.weight.device, layer.weight.dtype))
    return PruningResult(method, masks, ticket, density, scope, info={"strong": True, **info})


def edge_popup(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "layer",
    settings: TrainSettings = EDGE_POPUP_SETTINGS,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> PruningResult:
    """Edge-popup over ``model``'s weights, frozen, at ``density`` per layer (one for all or one per layer);
    the default training is the paper's (SGD, lr 0.1, momentum 0.9, weight decay 5e-4, cosine)."""
    seed = _validate.seed(seed)
    if scope != "layer":
        raise InvalidInputError("edge-popup keeps the top-k scores within each layer (Ramanujan et al.): scope must be 'layer'")
    densities = layer_densities(density, len(prunable_layers(model)))
    popup = replace_layers(model, lambda m, i: _supermask(m, densities[i], int(seed) * 1000 + i))
    log = train(popup, data, settings, seed=seed, device=device, progress=progress, desc="edge-popup")
    masks = [m.mask().detach().to(torch.bool).cpu() for m in supermask_layers(popup)]
    return strong_result("edge-popup", model, masks, density, "layer", **{"search_" + k: v for k, v in log.summary().items()})
