"""Masks over a torch model's prunable weights: which layers, how many weights each keeps, top-k by score.

The density semantics are edge-popup's (:func:`stronglth.baselines.edge_popup.kept_count`, docs/theory.md §8):
a layer of ``n`` weights at density ``d`` keeps ``n - floor((1 - d) n + 1e-9)`` weights, exactly, ties
included. ``scope="layer"`` applies that count to every layer (one density for all, or one per layer);
``scope="global"`` applies it once to all the weights pooled, so layers may end up at different
densities, and a layer may keep nothing (*layer collapse*, Tanaka et al. 2020; :func:`collapsed_layers`).

A mask is a ``bool`` tensor shaped like its layer's ``weight``; a model's masks are a list, one per
:func:`prunable_layers` entry, in module order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from stronglth.baselines.edge_popup import check_density, kept_count, layer_generator
from stronglth.errors import InvalidInputError, ShapeError

__all__ = [
    "SCOPES",
    "prunable_layers",
    "layer_sizes",
    "layer_densities",
    "masks_from_scores",
    "full_masks",
    "apply_masks",
    "check_masks",
    "mask_density",
    "masks_density",
    "layer_mask_densities",
    "collapsed_layers",
    "hamming_distance",
    "random_masks",
    "random_masks_like",
]

SCOPES = ("layer", "global")


def prunable_layers(model: nn.Module) -> list[nn.Linear | nn.Conv2d]:
    """The ``nn.Linear`` and ``nn.Conv2d`` modules of ``model`` in module order (their ``weight`` is pruned,
    biases never, as in Frankle & Carbin 2019)."""
    layers = [m for m in model.modules() if type(m) in (nn.Linear, nn.Conv2d)]  # not subclasses (supermask layers)
    if not layers:
        raise InvalidInputError(f"{type(model).__name__} has no nn.Linear or nn.Conv2d layer to prune")
    return cast(list[nn.Linear | nn.Conv2d], layers)


def layer_sizes(model: nn.Module) -> list[int]:
    return [int(m.weight.numel()) for m in prunable_layers(model)]


def check_scope(scope: Any) -> str:
    if scope not in SCOPES:
        raise InvalidInputError(f"scope must be one of {SCOPES} (per-layer or global ranking), got {scope!r}")
    return str(scope)


def layer_densities(density: float | Sequence[float], count: int) -> list[float]:
    """One density per layer: a number for all, or a sequence of ``count`` numbers, each in (0, 1]."""
    if isinstance(density, (Sequence, np.ndarray)) and not isinstance(density, str):
        if len(density) != count:
            raise InvalidInputError(f"density has {len(density)} entries, the model has {count} prunable layers")
        return [check_density(x, f"density of layer {i}") for i, x in enumerate(density)]
    return [check_density(density)] * count


def masks_from_scores(
    scores: Sequence[torch.Tensor],
    density: float | Sequence[float],
    scope: str = "layer",
    *,
    separate: Mapping[int, float] | None = None,
    previous: Sequence[torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """Keep the weights of largest score: per layer, or pooled (``scope="global"``, one density).

    ``separate`` maps a layer index to its own density: that layer is ranked alone (IMP's output layer,
    pruned at half the rate). ``previous``: masks to refine; a weight they pruned is never kept again
    (its score is ``-inf``), and a requested count larger than the weights still kept is refused.
    """
    scope, separate = check_scope(scope), dict(separate or {})
    scores = [s.detach().to(torch.float64) for s in scores]
    if previous is not None:
        check_masks(previous, [tuple(s.shape) for s in scores])
        scores = [s.masked_fill(~p.to(s.device), -torch.inf) for s, p in zip(scores, previous, strict=True)]
    for index in separate:
        if not 0 <= index < len(scores):
            raise InvalidInputError(f"separate layer {index} is not among the {len(scores)} prunable layers")
    masks: list[torch.Tensor | None] = [None] * len(scores)
    rest = [i for i in range(len(scores)) if i not in separate]
    for i, d in separate.items():
        masks[i] = _top(scores[i], kept_count(d, scores[i].numel()))
    if scope == "layer":
        for i, d in zip(rest, _pick(layer_densities(density, len(scores)), rest), strict=True):
            masks[i] = _top(scores[i], kept_count(d, scores[i].numel()))
    elif rest:
        if isinstance(density, (Sequence, np.ndarray)) and not isinstance(density, str):
            raise InvalidInputError("scope='global' takes one density (the fraction of all weights kept), not one per layer")
        pooled = torch.cat([scores[i].reshape(-1).cpu() for i in rest])
        kept = _top(pooled, kept_count(check_density(density), pooled.numel()))
        start = 0
        for i in rest:
            n = scores[i].numel()
            masks[i] = kept[start : start + n].view(scores[i].shape).to(scores[i].device)
            start += n
    out = [m for m in masks if m is not None]
    if previous is not None:
        for i, (m, p) in enumerate(zip(out, previous, strict=True)):
            if bool((m & ~p.to(m.device)).any()):
                raise InvalidInputError(f"layer {i}: asked to keep more weights than the previous mask kept")
    return out


def _pick(values: list[float], index: list[int]) -> list[float]:
    return [values[i] for i in index]


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Exactly ``k`` entries of largest score (ties broken by :func:`torch.topk`, deterministically)."""
    flat = scores.reshape(-1)
    mask = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    if k >= flat.numel():
        mask.fill_(True)
    elif k > 0:
        mask[torch.topk(flat, k, sorted=False).indices] = True
    return mask.view(scores.shape)


