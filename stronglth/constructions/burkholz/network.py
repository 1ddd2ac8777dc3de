"""The depth ``l + 1`` construction (Burkholz, "Most activation functions can win the lottery without
excessive depth", NeurIPS 2022; docs/theory.md §14): a ticket of a random network of depth ``l + 1``,
not ``2l``, for a target of depth ``l`` with the ReLU or a leaky ReLU ``s_a(t) = max(t, a t)``
(``0 < a < 1``; G then has the target's activation, docs/theory.md §14.6), every weight a subset sum.

G's matrices (docs/theory.md §14.1; ``bounds.burkholz_dims``): ``M_1`` ``(n_0 k_1, n_0)`` univariate,
``M_{i+1}`` ``(n_i c_i, n_{i-1} k_i)`` with ``c_i = k_{i+1}`` copies of each neuron of target layer ``i``
(``c_l = 1``). Layer 1 is :mod:`~stronglth.constructions.burkholz.first` (product subset sums, both
sides), layers ``i >= 2`` are :mod:`~stronglth.constructions.burkholz.copies` (plain subset sums over
the ``k_i`` copies of each input neuron); the certified bound is
:mod:`~stronglth.constructions.burkholz.certified`. Block sizes: ``"theorem"`` (the explicit a-priori
sizes of ``bounds.burkholz_theorem_block_sizes``), ``"auto"`` (a search, output layer first, for sizes at
which every event of this G succeeds) or a list ``[k_1, ..., k_l]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.bounds.burkholz import burkholz_dims, burkholz_event_counts, burkholz_theorem_block_sizes, burkholz_tolerances
from stronglth.constructions.burkholz.certified import (
    copy_error_trace,
    copy_layer_errors,
    first_layer_errors,
    recomputed_certified_error,
)
from stronglth.constructions.burkholz.copies import OBJECTIVES, solve_copy_layer
from stronglth.constructions.burkholz.first import solve_first_layer
from stronglth.constructions.planning import DEFAULT_MAX_VALUES, ConstructionPlan, bind_options, check_max_values, check_plan
from stronglth.constructions.subsetsum.auto import AUTO_CONSTANT, AUTO_MAX_BLOCK, local_search
from stronglth.constructions.subsetsum.solver import MAX_K
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.gadget_form import recomputed_certified_error as gadget_bound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_burkholz", "plan_burkholz", "RATE", "ON_FAILURE"]

ON_FAILURE = ("raise", "best_effort")
RATE = 4e7
"""Values read or subset sums enumerated per second (the subset-sum construction's measured rate)."""


@dataclass(frozen=True)
class _Layer:
    """One target layer's outcome: kept entries of its matrices, errors, failures."""

    layer: int
    k: int
    copies: int
    eta: float
    entries: list  # one (rows, cols, vals) per matrix: M_1 and M_2 for layer 1, M_{i+1} after
    failures: list  # layer 1: (row, input, side, |error|, candidates); later: (row, input, |error|)
    complete: bool
    solves: int


def _network(shapes: Sequence[tuple[int, int]], seed: int, negative_slope: float) -> RandomNetwork:
    """G: its values are those of every other G with this seed; its activation is the target's."""
    return RandomNetwork(list(shapes), seed=seed, negative_slope=negative_slope)


def _matrix_view(t: int, shape: tuple[int, int], seed: int) -> RandomNetwork:
    """A network whose ``M_t`` has ``shape`` and G's values (a line's stream depends on ``(seed, t, line)``
    only, docs/theory.md §7); the other matrices are placeholders, never read."""
    rows, cols = shape
    shapes = [(cols, 1)] + [(cols, cols)] * (t - 2) + [(rows, cols)] if t > 1 else [(rows, cols)]
    if len(shapes) % 2:  # today's generator wants an even number of matrices
        shapes.append((1, rows))
    return RandomNetwork(shapes, seed=seed)


def _solve(target: TargetNetwork, i: int, k: int, copies: int, eta: float, r: _Resolved, stop: bool) -> _Layer:
    if i == 1:
        first = solve_first_layer(
            target.weights[0],
            k,
            copies,
            r.seed,
            eta,
            objective=r.objective,
            max_candidates=r.max_candidates,
            stop_on_failure=stop,
            negative_slope=r.negative_slope,
        )
        entries = [first.first, first.second] if first.complete else []
        return _Layer(1, k, copies, eta, entries, first.failures, first.complete, first.solves)
    w = target.weights[i - 1]
    shape = (w.shape[0] * copies, w.shape[1] * k)
    layer = solve_copy_layer(
        _matrix_view(i + 1, shape, r.seed), i + 1, i, w, k, copies, eta,
        objective=r.objective, max_candidates=r.max_candidates, stop_on_failure=stop,
    )  # fmt: skip
    return _Layer(i, k, copies, eta, [layer.entries], layer.failures, layer.complete, layer.solves)


@dataclass(frozen=True)
class _Resolved:
    eps: float
    delta: float
    seed: int
    on_failure: str
    objective: str
    max_candidates: int
    explicit: tuple[int, ...] | None
    theorem: tuple[int, ...] | None
    spectral: tuple[float, ...]
    negative_slope: float


def _resolve(
    target: Any, *, eps: Any, delta: Any, seed: Any, block_sizes: Any, on_failure: Any, objective: Any, max_candidates: Any
) -> _Resolved:
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    if getattr(target, "has_biases", False):
        raise InvalidInputError(
            "target has biases: method 'burkholz' builds bias-free targets (docs/theory.md §14.6); method='subsetsum'"
            " builds biases from G's own (docs/theory.md §15)"
        )
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    seed = _validate.seed(seed)
    slope = _validate.negative_slope(target.negative_slope)
    on_failure = _validate.choice(on_failure, "on_failure", ON_FAILURE)
    objective = _validate.choice(objective, "objective", OBJECTIVES)
    max_candidates = MAX_K if max_candidates is None else _validate.positive_int(max_candidates, "max_candidates")
    if max_candidates > MAX_K:
        raise InvalidInputError(f"max_candidates must be at most {MAX_K} (the exact solver's limit), got {max_candidates}")
    explicit = theorem = None
    if isinstance(block_sizes, str):
        if block_sizes == "theorem":
            theorem = explicit = burkholz_theorem_block_sizes(target.dims, eps, delta, negative_slope=slope)
        elif block_sizes != "auto":
            raise InvalidInputError(
                f"block_sizes must be 'auto', 'theorem' or a list of {target.depth} integers, got {block_sizes!r}"
            )
    elif isinstance(block_sizes, (Sequence, np.ndarray)) and len(block_sizes) == target.depth:
        explicit = tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))
    else:
        raise InvalidInputError(
            f"block_sizes must be 'auto', 'theorem' or a list of {target.depth} integers, got {block_sizes!r}"
        )
    spectral = tuple(n.spectral_norm for n in target.layer_norms())
    return _Resolved(eps, delta, seed, on_failure, objective, max_candidates, explicit, theorem, spectral, slope)


