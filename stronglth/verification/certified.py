"""The certified error: the a-posteriori bound of docs/theory.md §3, recomputed from the kept weights."""

from __future__ import annotations

from typing import Any

from stronglth import bounds
from stronglth.constructions._assemble import gadget_matrices

__all__ = ["certified_bound"]


def certified_bound(ticket: Any) -> float | None:
    """The a-posteriori bound ``E_l`` of docs/theory.md §3, recomputed from the ticket's kept weights.

    With ``(A_i, B_i)`` from :func:`gadget_matrices`: ``D+ = A - W``, ``D- = B + W``;
    ``c_1 = ||[D+, D-]||_2`` and ``c_i = ||D+||_2`` for ``i >= 2`` (post-ReLU inputs are ``>= 0``);
    then ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``. ``None`` for tickets not of that shape.
    """
    matrices = gadget_matrices(ticket)
    if matrices is None:
        return None
    constants = []
    for i, ((a, b), w) in enumerate(zip(matrices, ticket.target.weights, strict=False), start=1):
        d_plus, d_minus = a - w, b + w
        constants.append(bounds.layer_error_constant(d_plus, d_minus) if i == 1 else bounds.layer_error_constant(d_plus))
    return bounds.certified_error([n.spectral_norm for n in ticket.target.layer_norms()], constants)
