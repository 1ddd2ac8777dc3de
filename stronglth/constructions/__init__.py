"""Constructions of tickets, one subpackage per paper, one lemma a module (docs/theory.md §2-5).

- :mod:`~stronglth.constructions.malach` (Malach et al. 2020): :mod:`~stronglth.constructions.malach.gadget`
  (the weight lemma), :mod:`~stronglth.constructions.malach.layer` (the layer lemma, streaming G),
  :mod:`~stronglth.constructions.malach.network` (the theorem: budgets, block sizes, certified error);
- :mod:`~stronglth.constructions.subsetsum` (Pensia et al. 2020): :mod:`~stronglth.constructions.subsetsum.solver`
  (exact subset sums), :mod:`~stronglth.constructions.subsetsum.layer` (one layer's events),
  :mod:`~stronglth.constructions.subsetsum.network` (block sizes, the auto search, assembly).

:func:`construct` is the entry point; :data:`METHODS` is the registry of constructions;
:func:`gadget_matrices` and :func:`gadget_network` (from :mod:`stronglth.gadget_form`) read a construction
ticket back in its gadget form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stronglth.constructions.malach.network import construct_malach
from stronglth.constructions.subsetsum.network import construct_subsetsum
from stronglth.errors import InvalidInputError
from stronglth.gadget_form import gadget_matrices, gadget_network
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct", "METHODS", "gadget_matrices", "gadget_network"]

METHODS: dict[str, Callable[..., Ticket]] = {
    "malach": construct_malach,
    "subsetsum": construct_subsetsum,
}
"""Registry of constructions: name -> function(target, **keyword arguments) -> Ticket."""


def construct(target: TargetNetwork, method: str = "malach", **kwargs: Any) -> Ticket:
    """Construct a ticket approximating ``target`` inside a seeded random network G.

    ``construct(target, method="malach", eps=..., delta=..., seed=..., block_sizes="theorem" |
    "instance" | [k_1, ..., k_l], rule="best" | "matching", jobs=1)``; see
    :func:`~stronglth.constructions.malach.network.construct_malach` for every keyword. The ticket carries
    its ``certified_error`` and the construction's parameters in ``ticket.meta``.
    """
    if method not in METHODS:
        raise InvalidInputError(f"unknown construction method {method!r}; choose one of {sorted(METHODS)}")
    return METHODS[method](target, **kwargs)
