"""The theorem (Malach, Yehudai, Shalev-Shwartz, Shamir, ICML 2020, Thm 2.1; docs/theory.md §3-4):
a ticket of G of depth 2l approximating an admissible target of depth l, layer by layer.

Per layer ``i``: the budget ``eta_i = ln(1 + eps) / (l sqrt(2 n_i n_{i-1}))`` (or
``sqrt(n_i n_{i-1})`` without the ``N`` half), block sizes from :mod:`stronglth.bounds`, the layer
lemma on ``M_{2i-1}, M_{2i}``, and the certified a-posteriori bound ``E_l`` from the recursion
``E_i <= s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})`` with the ticket's own ``c_i``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth._executors import open_executor, parse_executor
from stronglth._workers import resolve_jobs
from stronglth.constructions._assemble import refuse_leaky, stack_layers
from stronglth.constructions.malach.gadget import RULES
from stronglth.constructions.malach.layer import PIECE, LayerTicket, approximate_layer
from stronglth.constructions.malach.scan import BLOCK_VALUES, CHUNK, SELECTIONS
from stronglth.constructions.planning import DEFAULT_MAX_VALUES, ConstructionPlan, bind_options, check_max_values, check_plan
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_malach", "plan_malach", "resolve_block_sizes", "ON_FAILURE", "RATES", "SELECTIONS"]

ON_FAILURE = ("raise", "best_effort")
BASE_MEMORY = 150 * 2**20
"""The interpreter with numpy and scipy, before the construction allocates anything."""
PROGRESS_MIN_READS = 50_000_000
"""With ``progress=None``, a progress bar is shown when the construction reads more values than this."""


def resolve_block_sizes(
    target: TargetNetwork,
    block_sizes: str | Sequence[int],
    *,
    eps: float,
    delta: float,
    rule: str,
    negative_half_everywhere: bool,
) -> tuple[int, ...]:
    """``"theorem"`` (a-priori, docs/theory.md §4, for ``rule``), ``"instance"`` (the target's own
    weights, best-product rule) or an explicit ``[k_1, ..., k_l]``."""
    if isinstance(block_sizes, str):
        if block_sizes == "theorem":
            return bounds.theorem_block_sizes(
                target.dims, eps, delta, rule=rule, negative_half_everywhere=negative_half_everywhere
            )
        if block_sizes == "instance":
            if rule != "best":
                raise InvalidInputError("block_sizes='instance' is the best-product bound: use it with rule='best'")
            return bounds.instance_block_sizes(
                list(target.weights), eps, delta, negative_half_everywhere=negative_half_everywhere
            )
        raise InvalidInputError(
            f"block_sizes must be 'theorem', 'instance' or a list of {target.depth} integers, got {block_sizes!r}"
        )
    if not isinstance(block_sizes, (Sequence, np.ndarray)) or len(block_sizes) != target.depth:
        raise InvalidInputError(
            f"block_sizes must be 'theorem', 'instance' or a list of {target.depth} integers, got {block_sizes!r}"
        )
    return tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))


RATES = {"best": 3.9e8, "matching": 4e8}
"""Values of G scanned per CPU second and process (benchmarks/theorem_scale.py on this project's 2-core
machine: the best rule at 784-500-10, the matching rule at 64-32-10): the rates behind the plan's
time estimate, which is the time on idle cores."""


@dataclass(frozen=True)
class _Resolved:
    eps: float
    delta: float
    seed: int
    rule: str
    selection: str
    negative_half_everywhere: bool
    on_failure: str
    jobs: int
    block_sizes: tuple[int, ...]
    etas: tuple[float, ...]


def _resolve(
    target: TargetNetwork,
    *,
    eps: float,
    delta: float,
    seed: int,
    block_sizes: str | Sequence[int],
    rule: str,
    selection: str,
    negative_half_everywhere: bool,
    on_failure: str,
    jobs: int,
    executor: Any,
) -> _Resolved:
    """Every argument checked, and the block sizes and tolerances they give (no value of G read)."""
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    refuse_leaky("malach", target)
    if target.has_biases:
        raise InvalidInputError(
            "target has biases: method 'malach' builds bias-free targets (docs/theory.md §2-4); method='subsetsum'"
            " builds biases from G's own (docs/theory.md §15)"
        )
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    seed = _validate.seed(seed)
    rule = _validate.choice(rule, "rule", RULES)
    selection = _validate.choice(selection, "selection", SELECTIONS)
    parse_executor(executor)
    negative_half_everywhere = _validate.boolean(negative_half_everywhere, "negative_half_everywhere")
    on_failure = _validate.choice(on_failure, "on_failure", ON_FAILURE)
    jobs = resolve_jobs(jobs)
    ks = resolve_block_sizes(
        target, block_sizes, eps=eps, delta=delta, rule=rule, negative_half_everywhere=negative_half_everywhere
    )
    etas = bounds.per_weight_tolerance(target.dims, eps, negative_half_everywhere=negative_half_everywhere)
    return _Resolved(eps, delta, seed, rule, selection, negative_half_everywhere, on_failure, jobs, ks, etas)


def _plan(target: TargetNetwork, r: _Resolved) -> ConstructionPlan:
    dims = target.dims
    widths = (dims[0],) + tuple(w for i, k in enumerate(r.block_sizes, start=1) for w in (dims[i - 1] * k, dims[i]))
    reads = sum(dims[i - 1] * k * (dims[i] + 1) for i, k in enumerate(r.block_sizes, start=1))
    pieces = sum(dims[i - 1] * max(1, math.ceil(k / PIECE)) for i, k in enumerate(r.block_sizes, start=1))
    buffers = r.jobs * (2 * max(BLOCK_VALUES, CHUNK) + 3 * CHUNK) * 8
    bookkeeping = max(dims[i - 1] * dims[i] for i in range(1, len(dims))) * 136  # Candidates per (o, j)
    parameters = sum(dims[i - 1] * k * (dims[i - 1] + dims[i]) for i, k in enumerate(r.block_sizes, start=1))
    return ConstructionPlan(
        method=f"malach (rule {r.rule})" if r.selection == "best" else f"malach (rule {r.rule}, selection first)",
        target_dims=dims,
        block_sizes=r.block_sizes,
        final=True,
        widths=widths,
        parameter_count=parameters,
        values=reads,
        rate=RATES[r.rule],
        jobs=r.jobs,
        memory=BASE_MEMORY + buffers + bookkeeping + 256 * pieces,
        typical_values=None if r.selection == "best" else _typical_reads(target, r),
    )


OVERSHOOT = 1.4
"""``selection="first"`` reads a row to the end of the (doubling) chunk that holds its last hit:
about 1.4 times the hit's position for positions spread over many chunks."""


