"""The subset-sum construction (Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, "Optimal
lottery tickets via SubsetSum: logarithmic over-parameterization is sufficient", NeurIPS 2020;
docs/theory.md §5): every target weight from a *subset* of a block of random units.

G's layout is Malach's (docs/theory.md §3): layer ``i`` of the target is spread over ``M_{2i-1}``
(``(n_{i-1} k_i, n_{i-1})``) and ``M_{2i}`` (``(n_i, n_{i-1} k_i)``); block ``j`` is hidden units
``[j k_i, (j+1) k_i)``, unit ``h`` reads input ``j`` with weight ``u_h = M_{2i-1}[h, j]`` and feeds
output ``o`` with ``v_oh = M_{2i}[o, h]``. For each ``(o, j)`` the gadget (docs/theory.md §2)

    g(x) = A s(x) + B s(-x),   A = sum_{h in P} v_oh u_h,   B = sum_{h in N} v_oh |u_h|

takes ``P`` among the units of block ``j`` with ``u_h > 0``, a subset with ``|A - w_oj| <= eta``,
and ``N`` among those with ``u_h < 0``, one with ``|B + w_oj| <= eta`` (the ``N`` half in layer 1
only, or in every layer with ``negative_half_everywhere``: later inputs are post-ReLU,
docs/theory.md §2), each an exact subset-sum problem: by default the sparsest such subset
(:mod:`~stronglth.constructions.subsetsum.sparse`, docs/theory.md §5.1), or the closest one
(``objective="least_error"``, :func:`stronglth.constructions.subsetsum.solver.solve`), or the
closest of exactly ``subset_size`` units (one layer: :mod:`~stronglth.constructions.subsetsum.layer`).
The per-weight errors ``D+ = A - W``, ``D- = B + W`` are those of the chosen subsets, and the
certified error follows from the layer constants ``c_i`` exactly as for Malach's construction
(docs/theory.md §3).

Width. Pensia et al. prove that ``k = O(log(N / (delta eta)))`` units per block suffice (by Lueker
1998, random subset sums are dense), with no explicit constant; there is therefore no "theorem"
block size here. ``block_sizes="auto"`` searches, per layer, for a block size at which every event
of *this* G succeeds, starting from the empirical rule ``k = ceil(AUTO_CONSTANT * log2(N_ev /
(delta eta_i)))`` (:data:`AUTO_CONSTANT`: an empirical rule, not a theorem).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth._workers import resolve_jobs
from stronglth.constructions._assemble import refuse_leaky, stack_layers
from stronglth.constructions.planning import DEFAULT_MAX_VALUES, ConstructionPlan, bind_options, check_max_values, check_plan
from stronglth.constructions.subsetsum.auto import AUTO_CONSTANT, auto_start, not_found, search_layer
from stronglth.constructions.subsetsum.biases import attach_biases, bias_start, bias_tolerances, search_bias_block
from stronglth.constructions.subsetsum.layer import (
    OBJECTIVES,
    SOLVE_ELEMENTS,
    TASK_VALUES,
    LayerOptions,
    SubsetSumLayer,
    WorkerPool,
    solve_layer_events,
)
from stronglth.constructions.subsetsum.solver import MAX_K
from stronglth.constructions.subsetsum.sparse import DIRECT_SUBSETS
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_subsetsum", "plan_subsetsum", "ON_FAILURE", "OBJECTIVES", "RATE"]

ON_FAILURE = ("raise", "best_effort")

PROGRESS_MIN_EVENTS = 200_000
"""With ``progress=None``, a progress bar is shown for layers with at least this many events."""

# -- block sizes --------------------------------------------------------------------------------------


def _resolve_etas(target: TargetNetwork, eps, eta, negative_half_everywhere: bool) -> tuple[float | None, tuple[float, ...]]:
    if (eps is None) == (eta is None):
        raise InvalidInputError("give exactly one of eps= (the sup-norm error budget) and eta= (the per-weight tolerance)")
    if eps is not None:
        eps = _validate.positive_float(eps, "eps")
        return eps, bounds.per_weight_tolerance(target.dims, eps, negative_half_everywhere=negative_half_everywhere)
    if isinstance(eta, (Sequence, np.ndarray)) and not isinstance(eta, (str, bytes)):
        if len(eta) != target.depth:
            raise InvalidInputError(f"eta must be a number or a list of {target.depth} numbers (one per layer), got {eta!r}")
        return None, tuple(_validate.positive_float(e, f"eta of layer {i}") for i, e in enumerate(eta, start=1))
    return None, (_validate.positive_float(eta, "eta"),) * target.depth


def _resolve_block_sizes(target: TargetNetwork, block_sizes) -> tuple[int, ...] | None:
    """``None`` for ``"auto"``, else the explicit ``[k_1, ..., k_l]``."""
    if isinstance(block_sizes, str):
        if block_sizes == "auto":
            return None
        if block_sizes in ("theorem", "instance"):
            raise InvalidInputError(
                f"block_sizes={block_sizes!r} does not apply to method 'subsetsum': subset-sum has no explicit-constant"
                " width theorem (Pensia et al. 2020 prove k = O(log(N / (delta eta))) without a constant);"
                " use block_sizes='auto' or a list of block sizes"
            )
        raise InvalidInputError(f"block_sizes must be 'auto' or a list of {target.depth} integers, got {block_sizes!r}")
    if not isinstance(block_sizes, (Sequence, np.ndarray)) or len(block_sizes) != target.depth:
        raise InvalidInputError(f"block_sizes must be 'auto' or a list of {target.depth} integers, got {block_sizes!r}")
    return tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))


# -- the construction ------------------------------------------------------------------------------


RATE = 4e7
"""Values read or subset sums enumerated per second and process (2-core machine: 21.5k solves/s of
about 2 x 2^10 half-sums each, benchmarks/subsetsum_construct.py): the rate behind the plan's time."""
BASE_MEMORY = 150 * 2**20
"""The interpreter with numpy and scipy, before the construction allocates anything."""


