"""Iterative magnitude pruning and its variants and controls (docs/theory.md §8).

- Frankle & Carbin, "The lottery ticket hypothesis", ICLR 2019: train, prune the ``rate`` of the
  remaining weights of smallest magnitude in each layer (the output layer at half the rate), reset the
  rest to their initial values, repeat (:func:`imp`; ``one_shot=True`` prunes to the target at once);
  controls: the ticket's mask on a random re-initialisation (:func:`reinitialise`) and a random mask of the
  same per-layer counts (:func:`~stronglth.pruning.masks.random_masks_like`).
- Frankle, Dziugaite, Roy & Carbin, "Linear mode connectivity and the lottery ticket hypothesis", ICML
  2020: rewind to the weights of iteration ``k`` instead of 0 (``reset="rewind"``) and resume the schedule there.
- Renda, Frankle & Carbin, "Comparing rewinding and fine-tuning in neural network pruning", ICLR 2020:
  keep the trained weights and rewind only the learning-rate schedule (``reset="lr-rewind"``).

The schedule: with ``density = d`` the hidden layers reach ``d`` in ``R = ceil(log d / log(1 - rate))``
rounds, at density ``d^(j/R)`` after round ``j``: exactly ``1 - rate`` of the remaining weights per round
when ``d = (1 - rate)^R`` (the paper's 51.3, 21.1, 7.0, 3.6, 1.9% of LeNet-300-100 are rounds 3, 7, 12,
15, 18 at 20%), a little less otherwise, so that the last round lands on ``d``. The output layer follows
``d_out^(j/R)`` with ``d_out = d^(log(1 - output_rate) / log(1 - rate))``: the same number of rounds at
``output_rate`` (``"half"``: ``rate / 2``). Every count is :func:`~stronglth.baselines.edge_popup.kept_count`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from stronglth import _validate
from stronglth.baselines.edge_popup import check_density, layer_generator
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import (
    check_scope,
    full_masks,
    layer_densities,
    layer_mask_densities,
    masks_density,
    masks_from_scores,
    prunable_layers,
)
from stronglth.pruning.result import PruningResult
from stronglth.pruning.training import DEFAULT_SETTINGS, TrainSettings, copy_model, snapshot, train

__all__ = ["RESETS", "imp_schedule", "imp", "reinitialise"]

RESETS = ("init", "rewind", "lr-rewind")


def _output_rate(rate: float, output_rate: float | str | None) -> float:
    if output_rate is None:
        return rate
    if output_rate == "half":
        return rate / 2
    value = _validate.real_number(output_rate, "output_rate")
    if not 0 < value < 1:
        raise InvalidInputError(f"output_rate must be in (0, 1), 'half' or None, got {output_rate!r}")
    return value


def imp_schedule(
    density: float | Sequence[float],
    layers: int,
    *,
    rate: float = 0.2,
    output_rate: float | str | None = "half",
    one_shot: bool = False,
) -> list[list[float]]:
    """Per-layer target densities after each round (rounds ``1 .. R``; empty when ``density`` is 1).

    A float ``density`` is the hidden layers' (and, with ``scope="global"``, their pooled) target; the last
    layer gets the output rate's. A sequence gives every layer's final density, reached in the rounds the
    smallest needs at ``rate``."""
    rate = _validate.real_number(rate, "rate")
    if not 0 < rate < 1:
        raise InvalidInputError(f"rate (fraction of the remaining weights pruned per round) must be in (0, 1), got {rate}")
    if isinstance(density, (Sequence, np.ndarray)) and not isinstance(density, str):
        final = layer_densities(density, layers)
    else:
        d = check_density(density)
        exponent = math.log(1 - _output_rate(rate, output_rate)) / math.log(1 - rate)
        final = [d] * (layers - 1) + [d**exponent] if layers > 1 else [d]
    smallest = min(final)
    if smallest >= 1.0:
        return []
    rounds = 1 if one_shot else max(1, math.ceil(math.log(smallest) / math.log(1 - rate) - 1e-9))
    return [[f ** (j / rounds) for f in final] for j in range(1, rounds + 1)]


def reinitialise(model: nn.Module, *, seed: int) -> nn.Module:
    """A copy of ``model`` with every prunable weight redrawn from Kaiming's normal N(0, 2 / fan_in)
    (the initialisation of :func:`stronglth.baselines.models.mlp` and ``conv_net``), seeded; biases zero."""
    out = copy_model(model)
    with torch.no_grad():
        for i, layer in enumerate(prunable_layers(out)):
            w = layer.weight
            fan_in = w[0].numel()
            draw = torch.randn(tuple(w.shape), generator=layer_generator(seed, 41, i), dtype=torch.float64)
            w.copy_((draw * math.sqrt(2.0 / fan_in)).to(w.dtype))
            if layer.bias is not None:
                layer.bias.zero_()
    return out


def imp(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "layer",
    rate: float = 0.2,
    output_rate: float | str | None = "half",
    one_shot: bool = False,
    reset: str = "init",
    rewind_iteration: int = 0,
    settings: TrainSettings = DEFAULT_SETTINGS,
    train_final: bool = True,
    trained_dense: nn.Module | None = None,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> PruningResult:
    """Iterative (or one-shot) magnitude pruning of ``model`` on ``data`` down to ``density``.

    Round 0 trains the dense network; each round then prunes by the magnitude of the trained weights (the
    weights already pruned stay pruned), resets (``reset``: to the initial weights, to the iterate of step
    ``rewind_iteration`` with the schedule resumed there, or not at all with the schedule restarted) and
    retrains; ``train_final=False`` skips the training of the final ticket. ``model`` is not changed.
    ``trained_dense``: ``model`` already trained with ``settings`` and ``seed`` (round 0 is then skipped,
    and its history entry is empty; not with ``reset="rewind"``, which needs the iterate of that run).

    Returns the ticket (``result.model``: masked weights at the reset point), ``result.trained`` (the last
    trained network), one ``history`` entry per training (round 0 = dense) with Frankle & Carbin's
    early-stopping iteration and accuracies, and the masks of every round (``round_masks``).
    """
    seed = _validate.seed(seed)
    scope = check_scope(scope)
    _validate.choice(reset, "reset", RESETS)
    layers = prunable_layers(model)
    if scope == "global" and isinstance(density, (Sequence, np.ndarray)):
        raise InvalidInputError("scope='global' takes one density (the pooled fraction kept), not one per layer")
    schedule = imp_schedule(density, len(layers), rate=rate, output_rate=output_rate, one_shot=one_shot)
    k = _validate.non_negative_int(rewind_iteration, "rewind_iteration")
    if reset == "rewind" and k > settings.iterations:
        raise InvalidInputError(f"rewind_iteration {k} is past the end of training ({settings.iterations} iterations)")
    start = k if reset == "rewind" else 0
    dense = copy_model(model)
    init_state = snapshot(dense)
    history = [{"round": 0, "density": 1.0, "layer_densities": [1.0] * len(layers)}]
    if trained_dense is None:
        log = train(
            dense,
            data,
            settings,
            seed=seed,
            store_iterates=(k,) if reset == "rewind" else (),
            device=device,
            progress=progress,
            desc="IMP round 0",
        )
        history[0] |= log.summary()
    elif reset == "rewind":
        raise InvalidInputError("trained_dense cannot be rewound: its iterates were not stored (use reset='init' or 'lr-rewind')")
    else:
        dense = copy_model(trained_dense)
    reset_state = log.iterates[k] if reset == "rewind" else init_state
    masks = full_masks(dense)
    round_masks: list[list[torch.Tensor]] = []
    trained, ticket = dense, copy_model(dense)
    for j, densities in enumerate(schedule, start=1):
        scores = [layer.weight.detach().abs() for layer in prunable_layers(trained)]
        last = len(layers) - 1
        if scope == "global" and len(layers) > 1:
            masks = masks_from_scores(scores, densities[0], "global", separate={last: densities[last]}, previous=masks)
        else:
            masks = masks_from_scores(scores, densities, "layer", previous=masks)
        round_masks.append([m.cpu() for m in masks])
        ticket = copy_model(trained)
        if reset != "lr-rewind":
            ticket.load_state_dict(reset_state)
        _mask_in_place(ticket, masks)
        entry: dict[str, Any] = {"round": j, "density": masks_density(masks), "layer_densities": layer_mask_densities(masks)}
        if j < len(schedule) or train_final:
            trained = copy_model(ticket)
            log = train(
                trained,
                data,
                settings,
                seed=seed,
                masks=masks,
                start_iteration=start,
                device=device,
                progress=progress,
                desc=f"IMP round {j}",
            )
            entry |= log.summary()
        history.append(entry)
    name = "imp-one-shot" if one_shot else "imp"
    info = {
        "rounds": len(schedule),
        "rate": rate,
        "output_rate": _output_rate(rate, output_rate),
        "reset": reset,
        "rewind_iteration": start,
        **({"ticket_" + key: value for key, value in history[-1].items() if key not in ("round", "density", "layer_densities")}),
    }
    return PruningResult(
        method=name,
        masks=[m.cpu() for m in masks],
        model=ticket,
        density=density,
        scope=scope,
        trained=trained if (schedule and train_final) or not schedule else None,
        info=info,
        history=history,
        round_masks=round_masks,
        reset_state=reset_state if reset != "lr-rewind" else None,
    )


@torch.no_grad()
def _mask_in_place(model: nn.Module, masks: Sequence[torch.Tensor]) -> None:
    for layer, m in zip(prunable_layers(model), masks, strict=True):
        layer.weight.mul_(m.to(layer.weight.device, layer.weight.dtype))