def _typical_reads(target: TargetNetwork, r: _Resolved) -> int:
    """What ``selection="first"`` reads on average (docs/theory.md §11): per event the first
    acceptable unit is about ``1 / p`` units in (``p``: :func:`bounds.hit_probability` or
    :func:`bounds.matching_probability` of its weight, per side), a row of ``M_{2i}`` is read to the
    later of its events (``1.5 / p`` for two sides), the column of ``M_{2i-1}`` to the last of its
    block's rows; capped at the block size. An estimate, for the plan."""
    total = 0.0
    for i, (weights, k, eta) in enumerate(zip(target.weights, r.block_sizes, r.etas, strict=True), start=1):
        sides = 2 if (i == 1 or r.negative_half_everywhere) else 1
        a = np.abs(weights)
        p = bounds.hit_probability(a, eta) if r.rule == "best" else bounds.matching_probability(a, eta)
        with np.errstate(divide="ignore"):
            rows = np.minimum(k, OVERSHOOT * (1.5 if sides == 2 else 1.0) / np.asarray(p))
        if r.rule == "best":
            rows = np.where(a <= eta, 0.0, rows)  # the empty side is acceptable: nothing read
        harmonic = float(np.sum(1.0 / np.arange(1, sides * a.shape[0] + 1)))
        column = np.minimum(k, harmonic * rows.max(axis=0, initial=0.0) / (1.5 if sides == 2 else 1.0))
        total += float(rows.sum() + column.sum())
    return int(total)


def plan_malach(target: TargetNetwork, **options: Any) -> ConstructionPlan:
    """The plan of :func:`construct_malach` with the same keyword arguments, before any value of G is read."""
    bound = bind_options(construct_malach, target, options)
    _validate.optional_boolean(bound.pop("progress"), "progress")
    check_max_values(bound.pop("max_values"))  # accepted as construct_malach takes it; the plan is returned whatever its size
    return _plan(target, _resolve(target, **bound))