def _eta(target: TargetNetwork, r: _Resolved, i: int, later: dict[int, int]) -> float:
    """``eta_i``: it depends on ``k_{i+1} .. k_l`` only (the others are placeholders)."""
    ks = [later.get(m, 1) for m in range(1, target.depth + 1)]
    return burkholz_tolerances(target.dims, r.eps, ks, r.spectral, negative_slope=r.negative_slope)[i - 1]


def _start(target: TargetNetwork, r: _Resolved, i: int, copies: int, eta: float) -> int:
    """Where ``"auto"`` starts for layer ``i``: ``ceil(1.25 log2(N_i / (delta eta_i)))`` (empirical)."""
    events = (2 if i == 1 else 1) * target.dims[i] * copies * target.dims[i - 1]
    if not eta > 0 or not math.isfinite(events / (r.delta * eta)):
        raise InvalidInputError(
            f"eps = {r.eps:g} gives layer {i} a per-weight tolerance of {eta:g}, below float64's resolution; use a larger eps"
        )
    return max(1, math.ceil(AUTO_CONSTANT * math.log2(events / (r.delta * eta))))


def _search(target: TargetNetwork, r: _Resolved, i: int, copies: int, eta: float, start: int) -> tuple[_Layer, list[int]]:
    """The subset-sum construction's local search from ``start``
    (:func:`~stronglth.constructions.subsetsum.auto.local_search`)."""
    tried: list[int] = []

    def attempt(k: int, stop: bool = True) -> _Layer:
        tried.append(k)
        return _solve(target, i, k, copies, eta, r, stop)

    k, found, success = local_search(attempt, start, lambda layer: not layer.failures)
    if success:
        return found, tried
    if r.on_failure == "raise":
        raise TicketNotFound(
            f"block_sizes='auto': no block size tried ({min(tried)}..{max(tried)}; the search stops at {AUTO_MAX_BLOCK})"
            f" makes every event of layer {i} succeed for seed {r.seed}; at block size {k}: {_not_found(found)}"
        )
    return attempt(k, stop=False), tried


