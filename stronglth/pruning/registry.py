"""One registry of ticket finders, one call: :func:`prune` (docs/theory.md §8).

Every finder is called as ``finder(model, data, density, *, seed=..., scope=..., **options)`` and returns a
:class:`~stronglth.pruning.result.PruningResult`: one bool mask per prunable layer (``nn.Linear`` and
``nn.Conv2d`` weights) and the model they apply to. ``density`` is the fraction of weights *kept*, with
edge-popup's counts (:func:`~stronglth.baselines.edge_popup.kept_count`), per layer (one number, or one
per layer) or pooled (``scope="global"``). The model passed in is never changed.

``kind``: ``"weak"`` finders' tickets are trained afterwards (their weights are the initial or rewound
ones); ``"strong"`` finders learn a mask over frozen weights and their tickets are used as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from stronglth.errors import InvalidInputError
from stronglth.pruning.at_init import magnitude, random_pruning, snip, synflow
from stronglth.pruning.early_bird import early_bird
from stronglth.pruning.lottery import imp
from stronglth.pruning.popup import edge_popup
from stronglth.pruning.result import PruningResult
from stronglth.pruning.supermasks import supermask

__all__ = ["Finder", "FINDERS", "prune", "get_finder"]


@dataclass(frozen=True)
class Finder:
    name: str
    function: Callable[..., PruningResult]
    kind: str
    default_scope: str
    description: str
    options: dict[str, Any]


def _one_shot(*args: Any, **kwargs: Any) -> PruningResult:
    return imp(*args, one_shot=True, **kwargs)


def _lr_rewind(*args: Any, **kwargs: Any) -> PruningResult:
    return imp(*args, reset="lr-rewind", **kwargs)


FINDERS: dict[str, Finder] = {
    f.name: f
    for f in (
        Finder("imp", imp, "weak", "layer", "iterative magnitude pruning, reset to init (Frankle & Carbin 2019)", {}),
        Finder("imp-one-shot", _one_shot, "weak", "layer", "one-shot magnitude pruning, reset to init", {}),
        Finder("imp-lr-rewind", _lr_rewind, "weak", "layer", "IMP with learning-rate rewinding (Renda et al. 2020)", {}),
        Finder("early-bird", early_bird, "weak", "layer", "early-bird ticket (You et al. 2020)", {}),
        Finder("synflow", synflow, "weak", "global", "iterative SynFlow, data-free (Tanaka et al. 2020)", {}),
        Finder("snip", snip, "weak", "global", "SNIP connection sensitivity (Lee et al. 2019)", {}),
        Finder("magnitude", magnitude, "weak", "layer", "magnitude at initialisation", {}),
        Finder("random", random_pruning, "weak", "layer", "random pruning", {}),
        Finder("supermask", supermask, "strong", "layer", "learned Bernoulli supermask (Zhou et al. 2019)", {}),
        Finder("edge-popup", edge_popup, "strong", "layer", "edge-popup, top-k scores (Ramanujan et al. 2020)", {}),
    )
}
"""Registry: finder name -> :class:`Finder`. IMP with rewinding to iteration k: ``prune("imp", ...,
reset="rewind", rewind_iteration=k)``."""


def get_finder(name: str) -> Finder:
    if name not in FINDERS:
        raise InvalidInputError(f"unknown pruning method {name!r}; choose one of {sorted(FINDERS)}")
    return FINDERS[name]


def prune(
    method: str,
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str | None = None,
    **options: Any,
) -> PruningResult:
    """Run finder ``method`` on ``model`` and ``data`` to ``density`` (fraction kept); ``scope`` defaults to
    the finder's (``"global"`` for SynFlow and SNIP as in their papers, ``"layer"`` otherwise); ``options``
    go to the finder (``settings=TrainSettings(...)``, ``device="auto"``, ``iterations=``, ``reset=``, ...)."""
    finder = get_finder(method)
    if not isinstance(model, nn.Module):
        raise InvalidInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return finder.function(model, data, density, seed=seed, scope=scope or finder.default_scope, **options)