def construct_malach(
    target: TargetNetwork,
    *,
    eps: float,
    delta: float = 0.05,
    seed: int,
    block_sizes: str | Sequence[int] = "theorem",
    rule: str = "best",
    selection: str = "best",
    negative_half_everywhere: bool = False,
    on_failure: str = "raise",
    jobs: int = 1,
    executor: Any = None,
    progress: bool | None = None,
    max_values: int | float = DEFAULT_MAX_VALUES,
) -> Ticket:
    """A Malach-style ticket: at most two hidden units per target weight, chosen by ``rule``.

    Raises :class:`~stronglth.errors.TicketNotFound` when some ``(layer, output, input, side)``
    has no acceptable unit in its block, unless ``on_failure="best_effort"``, which returns the
    ticket of the best units found with its (larger) certified error. ``selection="first"`` keeps,
    per event, the first acceptable unit in G's order and stops reading there (docs/theory.md §11):
    the same guarantees, far fewer values read; the ticket's ``meta`` then records
    ``"selection": "first"`` and ``"values_read"`` (without them the ticket is ``selection="best"``'s,
    byte for byte as before). ``executor``: where the pieces are scanned (``None``/``"process"``: a
    process pool of ``jobs`` workers; ``"dask-local"``, a Dask scheduler address or a
    ``distributed.Client``; :mod:`stronglth._executors`); the ticket never depends on it. Before reading G it makes its
    plan (:func:`plan_malach`) and raises :class:`~stronglth.errors.TooLargeError` when the plan reads
    more than ``max_values`` values of G.
    """
    progress = _validate.optional_boolean(progress, "progress")
    r = _resolve(
        target, eps=eps, delta=delta, seed=seed, block_sizes=block_sizes, rule=rule, selection=selection,
        negative_half_everywhere=negative_half_everywhere, on_failure=on_failure, jobs=jobs, executor=executor,
    )  # fmt: skip
    plan = _plan(target, r)
    check_plan(plan, max_values)
    ks = r.block_sizes
    network = RandomNetwork.for_target(target, ks, seed=r.seed)
    dims = target.dims
    with ExitStack() as stack:
        pool, _ = stack.enter_context(open_executor(executor, r.jobs))
        bar = None
        if progress or (progress is None and plan.values >= PROGRESS_MIN_READS):
            from tqdm.auto import tqdm

            bar = stack.enter_context(tqdm(total=plan.values, unit="value", unit_scale=True, desc="scanning G", leave=False))
        layers: list[LayerTicket] = []
        for i, (w, k, eta) in enumerate(zip(target.weights, ks, r.etas, strict=True), start=1):
            layer = approximate_layer(
                network, i, w, block_size=k, eta=eta, rule=r.rule, selection=r.selection,
                negative_half=(i == 1 or r.negative_half_everywhere), executor=pool, progress=bar,
            )  # fmt: skip
            if layer.failures and r.on_failure == "raise":
                raise _not_found(layer, k, eta, dims, r.eps, r.delta, r.rule, r.negative_half_everywhere)
            layers.append(layer)

    meta: dict[str, Any] = {
        "method": "malach",
        "eps": r.eps,
        "delta": r.delta,
        "rule": r.rule,
        "block_sizes": list(ks),
        "eta": list(r.etas),
        "negative_half_everywhere": r.negative_half_everywhere,
        "failures": sum(len(layer.failures) for layer in layers),
        "on_failure": r.on_failure,
    }
    if r.selection != "best":  # absent: selection "best", so that its tickets keep their bytes
        meta["selection"] = r.selection
        meta["values_read"] = sum(layer.values_read for layer in layers)
    return stack_layers(target, network, layers, meta)


def _not_found(layer: LayerTicket, k: int, eta: float, dims, eps, delta, rule, negative_half_everywhere) -> TicketNotFound:
    f = layer.failures[0]
    suggested = bounds.theorem_block_sizes(dims, eps, delta, rule=rule, negative_half_everywhere=negative_half_everywhere)[
        f.layer - 1
    ]
    side = "P (u > 0)" if f.side > 0 else "N (u < 0)"
    return TicketNotFound(
        f"width too small: layer {f.layer}, output {f.output}, input {f.input}, side {side}:"
        f" best error {f.best_error:.3g} > eta = {eta:.3g} (rule {rule!r}) among {k} candidates;"
        f" the bounds suggest block size {suggested}"
        f" ({len(layer.failures)} event(s) failed in this layer; on_failure='best_effort' returns the best ticket)"
    )
