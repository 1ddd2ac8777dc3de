"""The certified error: the a-posteriori bound of docs/theory.md §3, recomputed from the kept weights.

It bounds the Euclidean norm of ``ticket(x) - F(x)`` over the unit ball, for ``F = ticket.target``
only: against any other network it is not defined, and asking for it is an error.

Over the box ``[-1, 1]^d`` a ball bound says nothing by itself (the box holds points of norm up to
``sqrt(d)``); for bias-free networks positive homogeneity gives ``sup_box <= sqrt(d) sup_ball``
(docs/theory.md §1.5, §6), so ``sqrt(d) E_l`` (rounded up) is the certified bound there. A network
with biases is not homogeneous: the bound of §3 is not derived for it, and there is a certified
bound only where the construction supplies one (:func:`~stronglth.gadget_form.recomputed_certified_error`
returns it); otherwise none, and :func:`certified_or_reason` says why.

A ticket with a leaky ReLU (G's ``negative_slope``, docs/theory.md §14.6) has no gadget-form bound
(the gadget identity is one of ReLU networks); its bound is the one its construction supplies
(Burkholz's, recomputed by :mod:`stronglth.constructions.burkholz.certified` when G's slope is the
target's), else none. Bias-free leaky networks are positively homogeneous, so the box bound
``sqrt(d) E_l`` holds for them as for ReLU networks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError
from stronglth.gadget_form import recomputed_certified_error
from stronglth.verification._common import as_relu_network, check_domain, has_biases, is_leaky

__all__ = ["certified_bound", "certified_or_reason", "is_own_target"]


def is_own_target(net: Any, target: Any) -> bool:
    """Whether ``target`` computes with exactly the weights (and biases, output scale and hidden
    activation) of ``net.target`` (``None``: yes)."""
    own = getattr(net, "target", None)
    if target is None or target is own:
        return own is not None
    if own is None:
        return False
    other = as_relu_network(target)
    if other.dims != own.dims or has_biases(other) != has_biases(own):
        return False
    if float(getattr(other, "output_scale", 1.0)) != float(getattr(own, "output_scale", 1.0)):
        return False
    if float(getattr(other, "negative_slope", 0.0)) != float(getattr(own, "negative_slope", 0.0)):
        return False  # the same weights with another activation are another function
    same = all(np.array_equal(a, b) for a, b in zip(other.weights, own.weights, strict=True))
    if same and has_biases(own):
        same = other.bias_layers == own.bias_layers and all(
            np.array_equal(a, b) for a, b in zip(other.biases, own.biases, strict=True)
        )
    return same


def _input_dimension(ticket: Any) -> int:
    target = getattr(ticket, "target", None)
    return int(target.d) if target is not None else int(as_relu_network(ticket).dims[0])


def certified_or_reason(ticket: Any, domain: str = "ball") -> tuple[float | None, str]:
    """The certified bound on ``sup ||ticket - ticket.target||_2`` over ``domain`` (``"ball"`` or
    ``"box"``) and what it is; or ``None`` and why there is none (module docstring)."""
    domain = check_domain(domain)
    network = as_relu_network(ticket)
    biased = has_biases(network) or has_biases(getattr(ticket, "target", None))
    value = recomputed_certified_error(ticket)
    if value is None:
        if biased:
            return None, (
                "network has biases: not positively homogeneous, and its construction supplies no certified bound;"
                " use method='bab' or 'bounds' for an upper bound"
            )
        target = getattr(ticket, "target", None)
        if is_leaky(network, target):
            slopes = f"{network.negative_slope!r}, target {float(getattr(target, 'negative_slope', 0.0))!r}"
            return None, (
                f"leaky ReLU (negative_slope: ticket {slopes}): no gadget-form bound, and its construction supplies"
                " no certified bound; use method='bab' or 'bounds' for an upper bound (docs/theory.md §14.6)"
            )
        return None, "not a construction ticket (the bound of docs/theory.md §3 is defined for their gadget form)"
    if domain == "ball":
        return float(value), "upper bound E_l over the unit ball (l2, docs/theory.md §3)"
    if biased:
        return None, (
            "network has biases: not positively homogeneous, so sup_box <= sqrt(d) sup_ball does not hold and the ball"
            " bound does not bound the box; use method='bab' or 'bounds' with domain='box'"
        )
    d = _input_dimension(ticket)
    scaled = float(np.nextafter(np.nextafter(math.sqrt(d), math.inf) * float(value), math.inf))
    return scaled, (
        f"upper bound over the box: sqrt({d}) x the ball bound E_l, by positive homogeneity (bias-free networks;"
        " docs/theory.md §6); the ball bound alone does not bound the box"
    )


def certified_bound(ticket: Any, target: Any = None, *, domain: str = "ball") -> float | None:
    """The bound ``E_l`` of docs/theory.md §3 on ``sup_B ||ticket - ticket.target||_2``, recomputed
    from the kept weights (``domain="ball"``), or ``sqrt(d) E_l`` over the box ``[-1, 1]^d``
    (``domain="box"``, bias-free networks); ``None`` for networks not in the gadget form of the
    constructions, and for networks with biases whose construction supplies no bound
    (:func:`certified_or_reason` says which).

    ``target``, when given, must be ``ticket.target`` (same weights): the bound is defined against
    the ticket's own target, and another target raises :class:`~stronglth.errors.InvalidInputError`.
    """
    if target is not None and not is_own_target(ticket, target):
        raise InvalidInputError(
            "the certified bound is defined against the ticket's own target (ticket.target), not against another"
            " network; measure the error against this one with method='sampled', 'adversarial' or 'exact'"
        )
    return certified_or_reason(ticket, domain)[0]
