"""Planted tickets: networks in which a ticket is known to exist (docs/theory.md §8).

Fischer & Burkholz, "Plant 'n' Seek: can you find the winning ticket?", ICLR 2022: write a small target
network into chosen neurons of a larger random *mother* network (:func:`plant_target`); the planted
edges are a subnetwork that computes the target exactly. And the strong-LTH construction's own case:
a :class:`~stronglth.Ticket` inside its random network G (:func:`ticket_model`), whose target is known and
whose sup error is certified. The task is regression of the target on uniform points of the unit ball
(:func:`regression_data`), the squared-error loss of :mod:`~stronglth.pruning.training`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from stronglth import _validate
from stronglth.baselines.approximation import ball_points
from stronglth.baselines.edge_popup import layer_generator
from stronglth.errors import InvalidInputError, ShapeError
from stronglth.pruning.training import SplitData

__all__ = ["bias_free_mlp", "ticket_model", "plant_target", "regression_data", "mask_overlap"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def bias_free_mlp(weights: Sequence[np.ndarray], dtype: str = "float64") -> nn.Sequential:
    """``Linear(W_1), ReLU, ..., Linear(W_L)``, bias-free, with the given ``(out, in)`` matrices."""
    layers: list[nn.Module] = []
    for i, w in enumerate(weights):
        w = np.asarray(w, dtype=np.float64)
        linear = nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=_DTYPES[dtype])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _refuse_beyond_bias_free_relu(negative_slope: float, has_biases: bool, what: str) -> None:
    """The models here are bias-free ReLU MLPs (:func:`bias_free_mlp`): a network with (kept) biases or a
    leaky ReLU would silently become another function, so it is refused."""
    if float(negative_slope) != 0.0:
        raise InvalidInputError(f"{what} has a leaky ReLU (negative_slope={negative_slope!r}); the pruning models are ReLU MLPs")
    if has_biases:
        raise InvalidInputError(f"{what} has biases; the pruning models are bias-free MLPs")


def ticket_model(ticket: Any, *, dtype: str = "float64") -> tuple[nn.Sequential, list[torch.Tensor]]:
    """G as a dense torch MLP (its ``M_t`` as weights) and the ticket's kept positions as masks."""
    from stronglth.ticket import Ticket

    if not isinstance(ticket, Ticket):
        raise InvalidInputError(f"ticket_model expects a Ticket, got {type(ticket).__name__}")
    network = ticket.network
    _refuse_beyond_bias_free_relu(network.negative_slope, ticket.has_biases, "ticket_model: the ticket")
    model = bias_free_mlp([network.dense(t) for t in range(1, network.depth + 1)], dtype)
    masks = []
    for t, (rows, cols) in enumerate(network.shapes, start=1):
        mask = torch.zeros((rows, cols), dtype=torch.bool)
        kept = ticket.kept(t)
        mask[torch.from_numpy(np.array(kept.rows, dtype=np.int64)), torch.from_numpy(np.array(kept.cols, dtype=np.int64))] = True
        masks.append(mask)
    return model, masks


def plant_target(
    target: Any, hidden_widths: Sequence[int], *, seed: int, dtype: str = "float64"
) -> tuple[nn.Sequential, list[torch.Tensor], list[np.ndarray]]:
    """A random bias-free mother MLP ``d - hidden_widths - out`` (Kaiming normal weights, seeded) with
    ``target`` written into randomly chosen hidden neurons: its layer ``l`` at rows ``S_l`` and columns
    ``S_{l-1}`` (``S_0`` = all inputs, ``S_L`` = all outputs). Returns the model, the planted masks (the
    target's nonzero entries at those positions) and the chosen neurons ``S_1 .. S_{L-1}``."""
    seed = _validate.seed(seed)
    _refuse_beyond_bias_free_relu(
        getattr(target, "negative_slope", 0.0), getattr(target, "has_biases", False), "plant_target: the target"
    )
    tw = [np.asarray(w, dtype=np.float64) for w in target.weights]
    hidden = [_validate.positive_int(w, f"hidden_widths[{i}]") for i, w in enumerate(hidden_widths)]
    if len(hidden) != len(tw) - 1:
        raise ShapeError(f"the target has {len(tw) - 1} hidden layers, hidden_widths has {len(hidden)}")
    for i, (h, w) in enumerate(zip(hidden, tw[:-1], strict=True)):
        if h < w.shape[0]:
            raise ShapeError(f"hidden layer {i + 1} of the mother network ({h}) is narrower than the target's ({w.shape[0]})")
    dims = [tw[0].shape[1], *hidden, tw[-1].shape[0]]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 71]))
    chosen = [np.arange(dims[0])] + [
        np.sort(rng.choice(h, size=w.shape[0], replace=False)) for h, w in zip(hidden, tw[:-1], strict=True)
    ]
    chosen.append(np.arange(dims[-1]))
    weights, masks = [], []
    for i in range(len(tw)):
        g = layer_generator(seed, 72, i)
        w = (torch.randn((dims[i + 1], dims[i]), generator=g, dtype=torch.float64) * np.sqrt(2.0 / dims[i])).numpy()
        mask = np.zeros_like(w, dtype=bool)
        rows, cols = chosen[i + 1], chosen[i]
        w[np.ix_(rows, cols)] = tw[i]
        mask[np.ix_(rows, cols)] = tw[i] != 0
        weights.append(w)
        masks.append(torch.from_numpy(mask))
    return bias_free_mlp(weights, dtype), masks, chosen[1:-1]


def regression_data(
    target: Any, *, train: int = 4000, validation: int = 1000, test: int = 1000, seed: int = 0, dtype: str = "float64"
) -> SplitData:
    """``(x, target(x))`` at uniform points of the unit ball of ``R^d`` (seeded), split train / validation / test."""
    sizes = [_validate.positive_int(n, name) for n, name in ((train, "train"), (validation, "validation"), (test, "test"))]
    x = ball_points(sum(sizes), int(target.d), generator=layer_generator(_validate.seed(seed), 81))
    y = torch.from_numpy(np.asarray(target.forward(x.numpy()), dtype=np.float64).reshape(len(x), -1))
    x, y = x.to(_DTYPES[dtype]), y.to(_DTYPES[dtype])
    a, b = sizes[0], sizes[0] + sizes[1]
    return SplitData("ball-regression", x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], 0)


def mask_overlap(found: Sequence[torch.Tensor], planted: Sequence[torch.Tensor]) -> dict[str, float]:
    """Precision (fraction of the found kept weights that are planted) and recall (fraction of the
    planted weights found), pooled over layers, and the recall of each layer."""
    if len(found) != len(planted):
        raise ShapeError(f"{len(found)} found masks for {len(planted)} planted ones")
    hit = sum(int((f.cpu() & p.cpu()).sum()) for f, p in zip(found, planted, strict=True))
    kept = sum(int(f.sum()) for f in found)
    planted_count = sum(int(p.sum()) for p in planted)
    per_layer = [float((f.cpu() & p.cpu()).sum()) / max(1, int(p.sum())) for f, p in zip(found, planted, strict=True)]
    return {
        "precision": hit / kept if kept else 0.0,
        "recall": hit / planted_count if planted_count else 1.0,
        "layer_recall": per_layer,  # type: ignore[dict-item]
    }