@dataclass(frozen=True)
class _Resolved:
    eps: float | None
    etas: tuple[float, ...]
    delta: float
    seed: int
    negative_half_everywhere: bool
    on_failure: str
    jobs: int
    max_size: int | None
    max_candidates: int
    objective: str
    subset_size: int | None
    explicit: tuple[int, ...] | None
    starts: tuple[int, ...]
    bias_etas: tuple[float, ...] = ()  # per-bias tolerances of a target with biases (docs/theory.md §15)
    bias_starts: tuple[int, ...] = ()


def _resolve(
    target: TargetNetwork,
    *,
    eps: float | None,
    eta: float | Sequence[float] | None,
    delta: float,
    seed: int,
    block_sizes: str | Sequence[int],
    negative_half_everywhere: bool,
    on_failure: str,
    jobs: int,
    max_size: int | None,
    max_candidates: int | None,
    objective: str,
    subset_size: int | None,
) -> _Resolved:
    """Every argument checked, and the block sizes (explicit, or where "auto" starts) they give."""
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    refuse_leaky("subsetsum", target)
    negative_half_everywhere = _validate.boolean(negative_half_everywhere, "negative_half_everywhere")
    eps, etas = _resolve_etas(target, eps, eta, negative_half_everywhere)
    delta = _validate.probability(delta, "delta")
    seed = _validate.seed(seed)
    on_failure = _validate.choice(on_failure, "on_failure", ON_FAILURE)
    jobs = resolve_jobs(jobs)
    if max_size is not None and (
        isinstance(max_size, (bool, np.bool_)) or not isinstance(max_size, (int, np.integer)) or max_size < 0
    ):
        raise InvalidInputError(f"max_size must be None or a non-negative integer, got {max_size!r}")
    max_candidates = MAX_K if max_candidates is None else _validate.positive_int(max_candidates, "max_candidates")
    if max_candidates > MAX_K:
        raise InvalidInputError(f"max_candidates must be at most {MAX_K} (the exact solver's limit), got {max_candidates}")
    objective = _validate.choice(objective, "objective", OBJECTIVES)
    if subset_size is not None:
        subset_size = _validate.positive_int(subset_size, "subset_size")
        if subset_size > max_candidates:
            raise InvalidInputError(
                f"subset_size = {subset_size} exceeds max_candidates = {max_candidates}: no side offers that many units"
            )
        if max_size is not None:
            raise InvalidInputError("give at most one of subset_size= (exactly s units) and max_size= (at most s units)")
    explicit = _resolve_block_sizes(target, block_sizes)
    bias_etas: tuple[float, ...] = ()
    if target.has_biases:  # the budget is shared with the biases (docs/theory.md §15)
        etas, bias_etas = bias_tolerances(target, eps) if eps is not None else (etas, etas)
    starts = auto_start(target.dims, etas, delta, negative_half_everywhere=negative_half_everywhere)
    return _Resolved(
        eps, etas, delta, seed, negative_half_everywhere, on_failure, jobs,
        None if max_size is None else int(max_size), max_candidates, objective, subset_size, explicit, starts,
        bias_etas, bias_start(target.dims, bias_etas, delta) if bias_etas else (),
    )  # fmt: skip


