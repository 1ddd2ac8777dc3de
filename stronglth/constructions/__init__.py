"""Constructions of tickets, one subpackage per paper, one lemma a module (docs/theory.md §2-5).

- :mod:`~stronglth.constructions.malach` (Malach et al. 2020): :mod:`~stronglth.constructions.malach.gadget`
  (the weight lemma), :mod:`~stronglth.constructions.malach.layer` (the layer lemma, streaming G),
  :mod:`~stronglth.constructions.malach.network` (the theorem: budgets, block sizes, certified error);
- :mod:`~stronglth.constructions.subsetsum` (Pensia et al. 2020): :mod:`~stronglth.constructions.subsetsum.solver`
  (exact subset sums), :mod:`~stronglth.constructions.subsetsum.layer` (one layer's events),
  :mod:`~stronglth.constructions.subsetsum.network` (block sizes, the auto search, assembly).

:func:`construct` is the entry point, :func:`plan` says what it will cost before it reads G
(:mod:`~stronglth.constructions.planning`); :data:`METHODS` is the registry of constructions;
:func:`gadget_matrices` and :func:`gadget_network` (from :mod:`stronglth.gadget_form`) read a construction
ticket back in its gadget form.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from stronglth.constructions.malach.network import construct_malach, plan_malach
from stronglth.constructions.planning import ConstructionPlan, bind_options
from stronglth.constructions.subsetsum.network import construct_subsetsum, plan_subsetsum
from stronglth.errors import InvalidInputError
from stronglth.gadget_form import gadget_matrices, gadget_network
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct", "plan", "METHODS", "PLANNERS", "ConstructionPlan", "gadget_matrices", "gadget_network"]

METHODS: dict[str, Callable[..., Ticket]] = {
    "malach": construct_malach,
    "subsetsum": construct_subsetsum,
}
"""Registry of constructions: name -> function(target, **keyword arguments) -> Ticket."""

PLANNERS: dict[str, Callable[..., ConstructionPlan]] = {
    "malach": plan_malach,
    "subsetsum": plan_subsetsum,
}
"""Name -> function(target, **the same keyword arguments) -> the construction's plan."""


def _check_keywords(method: str, target: TargetNetwork, kwargs: dict[str, Any]) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidInputError(f"unknown construction method {method!r}; choose one of {sorted(METHODS)}")
    valid = [n for n, p in inspect.signature(METHODS[method]).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if unknown := sorted(set(kwargs) - set(valid)):
        raise InvalidInputError(f"unknown keyword(s) {', '.join(unknown)} for method {method!r}; valid: {', '.join(valid)}")
    bind_options(METHODS[method], target, kwargs)  # a missing required keyword (eps, seed)


def construct(target: TargetNetwork, method: str = "malach", **kwargs: Any) -> Ticket:
    """Construct a ticket approximating ``target`` inside a seeded random network G.

    ``construct(target, method="malach", eps=..., delta=..., seed=..., block_sizes="theorem" |
    "instance" | [k_1, ..., k_l], rule="best" | "matching", jobs=1, max_values=...)``; see
    :func:`~stronglth.constructions.malach.network.construct_malach` and
    :func:`~stronglth.constructions.subsetsum.network.construct_subsetsum` for every keyword. Before
    reading G the construction makes its :func:`plan` and refuses one that reads more than
    ``max_values`` values (:data:`~stronglth.constructions.planning.DEFAULT_MAX_VALUES`). The ticket
    carries its ``certified_error`` and the construction's parameters in ``ticket.meta``.
    """
    _check_keywords(method, target, kwargs)
    return METHODS[method](target, **kwargs)


def plan(target: TargetNetwork, method: str = "malach", **kwargs: Any) -> ConstructionPlan:
    """What :func:`construct` with the same arguments would do, before reading any value of G: G's
    widths and parameter count, the values read, an estimated time and memory
    (:class:`~stronglth.constructions.planning.ConstructionPlan`)."""
    _check_keywords(method, target, kwargs)
    return PLANNERS[method](target, **kwargs)
