"""The certified error: the a-posteriori bound of docs/theory.md §3, recomputed from the kept weights.

It bounds the Euclidean norm of ``ticket(x) - F(x)`` over the unit ball, for ``F = ticket.target``
only: against any other network it is not defined, and asking for it is an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError
from stronglth.gadget_form import recomputed_certified_error
from stronglth.verification._common import as_relu_network

__all__ = ["certified_bound", "is_own_target"]


def is_own_target(net: Any, target: Any) -> bool:
    """Whether ``target`` computes with exactly the weights of ``net.target`` (``None``: yes)."""
    own = getattr(net, "target", None)
    if target is None or target is own:
        return own is not None
    if own is None:
        return False
    other = as_relu_network(target)
    return other.dims == own.dims and all(np.array_equal(a, b) for a, b in zip(other.weights, own.weights, strict=True))


def certified_bound(ticket: Any, target: Any = None) -> float | None:
    """The bound ``E_l`` of docs/theory.md §3 on ``sup_B ||ticket - ticket.target||_2``, recomputed
    from the kept weights; ``None`` for networks not in the gadget form of the constructions.

    ``target``, when given, must be ``ticket.target`` (same weights): the bound is defined against
    the ticket's own target, and another target raises :class:`~stronglth.errors.InvalidInputError`.
    """
    if target is not None and not is_own_target(ticket, target):
        raise InvalidInputError(
            "the certified bound is defined against the ticket's own target (ticket.target), not against another"
            " network; measure the error against this one with method='sampled', 'adversarial' or 'exact'"
        )
    return recomputed_certified_error(ticket)