def _sums_per_problem(width: int, r: _Resolved) -> float:
    """Subset sums the solver enumerates for one problem of ``width`` candidates: ``2 * 2^(w/2)`` for
    the least error; the sizes' classes for ``subset_size``; for the sparsest, the classes of at
    most 2 units, the typical answer at eta ~ 0.01 (an estimate: a problem with no subset of at
    most 2 units within eta costs up to the least-error search)."""
    if r.subset_size is not None:
        return float(min(math.comb(width, r.subset_size), 2 * 2 ** (width / 2)))
    if r.objective == "sparsest":
        return float(sum(math.comb(width, s) for s in range(3)))
    if r.max_size is not None:
        return float(min(sum(min(math.comb(width, s), DIRECT_SUBSETS) for s in range(r.max_size + 1)), 2 * 2 ** (width / 2)))
    return 2 * 2 ** (width / 2)


def _plan(target: TargetNetwork, r: _Resolved) -> ConstructionPlan:
    dims = target.dims
    ks = r.explicit if r.explicit is not None else r.starts
    values = 0.0
    for i, k in enumerate(ks, start=1):
        n_in, n_out = dims[i - 1], dims[i]
        sides = 2 if (i == 1 or r.negative_half_everywhere) else 1
        width = min(math.ceil(k / 2), r.max_candidates)  # candidates on a side, about half the block
        values += n_in * k * (1 + n_out) + n_out * n_in * sides * _sums_per_problem(width, r)
    widths = (dims[0],) + tuple(w for i, k in enumerate(ks, start=1) for w in (dims[i - 1] * k, dims[i]))
    parameters = sum(dims[i - 1] * k * (dims[i - 1] + dims[i]) for i, k in enumerate(ks, start=1))
    return ConstructionPlan(
        method="subsetsum",
        target_dims=dims,
        block_sizes=ks,
        final=r.explicit is not None,
        widths=widths,
        parameter_count=parameters,
        values=int(values),
        rate=RATE,
        jobs=r.jobs,
        memory=BASE_MEMORY + r.jobs * (SOLVE_ELEMENTS * 8 * 6 + TASK_VALUES * 8 * 3),
    )


def plan_subsetsum(target: TargetNetwork, **options: Any) -> ConstructionPlan:
    """The plan of :func:`construct_subsetsum` with the same keyword arguments, before any value of G
    is read (with ``block_sizes="auto"``: the sizes where the search starts; it may try others)."""
    bound = bind_options(construct_subsetsum, target, options)
    _validate.optional_boolean(bound.pop("progress"), "progress")
    check_max_values(bound.pop("max_values"))
    return _plan(target, _resolve(target, **bound))


