"""Constructions of tickets, one lemma a module (REFERENCE §2-4).

- :mod:`~stronglth.construct.gadget`: the weight lemma (one weight, one block of units);
- :mod:`~stronglth.construct.layer`: the layer lemma (shared blocks, all outputs, streaming G);
- :mod:`~stronglth.construct.network`: the theorem (budgets, block sizes, certified error).

:func:`construct` is the entry point; :data:`METHODS` is the registry of constructions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stronglth.construct.network import construct_malach
from stronglth.construct.subsetsum_network import construct_subsetsum
from stronglth.errors import InvalidInputError
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct", "METHODS"]

METHODS: dict[str, Callable[..., Ticket]] = {
    "malach": construct_malach,
    "subsetsum": construct_subsetsum,
}
"""Registry of constructions: name -> function(target, **keyword arguments) -> Ticket."""


def construct(target: TargetNetwork, method: str = "malach", **kwargs: Any) -> Ticket:
    """Construct a ticket approximating ``target`` inside a seeded random network G.

    ``construct(target, method="malach", eps=..., delta=..., seed=..., block_sizes="theorem" |
    "instance" | [k_1, ..., k_l], rule="best" | "matching", jobs=1)``; see
    :func:`~stronglth.construct.network.construct_malach` for every keyword. The ticket carries
    its ``certified_error`` and the construction's parameters in ``ticket.meta``.
    """
    if method not in METHODS:
        raise InvalidInputError(f"unknown construction method {method!r}; choose one of {sorted(METHODS)}")
    return METHODS[method](target, **kwargs)
