"""What every construction shares: stacking the layers into a ticket with its certified bound
(docs/theory.md §3). Reading a ticket back in its gadget form is :mod:`stronglth.gadget_form`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stronglth import bounds
from stronglth.errors import InvalidInputError
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["LEAKY_METHODS", "refuse_leaky", "stack_layers"]

LEAKY_METHODS = ("burkholz",)
"""The constructions that build a target with a leaky ReLU ``s_a(t) = max(t, a t)``, ``a > 0``
(docs/theory.md §14.6); the others' G and gadget rely on the ReLU identity ``s(x) - s(-x) = x``."""


def refuse_leaky(method: str, target: Any) -> None:
    """Refuse a leaky target for a construction that builds ReLU tickets only. Called where each such
    construction checks its arguments, which :func:`stronglth.construct`, :func:`stronglth.plan`,
    ``rescale=True`` (``F / c`` keeps the slope) and a direct call all pass through."""
    slope = float(getattr(target, "negative_slope", 0.0))
    if slope != 0.0 and method not in LEAKY_METHODS:
        also = " (bias-free: no method builds a leaky target with biases)" if getattr(target, "has_biases", False) else ""
        raise InvalidInputError(
            f"target has a leaky ReLU (negative_slope={slope!r}): method {method!r} builds ReLU targets only (its"
            f" gadget uses s(x) - s(-x) = x, which a leaky ReLU does not satisfy); use method='burkholz'{also}"
            " (docs/theory.md §14.6)"
        )


def stack_layers(target: TargetNetwork, network: RandomNetwork, layers: Sequence[Any], meta: dict[str, Any]) -> Ticket:
    """The theorem's last step, shared by the constructions: stack the layers' kept entries
    (``layer.first``, ``layer.second``) into a ticket whose certified error is ``E_l`` of the
    recursion ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})`` with the layers' ``c_i``
    (``layer.constant``) and the target's spectral norms ``s_i`` (docs/theory.md §3). Nothing in the
    ticket depends on the clock or on the number of processes: the same inputs give the same file."""
    spectral = [n.spectral_norm for n in target.layer_norms()]
    constants = [layer.constant for layer in layers]
    entries = [entry for layer in layers for entry in (layer.first, layer.second)]
    meta = {**meta, "layer_constants": constants, "spectral_norms": spectral}
    return Ticket(network, entries, target=target, certified_error=bounds.certified_error(spectral, constants), meta=meta)
