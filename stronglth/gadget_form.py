"""A construction ticket read back in its gadget form, and its certified bound recomputed from it
(docs/theory.md §2-3).

Every construction here lays G out as Malach's does (docs/theory.md §1): layer ``i`` of the target
is spread over ``M_{2i-1}`` and ``M_{2i}``, and each first-layer unit of a block reads one input
coordinate. Such a ticket computes *exactly* ``A_l s(... A_2 s(A_1 s(x) + B_1 s(-x)))`` for the
matrices ``(A_i, B_i)`` of :func:`gadget_matrices`: the inputs of the certified bound
(:func:`recomputed_certified_error`) and the small form the exact verifier works on
(:func:`gadget_network`). This module reads tickets without importing :mod:`stronglth.ticket`, so
that :meth:`Ticket.audit <stronglth.Ticket.audit>` can recompute the bound a file claims.

The gadget identity is one of bias-free networks: a ticket that keeps a bias entry, or whose target
has biases, is not of this form (``None`` everywhere; docs/theory.md §12). It is also one of ReLU
networks (``s(u x) = u s(x)`` and ``s(-x)`` vanishing on the later layers' inputs ``y >= 0``): a ticket
whose G or target has a leaky ReLU (a non-zero ``negative_slope``, docs/theory.md §14.6) is not of
this form either, nor of the form with biases; its certified bound, if any, is the one of
Burkholz's layout (:func:`recomputed_certified_error` falls through to it). A ticket with an output
scale ``c != 1`` approximates ``F`` as ``c`` times a ticket of ``F' = F / c``: its gadget is read
against the layers of ``F'`` from :meth:`~stronglth.TargetNetwork.scale_to_assumptions` (which must
give the same ``c``, else ``None``), and its certified bound is ``c`` times the bound against ``F'``,
since ``||c T(x) - F(x)|| = c ||T(x) - F'(x)||``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from stronglth import bounds
from stronglth.relu import ReLUNetwork

if TYPE_CHECKING:
    from stronglth.ticket import Ticket

__all__ = [
    "gadget_matrices",
    "gadget_network",
    "weight_errors",
    "recomputed_certified_error",
    "reference_target",
    "biased_gadget",
]


def _is_ticket(value: Any) -> bool:
    return callable(getattr(value, "kept", None)) and hasattr(value, "network") and hasattr(value, "target")


def _output_scale(ticket: Any) -> float:
    return float(getattr(ticket, "output_scale", 1.0))


def _is_leaky(ticket: Any) -> bool:
    """Whether G or the target has a leaky hidden activation (the gadget identity is the ReLU's)."""
    network, target = getattr(ticket, "network", None), getattr(ticket, "target", None)
    return any(float(getattr(net, "negative_slope", 0.0)) != 0.0 for net in (network, target))


def reference_target(ticket: Any, *, allow_biases: bool = False) -> Any:
    """The target whose layers the ticket's layer pairs approximate: ``ticket.target`` when the output
    scale is 1; for an output scale ``c``, ``F'`` of ``ticket.target.scale_to_assumptions()`` when that
    gives ``c`` exactly (the ticket of ``construct(F, rescale=True)``), else ``F`` with its last layer
    (and last bias) divided by ``c``: either computes ``F / c`` exactly, so the bound against it, times
    ``c``, bounds ``||c T(x) - F(x)||`` (the second is valid for any ticket, if loose). ``None`` for
    tickets without target and, unless ``allow_biases``, for tickets that keep a bias or whose target
    has biases. The reference keeps the target's hidden activation (its ``negative_slope``)."""
    target = getattr(ticket, "target", None)
    if target is None:
        return None
    if not allow_biases and (getattr(target, "has_biases", False) or getattr(ticket, "bias_nnz", 0)):
        return None
    scale = _output_scale(ticket)
    if scale == 1.0:
        return target
    scaled, factor = target.scale_to_assumptions()
    if factor == scale:
        return scaled
    weights = [*target.weights[:-1], target.weights[-1] / scale]
    slope = float(getattr(target, "negative_slope", 0.0))
    if not target.has_biases:
        return type(target)(weights, negative_slope=slope)
    biases = [b if given else None for b, given in zip(target.biases, target.bias_layers, strict=True)]
    if biases[-1] is not None:
        biases[-1] = biases[-1] / scale
    return type(target)(weights, biases, negative_slope=slope)


def _layer_gadget(first: Any, second: Any, w: np.ndarray, constants: set[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(A, B)`` of one layer pair (:func:`gadget_matrices`); units in ``constants`` (kept bias, no
    input) are skipped here. ``None`` when a unit reads several coordinates or both a weight and a bias."""
    if np.any(np.diff(first.rows) == 0):  # rows are sorted: a unit reads several coordinates
        return None
    unit_input = dict(zip(first.rows.tolist(), first.cols.tolist(), strict=False))
    if constants & unit_input.keys():
        return None  # s(u x + c): not the gadget
    unit_weight = dict(zip(first.rows.tolist(), first.vals.tolist(), strict=False))
    a, b = np.zeros_like(w), np.zeros_like(w)
    for o, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist(), strict=False):
        if h not in unit_input:
            continue  # a unit with no input weight outputs s(0) = 0, or a constant (its bias)
        u, j = unit_weight[h], unit_input[h]
        if u > 0:
            a[o, j] += v * u
        elif u < 0:
            b[o, j] += v * -u
    return a, b


def biased_gadget(ticket: Any) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """``(A_i, B_i, b'_i)`` of every layer of a ticket in the gadget form with biases (docs/theory.md
    §15): units of ``M_{2i-1}`` keep either one input weight (the gadget) or only their bias ``c_h``
    (a constant ``s(c_h)``); layer ``2i`` then computes ``A_i s(y) + B_i s(-y) + b'_i`` with
    ``b'_i[o] = sum_h v_oh s(c_h)`` over the constant units plus ``M_{2i}``'s own kept bias. ``None``
    for any other ticket (no target, depth not ``2l``, other shapes, a leaky G or target)."""
    if not _is_ticket(ticket) or _is_leaky(ticket) or (reference := reference_target(ticket, allow_biases=True)) is None:
        return None
    if ticket.network.depth != 2 * reference.depth or not hasattr(ticket, "kept_biases"):
        return None
    out = []
    for i, w in enumerate(reference.weights, start=1):
        first, second = ticket.kept(2 * i - 1), ticket.kept(2 * i)
        kept_first, kept_second = ticket.kept_biases(2 * i - 1), ticket.kept_biases(2 * i)
        constant = dict(zip(kept_first.rows.tolist(), kept_first.vals.tolist(), strict=False))
        gadget = _layer_gadget(first, second, w, set(constant))
        if gadget is None:
            return None
        bias = np.zeros(w.shape[0])
        for o, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist(), strict=False):
            if h in constant:
                bias[o] += v * max(constant[h], 0.0)
        np.add.at(bias, kept_second.rows, kept_second.vals)
        out.append((*gadget, bias))
    return out


def _biased_certified_error(ticket: Any) -> float | None:
    """The bound of docs/theory.md §15 from :func:`biased_gadget`, against the reference target."""
    layers = biased_gadget(ticket)
    if layers is None:
        return None
    reference = reference_target(ticket, allow_biases=True)
    constants, bias_errors = [], []
    for i, ((a, b, bias), w, target_bias) in enumerate(zip(layers, reference.weights, reference.biases, strict=True), start=1):
        constants.append(bounds.layer_error_constant(a - w, b + w) if i == 1 else bounds.layer_error_constant(a - w))
        bias_errors.append(float(np.linalg.norm(bias - target_bias)))
    bound = bounds.certified_error(
        [n.spectral_norm for n in reference.layer_norms()],
        constants,
        bias_norms=[float(np.linalg.norm(b)) for b in reference.biases],
        bias_errors=bias_errors,
    )
    return bound * _output_scale(ticket)


def gadget_matrices(ticket: Any) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """``(A_i, B_i)`` of every layer of a construction ticket (docs/theory.md §2-3), from its kept weights.

    ``A[o, j] = sum v_oh u_h`` over kept units ``h`` with ``u_h > 0`` reading input ``j`` and
    ``B[o, j] = sum v_oh |u_h|`` over those with ``u_h < 0``, so that layer pair ``2i-1, 2i`` of the
    ticket computes ``A_i s(y) + B_i s(-y)`` exactly. ``None`` for tickets not of that shape (no
    target, depth not ``2l``, or a first-layer unit reading more than one coordinate; kept biases, a
    target with biases, an output scale other than ``scale_to_assumptions``'s, or a leaky ReLU in G
    or the target: see the module).
    """
    if not _is_ticket(ticket) or _is_leaky(ticket) or (reference := reference_target(ticket)) is None:
        return None
    if ticket.network.depth != 2 * reference.depth:
        return None
    out = []
    for i, w in enumerate(reference.weights, start=1):
        gadget = _layer_gadget(ticket.kept(2 * i - 1), ticket.kept(2 * i), w, set())
        if gadget is None:
            return None
        out.append(gadget)
    return out


def gadget_network(ticket: Any) -> tuple[ReLUNetwork, ReLUNetwork] | None:
    """The ticket and its target as networks of one architecture (the target's), exactly.

    By the gadget identity the ticket computes ``A_l s(... A_2 s(A_1 s(x) + B_1 s(-x)))`` (later
    layers read ``y >= 0``, where the ``B_i`` terms vanish), and the target ``W_l s(... W_2 s(W_1 s(x)
    - W_1 s(-x)))``: both are ReLU networks with the shared first layer ``[I; -I]``. The exact
    verifier uses this form: it is small, and layer by layer the two networks are close. With an
    output scale ``c``, the ticket's network carries it (``ReLUNetwork(..., output_scale=c)``) and the
    target's is ``F`` itself, so the pair still computes exactly what the ticket and the target do.
    ``None`` where :func:`gadget_matrices` is (a leaky G or target among them).
    """
    matrices = gadget_matrices(ticket)
    if matrices is None:
        return None
    d = ticket.target.d
    split = np.vstack((np.eye(d), -np.eye(d)))
    a1, b1 = matrices[0]
    ticket_weights = [split, np.hstack((a1, b1))] + [a for a, _ in matrices[1:]]
    w1 = ticket.target.weights[0]
    target_weights = [split, np.hstack((w1, -w1))] + list(ticket.target.weights[1:])
    return ReLUNetwork(ticket_weights, output_scale=_output_scale(ticket)), ReLUNetwork(target_weights)


def recomputed_certified_error(ticket: Ticket | Any) -> float | None:
    """The a-posteriori bound ``E_l`` of docs/theory.md §3, recomputed from the ticket's kept weights.

    With ``(A_i, B_i)`` from :func:`gadget_matrices`: ``D+ = A - W``, ``D- = B + W``;
    ``c_1 = ||[D+, D-]||_2`` and ``c_i = ||D+||_2`` for ``i >= 2`` (post-ReLU inputs are ``>= 0``);
    then ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``, all against the reference target (the target,
    or ``F'`` for a ticket with an output scale ``c``, whose bound is then ``c E_l``). ``None`` for
    tickets not of that shape. A ticket with a leaky ReLU (G's or the target's) is not: its bound is
    Burkholz's when G's slope is the target's (:func:`_other_forms`), else ``None``.
    """
    errors = weight_errors(ticket)
    if errors is None:
        return _other_forms(ticket)
    constants = [bounds.layer_error_constant(e) for e in errors]
    reference = reference_target(ticket)
    assert reference is not None  # weight_errors returns None for a ticket without one
    bound = bounds.certified_error([n.spectral_norm for n in reference.layer_norms()], constants)
    return bound * _output_scale(ticket)


def weight_errors(ticket: Any) -> list[np.ndarray] | None:
    """The per-weight errors the certified bound reads (docs/theory.md §3.1), layer by layer, from the
    ticket's kept weights: ``[D+, D-]`` (shape ``(n_1, 2 d)``) for layer 1, where the input may be
    negative, and ``D+`` for the later layers, whose inputs are ``>= 0``; ``D+ = A - W``, ``D- = B + W``.
    ``None`` for tickets not of the gadget form (:func:`gadget_matrices`); ``W`` are the layers of the
    reference target (:func:`reference_target`)."""
    matrices = gadget_matrices(ticket)
    if matrices is None:
        return None
    return [
        np.hstack((a - w, b + w)) if i == 1 else a - w
        for i, ((a, b), w) in enumerate(zip(matrices, reference_target(ticket).weights, strict=True), start=1)
    ]


def _other_forms(ticket: Any) -> float | None:
    """The bound of a ticket that is not in the bias-free gadget form: the gadget form with biases
    (docs/theory.md §15), or Burkholz's depth ``l + 1`` layout (docs/theory.md §14.4, whose module
    imports nothing of the package); ``None`` for any other ticket."""
    if not _is_ticket(ticket):
        return None
    if (bound := _biased_certified_error(ticket)) is not None:
        return bound
    from stronglth.constructions.burkholz.certified import recomputed_certified_error as depth_l_plus_1

    reference = reference_target(ticket)  # F, or F / c for a ticket with an output scale c (§12)
    if reference is None:
        return None
    bound = depth_l_plus_1(ticket, reference)
    return None if bound is None else bound * _output_scale(ticket)