def _not_found(layer: _Layer) -> TicketNotFound:
    failure = layer.failures[0]
    row, input_ = failure[0], failure[1]
    neuron, copy = divmod(row, layer.copies)
    side = "" if layer.layer > 1 else f", side {'P (u > 0)' if failure[2] > 0 else 'N (u < 0)'}"
    error = failure[3] if layer.layer == 1 else failure[2]
    where = f"output {neuron}" + (f" (copy {copy} of {layer.copies})" if layer.copies > 1 else "")
    return TicketNotFound(
        f"width too small: layer {layer.layer}, {where}, input {input_}{side}: best error {error:.3g} > eta = {layer.eta:.3g}"
        f" with block size {layer.k} ({len(layer.failures)}{'' if layer.complete else ' or more'} event(s) failed in this layer);"
        " block_sizes='auto' searches for sizes that work, on_failure='best_effort' returns the best ticket"
    )


def _plan(target: TargetNetwork, r: _Resolved) -> ConstructionPlan:
    dims = target.dims
    if r.explicit is not None:
        ks = r.explicit
    else:  # where "auto" starts, output layer first
        later: dict[int, int] = {}
        for i in range(target.depth, 0, -1):
            copies = later.get(i + 1, 1)
            later[i] = _start(target, r, i, copies, _eta(target, r, i, later))
        ks = tuple(later[i] for i in range(1, target.depth + 1))
    widths = burkholz_dims(dims, ks)
    parameters = sum(widths[t] * widths[t + 1] for t in range(len(widths) - 1))
    values = float(dims[0] * ks[0]) + sum(widths[t] * widths[t + 1] for t in range(1, len(widths) - 1))
    for i, events in enumerate(burkholz_event_counts(dims, ks), start=1):
        w = min(math.ceil(ks[i - 1] / 2) if i == 1 else ks[i - 1], r.max_candidates)
        per = sum(math.comb(w, s) for s in range(3)) if r.objective == "sparsest" else 2 * 2 ** (w / 2)
        values += events * per
    return ConstructionPlan(
        method="burkholz", target_dims=dims, block_sizes=ks, final=r.explicit is not None, widths=widths,
        parameter_count=parameters, values=int(values), rate=RATE, jobs=1, memory=150 * 2**20 + 64 * 2**20,
    )  # fmt: skip


def plan_burkholz(target: TargetNetwork, **options: Any) -> ConstructionPlan:
    """The plan of :func:`construct_burkholz` with the same keyword arguments, before any value of G is
    read (with ``block_sizes="auto"``: the sizes where the search starts)."""
    bound = bind_options(construct_burkholz, target, options)
    check_max_values(bound.pop("max_values"))
    return _plan(target, _resolve(target, **bound))