def full_masks(model: nn.Module) -> list[torch.Tensor]:
    """All-ones masks (nothing pruned)."""
    return [torch.ones_like(m.weight, dtype=torch.bool) for m in prunable_layers(model)]


def check_masks(masks: Sequence[torch.Tensor], shapes: Sequence[tuple[int, ...]]) -> list[torch.Tensor]:
    """``masks`` as bool tensors, one per shape, each of that shape."""
    if len(masks) != len(shapes):
        raise ShapeError(f"got {len(masks)} masks for {len(shapes)} prunable layers")
    out = []
    for i, (m, shape) in enumerate(zip(masks, shapes, strict=True)):
        m = torch.as_tensor(m)
        if tuple(m.shape) != tuple(shape):
            raise ShapeError(f"mask {i} has shape {tuple(m.shape)}, its layer's weight is {tuple(shape)}")
        out.append(m.to(torch.bool))
    return out


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Sequence[torch.Tensor]) -> nn.Module:
    """Zero the pruned weights of ``model`` in place (``weight *= mask``); returns ``model``."""
    layers = prunable_layers(model)
    masks = check_masks(masks, [tuple(m.weight.shape) for m in layers])
    for layer, mask in zip(layers, masks, strict=True):
        layer.weight.mul_(mask.to(device=layer.weight.device, dtype=layer.weight.dtype))
    return model


def mask_density(mask: torch.Tensor) -> float:
    return float(mask.sum()) / mask.numel()


def masks_density(masks: Sequence[torch.Tensor]) -> float:
    """Fraction of all the masks' entries kept."""
    return sum(int(m.sum()) for m in masks) / sum(m.numel() for m in masks)


def layer_mask_densities(masks: Sequence[torch.Tensor]) -> list[float]:
    return [mask_density(m) for m in masks]


def collapsed_layers(masks: Sequence[torch.Tensor]) -> list[int]:
    """Indices of the layers that keep no weight (the network then computes a constant: layer collapse)."""
    return [i for i, m in enumerate(masks) if not bool(m.any())]


def hamming_distance(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """Normalised Hamming distance of two masks of one model: the fraction of entries that differ
    (You et al. 2020's mask distance, on weights instead of channels)."""
    check_masks(b, [tuple(m.shape) for m in a])
    differ = sum(int((x.cpu() != y.cpu()).sum()) for x, y in zip(a, b, strict=True))
    return differ / sum(m.numel() for m in a)


def random_masks(
    shapes: Sequence[tuple[int, ...]], density: float | Sequence[float], scope: str = "layer", *, seed: int
) -> list[torch.Tensor]:
    """Masks keeping uniformly random positions at ``density`` (per layer or pooled), seeded."""
    scores = [torch.rand(tuple(s), generator=layer_generator(seed, 31, i), dtype=torch.float64) for i, s in enumerate(shapes)]
    return masks_from_scores(scores, density, scope)


def random_masks_like(masks: Sequence[torch.Tensor], *, seed: int) -> list[torch.Tensor]:
    """Random masks with exactly the same number of kept weights in each layer as ``masks``
    (Frankle & Carbin's random-sparsity control)."""
    out = []
    for i, m in enumerate(masks):
        scores = torch.rand(tuple(m.shape), generator=layer_generator(seed, 32, i), dtype=torch.float64)
        out.append(_top(scores, int(m.sum())).to(m.device))
    return out
