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

from stronglth import _validate
from stronglth.constructions._assemble import LEAKY_METHODS
from stronglth.constructions.burkholz.network import construct_burkholz, plan_burkholz
from stronglth.constructions.malach.network import construct_malach, plan_malach
from stronglth.constructions.orseau.network import construct_orseau, plan_orseau
from stronglth.constructions.planning import ConstructionPlan, bind_options
from stronglth.constructions.subsetsum.network import construct_subsetsum, plan_subsetsum
from stronglth.errors import InvalidInputError
from stronglth.gadget_form import gadget_matrices, gadget_network
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct", "plan", "METHODS", "PLANNERS", "LEAKY_METHODS", "ConstructionPlan", "gadget_matrices", "gadget_network"]

METHODS: dict[str, Callable[..., Ticket]] = {
    "malach": construct_malach,
    "subsetsum": construct_subsetsum,
    "burkholz": construct_burkholz,
    "orseau": construct_orseau,
}
"""Registry of constructions: name -> function(target, **keyword arguments) -> Ticket."""

PLANNERS: dict[str, Callable[..., ConstructionPlan]] = {
    "malach": plan_malach,
    "subsetsum": plan_subsetsum,
    "burkholz": plan_burkholz,
    "orseau": plan_orseau,
}
"""Name -> function(target, **the same keyword arguments) -> the construction's plan."""


def _check_keywords(method: str, target: TargetNetwork, kwargs: dict[str, Any]) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidInputError(f"unknown construction method {method!r}; choose one of {sorted(METHODS)}")
    valid = [n for n, p in inspect.signature(METHODS[method]).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if unknown := sorted(set(kwargs) - set(valid)):
        raise InvalidInputError(
            f"unknown keyword(s) {', '.join(unknown)} for method {method!r}; valid: {', '.join(valid + ['rescale'])}"
        )
    bind_options(METHODS[method], target, kwargs)  # a missing required keyword (eps, seed)


def _rescaled(target: TargetNetwork, method: str, kwargs: dict[str, Any]) -> tuple[TargetNetwork, float, dict[str, Any]]:
    """``(F', c, kwargs for F')`` of ``rescale=True``: ``F' = F / c`` from
    :meth:`~stronglth.TargetNetwork.scale_to_assumptions` and ``eps / c`` in place of ``eps``."""
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    if "eps" not in kwargs or kwargs["eps"] is None:
        raise InvalidInputError(
            "rescale=True needs eps= (the error allowed on F itself; the construction runs for F / c at eps / c)"
        )
    eps = _validate.positive_float(kwargs["eps"], "eps")
    if target.is_admissible():  # within check()'s tolerance: constructed as it is (c = 1)
        return target, 1.0, kwargs
    scaled, factor = target.scale_to_assumptions()
    return scaled, factor, {**kwargs, "eps": eps / factor}


def _with_output_scale(ticket: Ticket, target: TargetNetwork, factor: float, eps: float) -> Ticket:
    """The ticket of ``F'`` as an approximation of ``F``: the same kept weights of G, output times ``c``,
    the target ``F``, the certified bound ``c`` times that of ``F'`` (``||c T - F|| = c ||T - F'||``)."""
    meta = {**ticket.meta, "eps": eps, "rescaled": True, "eps_of_scaled_target": ticket.meta.get("eps")}
    certified = None if ticket.certified_error is None else factor * ticket.certified_error
    return Ticket(
        ticket.network,
        ticket.entries,
        biases=ticket.bias_entries,
        target=target,
        certified_error=certified,
        meta=meta,
        output_scale=factor,
    )


def construct(target: TargetNetwork, method: str = "malach", *, rescale: bool = False, **kwargs: Any) -> Ticket:
    """Construct a ticket approximating ``target`` inside a seeded random network G.

    ``construct(target, method="malach", eps=..., delta=..., seed=..., block_sizes="theorem" |
    "instance" | [k_1, ..., k_l], rule="best" | "matching", jobs=1, max_values=...)``; see
    :func:`~stronglth.constructions.malach.network.construct_malach`,
    :func:`~stronglth.constructions.subsetsum.network.construct_subsetsum` and the other entries of
    :data:`METHODS` for every keyword. Before reading G the construction makes its :func:`plan` and
    refuses one that reads more than ``max_values`` values
    (:data:`~stronglth.constructions.planning.DEFAULT_MAX_VALUES`). The ticket carries its
    ``certified_error`` and the construction's parameters in ``ticket.meta``.

    ``rescale=True`` is for a target outside the assumptions (docs/theory.md §1.1), such as a trained
    network: it constructs for ``F' = F / c`` (:meth:`~stronglth.TargetNetwork.scale_to_assumptions`)
    at ``eps / c`` and returns a ticket with ``output_scale = c`` (not a weight of G: the ticket's
    output is ``c`` times that of its subnetwork) and target ``F``, so that it approximates ``F``
    itself within ``eps``; its ``certified_error`` is ``c`` times the bound for ``F'`` and every
    verification measures the error against ``F``. ``meta["eps"]`` is the ``eps`` for ``F``,
    ``meta["eps_of_scaled_target"]`` the one the construction used. An admissible ``F`` (within
    :meth:`~stronglth.TargetNetwork.check`'s tolerance) is constructed as it is, with ``c = 1``.
    """
    rescale = _validate.boolean(rescale, "rescale")
    _check_keywords(method, target, kwargs)
    if not rescale:
        return METHODS[method](target, **kwargs)
    scaled, factor, scaled_kwargs = _rescaled(target, method, kwargs)
    if scaled is target:
        return METHODS[method](target, **kwargs)
    return _with_output_scale(METHODS[method](scaled, **scaled_kwargs), target, factor, float(kwargs["eps"]))


def plan(target: TargetNetwork, method: str = "malach", *, rescale: bool = False, **kwargs: Any) -> ConstructionPlan:
    """What :func:`construct` with the same arguments would do, before reading any value of G: G's
    widths and parameter count, the values read, an estimated time and memory
    (:class:`~stronglth.constructions.planning.ConstructionPlan`); with ``rescale=True``, the plan
    for ``F / c`` at ``eps / c``."""
    rescale = _validate.boolean(rescale, "rescale")
    _check_keywords(method, target, kwargs)
    if rescale:
        target, _, kwargs = _rescaled(target, method, kwargs)
    return PLANNERS[method](target, **kwargs)