def construct_subsetsum(
    target: TargetNetwork,
    *,
    eps: float | None = None,
    eta: float | Sequence[float] | None = None,
    delta: float = 0.05,
    seed: int,
    block_sizes: str | Sequence[int] = "auto",
    negative_half_everywhere: bool = False,
    on_failure: str = "raise",
    jobs: int = 1,
    progress: bool | None = None,
    max_size: int | None = None,
    max_candidates: int | None = None,
    objective: str = "sparsest",
    subset_size: int | None = None,
    max_values: int | float = DEFAULT_MAX_VALUES,
) -> Ticket:
    """A subset-sum ticket (Pensia et al. 2020): per target weight, the subsets ``P`` (``u > 0``) and
    ``N`` (``u < 0``, layer 1 or every layer with ``negative_half_everywhere``) of its block that
    solve subset-sum exactly (module docstring; docs/theory.md §2-3).

    Args:
        eps / eta: exactly one. ``eps``: the sup-norm budget, split into per-weight tolerances
            ``eta_i = bounds.per_weight_tolerance(dims, eps)`` so that ``certified_error <= eps`` when
            every event succeeds. ``eta``: the per-weight tolerance itself (a number, or one per layer).
        delta: enters only the starting point of ``"auto"`` (the ``delta`` of the ``O(log(N/(delta eta)))``).
        block_sizes: ``[k_1, ..., k_l]``, or ``"auto"``: for each layer, a local search from
            ``ceil(AUTO_CONSTANT log2(N_ev / (delta eta_i)))`` (``N_ev = bounds.event_count``) that
            returns ``k_i`` such that every event of layer ``i`` succeeds (``|error| <= eta_i``) for
            this seed and ``k_i - 1`` fails (or ``k_i = 1``): down from the start while ``k - 1``
            succeeds, else up until ``k`` succeeds (the outcome is not monotone in ``k``: a G with
            other line lengths reads other values). Layer ``i`` of G depends on ``k_i`` alone (block
            ``j`` reads offsets ``[j k, (j+1) k)`` of the same streams), so layers are searched
            independently, and the ticket's G is the one with the block sizes found
            (``meta["block_sizes"]``; the sizes tried are in ``meta["auto_tried"]``).
            ``"theorem"`` and ``"instance"`` are refused: there is no explicit-constant theorem.
        objective: ``"sparsest"`` (default): per event, a subset of least cardinality among those
            within the layer's ``eta`` (ties: least error, then the lowest code), searched by
            subset size so that small answers cost little
            (:func:`~stronglth.constructions.subsetsum.sparse.solve_sparsest`; docs/theory.md
            §5.1); ``"least_error"``: the subset closest to the weight (the ticket of earlier
            versions, about half of each block). Success (every event within ``eta``) is the same
            for both, so ``block_sizes="auto"`` finds the same sizes; only the kept units differ.
        subset_size: build every event from exactly this many units (Natale et al. 2024, the
            density knob of their theorem; docs/theory.md §5.1): the least-error subset of that
            size. An event whose side has fewer candidates, or whose best subset of that size
            misses ``eta``, fails (:class:`~stronglth.errors.TicketNotFound` names it).
        max_size: at most this many units per subset (with either objective).
        max_candidates: offer the solver only the first this many candidates of a side (in unit
            order); ``None``: up to the solver's limit :data:`~stronglth.constructions.subsetsum.solver.MAX_K`
            (40). The cost of a side grows like ``2^(n/2)`` in its ``n`` candidates, while success
            is decided by the sides with *few* candidates; in a block of ``k`` units the larger side
            can hold far more than ``k / 2`` (capping it, e.g. at 24, bounds the time of wide
            blocks without changing any side below the cap).
        on_failure: ``"raise"`` (:class:`~stronglth.errors.TicketNotFound` naming the first failed
            event) or ``"best_effort"`` (the ticket of the optimal subsets, with its larger certified error).
        jobs: processes over runs of blocks; the ticket is identical for any ``jobs``.
        progress: tqdm bars per layer (``None``: for layers of at least ``PROGRESS_MIN_EVENTS`` events).
        max_values: refuse (:class:`~stronglth.errors.TooLargeError`, printing the plan) a
            construction whose plan (:func:`plan_subsetsum`) reads and enumerates more values.

    ``C = AUTO_CONSTANT = 1.25`` is an empirical rule, not a theorem: measured over 125 layer runs
    (random targets 1-1 to 100-100-10, eps 0.01 to 0.1 or eta 0.003 to 0.03, 5 seeds), ``k_min / log2(N_ev / (delta
    eta_i))`` has its 10% quantile at 1.24 and median 1.47, so the search usually starts at or a
    few units below the least block size and steps up (details at :data:`AUTO_CONSTANT`; script
    ``benchmarks/subsetsum_calibrate.py``). Attempts below the needed size are cheap: blocks are
    solved hardest first (fewest candidates on a side), narrowest side first, and an attempt
    stops at its first failed event.
    """
    progress = _validate.optional_boolean(progress, "progress")
    r = _resolve(
        target, eps=eps, eta=eta, delta=delta, seed=seed, block_sizes=block_sizes,
        negative_half_everywhere=negative_half_everywhere, on_failure=on_failure, jobs=jobs,
        max_size=max_size, max_candidates=max_candidates, objective=objective, subset_size=subset_size,
    )  # fmt: skip
    check_plan(_plan(target, r), max_values)
    eps, etas, delta, seed, jobs = r.eps, r.etas, r.delta, r.seed, r.jobs
    negative_half_everywhere, on_failure = r.negative_half_everywhere, r.on_failure
    max_size, max_candidates, explicit, starts = r.max_size, r.max_candidates, r.explicit, r.starts

    with ExitStack() as stack:
        pool = WorkerPool(jobs) if jobs > 1 else None
        if pool is not None:
            stack.enter_context(pool.executor)

        def bar(layer: int, k: int, events: int):
            if progress or (progress is None and events >= PROGRESS_MIN_EVENTS):
                from tqdm.auto import tqdm

                return tqdm(total=events, unit="solve", unit_scale=True, desc=f"subset-sum layer {layer}, k={k}", leave=False)
            return None

        def solve_layer(network: RandomNetwork, i: int, k: int, *, stop_on_failure: bool) -> SubsetSumLayer:
            options = LayerOptions(
                etas[i - 1],
                i == 1 or negative_half_everywhere,
                max_size,
                max_candidates,
                stop_on_failure,
                r.objective,
                r.subset_size,
            )
            return solve_layer_events(network, i, target.weights[i - 1], k, options, pool, bar)

        layers: list[SubsetSumLayer] = []
        tried: list[list[int]] = []
        if explicit is None:
            for i in range(1, target.depth + 1):
                layer, attempts = search_layer(target, seed, i, starts[i - 1], solve_layer, on_failure)
                layers.append(layer)
                tried.append(attempts)
            ks = tuple(layer.k for layer in layers)
        else:
            ks = explicit
            network = RandomNetwork.for_target(target, ks, seed=seed)
            for i, k in enumerate(ks, start=1):
                layer = solve_layer(network, i, k, stop_on_failure=on_failure == "raise")
                if layer.failed_events and on_failure == "raise":
                    raise not_found(layer, etas[i - 1], starts[i - 1], r.subset_size)
                layers.append(layer)
    blocks = []
    for i, k in enumerate(ks if target.has_biases else (), start=1):
        given = target.bias_layers[i - 1]
        options = LayerOptions(r.bias_etas[i - 1], False, max_size, max_candidates, False, r.objective, r.subset_size)
        kb = 0 if not given else k if explicit is not None else r.bias_starts[i - 1]
        block, _ = search_bias_block(target, seed, i, k, kb, options, explicit=explicit is not None or not given)
        if block.failed.size and on_failure == "raise":
            o = int(block.failed[0])
            raise TicketNotFound(
                f"width too small: layer {i}, bias of output {o}: best error {abs(block.errors[o]):.3g} > eta_b ="
                f" {r.bias_etas[i - 1]:.3g} with a bias block of {block.kb} units ({block.failed.size} bias event(s)"
                " failed; on_failure='best_effort' returns the best ticket)"
            )
        blocks.append(block)
    network = RandomNetwork.for_target(target, ks, seed=seed)
    meta: dict[str, Any] = {
        "method": "subsetsum",
        "eps": eps,
        "eta": list(etas),
        "delta": delta,
        "block_sizes": list(ks),
        "block_sizes_rule": "auto" if explicit is None else "explicit",
        "auto_constant": AUTO_CONSTANT,
        "auto_start": list(starts),
        "auto_tried": tried if explicit is None else None,
        "negative_half_everywhere": negative_half_everywhere,
        "max_size": max_size,
        "max_candidates": max_candidates,
        "objective": r.objective,
        "subset_size": r.subset_size,
        "failures": sum(layer.failed_events for layer in layers),
        "solves": sum(layer.solves for layer in layers),
        "on_failure": on_failure,
    }
    if target.has_biases:
        return attach_biases(target, seed, ks, layers, blocks, {**meta, "eta_bias": list(r.bias_etas)})
    return stack_layers(target, network, layers, meta)
