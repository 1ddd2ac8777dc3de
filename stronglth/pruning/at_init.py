"""Pruning at initialisation: SynFlow, SNIP, magnitude, random (docs/theory.md §8).

- SynFlow (Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively
  conserving synaptic flow", NeurIPS 2020): with every weight replaced by ``|w|`` and the all-ones input,
  ``R = 1^T f(1)``; the score of ``w`` is ``|dR/dw * w|``. Data-free, iterative: ``iterations`` rounds at
  densities ``d^(j/n)``, re-scoring the masked network each time. ``R`` is linear in each layer's weights
  when nothing between them is affine (no bias, no batch norm), so each layer's scores sum to ``R``: the
  conservation law of the paper's Theorem 2 (:func:`synflow_scores`; the tests check it). Scored in float64.
- SNIP (Lee, Ajanthan & Torr, ICLR 2019): ``|dL/dw * w|`` on a seeded batch of training data, one shot.
- Magnitude at initialisation: ``|w|``; random: uniform scores, seeded.

Every finder ranks per layer or globally (``scope``); the weights stay the initial ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stronglth import _validate
from stronglth.baselines.classification import resolve_device
from stronglth.baselines.edge_popup import check_density, layer_generator
from stronglth.pruning.masks import check_scope, masks_from_scores, prunable_layers, random_masks
from stronglth.pruning.result import PruningResult
from stronglth.pruning.training import copy_model

__all__ = ["synflow_scores", "synflow", "snip", "magnitude", "random_pruning"]


def _masked_copy(model: nn.Module, masks: Sequence[torch.Tensor] | None, device: torch.device) -> nn.Module:
    out = copy_model(model).to(device)
    if masks is not None:
        with torch.no_grad():
            for layer, m in zip(prunable_layers(out), masks, strict=True):
                layer.weight.mul_(m.to(device, layer.weight.dtype))
    return out


def synflow_scores(
    model: nn.Module,
    input_shape: Sequence[int],
    masks: Sequence[torch.Tensor] | None = None,
    *,
    device: str | torch.device = "cpu",
) -> list[torch.Tensor]:
    """SynFlow's scores ``|dR/dw * w|`` of the (masked) ``model`` in float64, with ``|w|`` for every
    parameter, biases included, and the model in eval mode (batch norm with its running statistics)."""
    device = resolve_device(device)
    net = _masked_copy(model, masks, device).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    for p in net.parameters():
        p.requires_grad_(True)
    x = torch.ones((1, *[int(s) for s in input_shape]), dtype=torch.float64, device=device)
    net.zero_grad()
    torch.sum(net(x)).backward()
    out = []
    for layer in prunable_layers(net):
        grad = layer.weight.grad if layer.weight.grad is not None else torch.zeros_like(layer.weight)
        out.append((grad * layer.weight).detach().abs())
    return out


def _result(method: str, model: nn.Module, masks: list[torch.Tensor], density: Any, scope: str, **info: Any) -> PruningResult:
    ticket = _masked_copy(model, masks, next(model.parameters()).device)
    return PruningResult(method, [m.cpu() for m in masks], ticket, density, scope, info=info)


def _input_shape(data: Any, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    if input_shape is not None:
        return tuple(int(s) for s in input_shape)
    return tuple(data.x_train.shape[1:])


def synflow(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int = 0,
    scope: str = "global",
    iterations: int = 100,
    input_shape: Sequence[int] | None = None,
    device: str | torch.device = "auto",
) -> PruningResult:
    """Iterative SynFlow to ``density`` (the paper prunes globally, 100 iterations, exponential schedule).
    Only the input shape is read from ``data`` (``data=None`` with ``input_shape`` works); ``seed`` is unused."""
    _validate.seed(seed)
    scope = check_scope(scope)
    iterations = _validate.positive_int(iterations, "iterations")
    dens = [check_density(d) for d in density] if isinstance(density, Sequence) else check_density(density)
    shape = _input_shape(data, input_shape)
    dev = resolve_device(device)
    masks = None
    for j in range(1, iterations + 1):
        scores = synflow_scores(model, shape, masks, device=dev)
        target = [d ** (j / iterations) for d in dens] if isinstance(dens, list) else dens ** (j / iterations)
        masks = masks_from_scores(scores, target, scope, previous=masks)
    assert masks is not None
    return _result("synflow", model, masks, density, scope, iterations=iterations)


def snip(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "global",
    batch_size: int = 100,
    device: str | torch.device = "auto",
) -> PruningResult:
    """SNIP's connection sensitivity ``|dL/dw * w|`` on one seeded batch of ``batch_size`` training examples."""
    scope = check_scope(scope)
    dev = resolve_device(device)
    net = _masked_copy(model, None, dev).train()
    n = len(data.y_train)
    index = torch.randperm(n, generator=layer_generator(_validate.seed(seed), 51))[
        : _validate.positive_int(batch_size, "batch_size")
    ]
    dtype = next(net.parameters()).dtype
    x, y = data.x_train[index].to(dev, dtype), data.y_train[index].to(dev)
    out = net(x)
    loss = F.cross_entropy(out, y) if not torch.is_floating_point(y) else (out - y.to(out.dtype)).pow(2).sum(dim=1).mean()
    layers = prunable_layers(net)
    grads = torch.autograd.grad(loss, [m.weight for m in layers], allow_unused=True)
    scores = [
        (g if g is not None else torch.zeros_like(m.weight)).mul(m.weight).abs() for g, m in zip(grads, layers, strict=True)
    ]
    masks = masks_from_scores(scores, density, scope)
    return _result("snip", model, masks, density, scope, batch_size=len(index))


def magnitude(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int = 0,
    scope: str = "layer",
    device: str | torch.device = "auto",
) -> PruningResult:
    """Keep the weights of largest ``|w|`` at initialisation (``data`` and ``seed`` unused)."""
    _validate.seed(seed)
    scope = check_scope(scope)
    masks = masks_from_scores([m.weight.detach().abs() for m in prunable_layers(model)], density, scope)
    return _result("magnitude", model, masks, density, scope)


def random_pruning(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "layer",
    device: str | torch.device = "auto",
) -> PruningResult:
    """Keep uniformly random weights at ``density`` (per layer or pooled), seeded (``data`` unused)."""
    scope = check_scope(scope)
    layers = prunable_layers(model)
    masks = random_masks([tuple(m.weight.shape) for m in layers], density, scope, seed=_validate.seed(seed))
    return _result("random", model, [m.to(layers[0].weight.device) for m in masks], density, scope)