def construct_burkholz(
    target: TargetNetwork,
    *,
    eps: float,
    delta: float = 0.05,
    seed: int,
    block_sizes: str | Sequence[int] = "auto",
    on_failure: str = "raise",
    objective: str = "sparsest",
    max_candidates: int | None = None,
    max_values: int | float = DEFAULT_MAX_VALUES,
) -> Ticket:
    """A ticket of a random network of depth ``l + 1`` for a target of depth ``l`` (Burkholz,
    NeurIPS 2022; docs/theory.md §14), ReLU or leaky ReLU ``s_a(t) = max(t, a t)``: G (and so the
    ticket) has the target's ``negative_slope`` and the same values as for the ReLU; the first layer's
    subset sums approximate ``W_1 / (1 + a)`` and the bound carries ``sqrt(1 + a^2)`` (§14.6).

    Args:
        eps: the sup-norm (l2) budget: per-weight tolerances ``eta_i = bounds.burkholz_tolerances(dims,
            eps, k, s)`` make ``certified_error <= eps`` when every event succeeds (docs/theory.md §14.4).
        delta: the failure probability of ``"theorem"`` block sizes (and of the start of ``"auto"``).
        block_sizes: ``"auto"`` (default): for each layer from the output backwards (layer ``i``'s
            events depend on ``k_i`` and on ``c_i = k_{i+1}``), a local search from
            ``ceil(1.25 log2(N_i / (delta eta_i)))`` (an empirical start, as the subset-sum
            construction's) for a ``k_i`` at which every event succeeds while ``k_i - 1`` fails;
            ``"theorem"``: ``bounds.burkholz_theorem_block_sizes(dims, eps, delta)``, valid for every
            admissible target; or ``[k_1, ..., k_l]``.
        objective: ``"sparsest"`` (fewest units within eta, ties least error) or ``"least_error"``.
        max_candidates: offer the exact solver only the first this many candidates of a block (layers
            ``>= 2``) or side (layer 1), at most 40 (its limit); the a-priori sizes count all ``k``.
        on_failure: ``"raise"`` (:class:`~stronglth.errors.TicketNotFound` naming the layer, output,
            copy, input and side of the first failed event) or ``"best_effort"``.
        max_values: refuse (:class:`~stronglth.errors.TooLargeError`) a plan reading more values.

    The ticket's ``meta`` records the method, ``eps``, ``delta``, block sizes and copies, tolerances and
    the certified trace; ``certified_error`` is recomputed from the kept weights exactly as
    :func:`~stronglth.constructions.burkholz.certified.recomputed_certified_error` does.
    """
    r = _resolve(target, eps=eps, delta=delta, seed=seed, block_sizes=block_sizes, on_failure=on_failure,
                 objective=objective, max_candidates=max_candidates)  # fmt: skip
    check_plan(_plan(target, r), max_values)
    depth = target.depth
    found: dict[int, int] = {}
    layers: dict[int, _Layer] = {}
    tried: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for i in range(depth, 0, -1):  # eta_i and c_i need k_{i+1} .. k_l
        copies = found.get(i + 1, 1)
        eta = _eta(target, r, i, found)
        if r.explicit is None:
            starts[i] = _start(target, r, i, copies, eta)
            layers[i], tried[i] = _search(target, r, i, copies, eta, starts[i])
            if layers[i].failures and not layers[i].complete:  # best effort after a failed search: solve it all
                layers[i] = _solve(target, i, layers[i].k, copies, eta, r, False)
        else:
            layers[i] = _solve(target, i, r.explicit[i - 1], copies, eta, r, r.on_failure == "raise")
            if layers[i].failures and r.on_failure == "raise":
                raise _not_found(layers[i])
        found[i] = layers[i].k
    ks = tuple(found[i] for i in range(1, depth + 1))
    widths = burkholz_dims(target.dims, ks)
    network = _network([(widths[t + 1], widths[t]) for t in range(len(widths) - 1)], r.seed, r.negative_slope)
    entries = [e for i in range(1, depth + 1) for e in layers[i].entries]
    ticket = Ticket(network, entries, target=target)
    trace = _trace(ticket, ks)
    certified = max(trace[-1], gadget_bound(ticket) or 0.0, recomputed_certified_error(ticket) or 0.0)
    meta: dict[str, Any] = {
        "method": "burkholz",
        "eps": r.eps,
        "delta": r.delta,
        "depth": depth + 1,
        "block_sizes": list(ks),
        "copies": [layers[i].copies for i in range(1, depth + 1)],
        "block_sizes_rule": "auto" if r.explicit is None else ("theorem" if r.theorem is not None else "explicit"),
        "auto_start": [starts[i] for i in range(1, depth + 1)] if starts else None,
        "auto_tried": [tried[i] for i in range(1, depth + 1)] if tried else None,
        "eta": [layers[i].eta for i in range(1, depth + 1)],
        "objective": r.objective,
        "max_candidates": r.max_candidates,
        "failures": sum(len(layers[i].failures) for i in range(1, depth + 1)),
        "solves": sum(layers[i].solves for i in range(1, depth + 1)),
        "certified_trace": list(trace),
        "on_failure": r.on_failure,
    }
    return Ticket(network, entries, target=target, certified_error=certified, meta=meta)


def _trace(ticket: Ticket, ks: tuple[int, ...]) -> tuple[float, ...]:
    target = ticket.target
    assert target is not None
    copies = list(ks[1:]) + [1]
    slope = ticket.network.negative_slope
    d_first = first_layer_errors(ticket.kept(1), ticket.kept(2), target.weights[0], copies[0], negative_slope=slope)
    assert d_first is not None  # every unit of M_1 reads one input
    later = [
        copy_layer_errors(ticket.kept(i + 1), ticket.network.shapes[i], target.weights[i - 1], ks[i - 1], copies[i - 1])
        for i in range(2, target.depth + 1)
    ]
    return copy_error_trace(d_first, later, [n.spectral_norm for n in target.layer_norms()], negative_slope=slope)
