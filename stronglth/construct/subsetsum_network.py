"""The subset-sum construction (Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, "Optimal
lottery tickets via SubsetSum: logarithmic over-parameterization is sufficient", NeurIPS 2020;
REFERENCE §2-4): every target weight from a *subset* of a block of random units.

G's layout is Malach's (REFERENCE §3): layer ``i`` of the target is spread over ``M_{2i-1}``
(``(n_{i-1} k_i, n_{i-1})``) and ``M_{2i}`` (``(n_i, n_{i-1} k_i)``); block ``j`` is hidden units
``[j k_i, (j+1) k_i)``, unit ``h`` reads input ``j`` with weight ``u_h = M_{2i-1}[h, j]`` and feeds
output ``o`` with ``v_oh = M_{2i}[o, h]``. For each ``(o, j)`` the gadget (REFERENCE §2)

    g(x) = A s(x) + B s(-x),   A = sum_{h in P} v_oh u_h,   B = sum_{h in N} v_oh |u_h|

takes ``P`` among the units of block ``j`` with ``u_h > 0``, the subset minimising ``|A - w_oj|``,
and ``N`` among those with ``u_h < 0``, the subset minimising ``|B + w_oj|`` (the ``N`` half in layer
1 only, or in every layer with ``negative_half_everywhere``: later inputs are post-ReLU, REFERENCE
§2), each an exact subset-sum problem solved by :func:`stronglth.construct.subsetsum.solve`. The
per-weight errors ``D+ = A - W``, ``D- = B + W`` are the solver's optimum, and the certified error
follows from the layer constants ``c_i`` exactly as for Malach's construction (REFERENCE §3).

Width. Pensia et al. prove that ``k = O(log(N / (delta eta)))`` units per block suffice (by Lueker
1998, random subset sums are dense), with no explicit constant; there is therefore no "theorem"
block size here. ``block_sizes="auto"`` searches, per layer, for a block size at which every event
of *this* G succeeds, starting from the empirical rule ``k = ceil(AUTO_CONSTANT * log2(N_ev /
(delta eta_i)))`` (:data:`AUTO_CONSTANT`: an empirical rule, not a theorem).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth.construct.network import stack_layers
from stronglth.construct.subsetsum import MAX_K, solve
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.random_network import RandomNetwork, draw_uniform, line_bit_generator
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_subsetsum", "auto_start", "AUTO_CONSTANT", "AUTO_MAX_BLOCK", "ON_FAILURE"]

ON_FAILURE = ("raise", "best_effort")

AUTO_CONSTANT = 1.25
"""``C`` of the starting point ``ceil(C log2(N_ev / (delta eta_i)))`` of ``block_sizes="auto"``.

An empirical rule, not a theorem: Pensia et al. (2020) prove ``k = O(log(N / (delta eta)))`` with
no explicit constant (Lueker 1998). Calibrated (``python -m benchmarks.subsetsum_calibrate``,
record ``benchmarks/results/subsetsum_calibrate.json``) by measuring the least block size
``k_min`` at which every event of a layer succeeds, for 13 random targets from 1-1 to 100-100-10
(eps 0.01 to 0.1, or eta 0.003 to 0.03; delta = 0.05) and 5 seeds each, 125 layer runs. The ratio
``k_min / log2(N_ev / (delta eta_i))`` has quantiles 10%: 1.24, 25%: 1.34, median 1.47, 90%: 1.92
(min 0.84; a fat upper tail up to 6.4 for one-weight targets with ``|w|`` near 1). ``C = 1.25``
(about the 10% quantile) starts at or below ``k_min`` in 89% of those runs, a median of 4 units
below. For the 784-500-10 target at eta = 0.01 (seed 0) the start is 39 for both layers and the
search finds 48 (ratio 1.57) and 37."""

AUTO_MAX_BLOCK = 96
"""``block_sizes="auto"`` gives up above this block size (per-weight tolerances near float64's
resolution; at most :data:`~stronglth.construct.subsetsum.MAX_K` candidates per side are solved)."""

TASK_VALUES = 1 << 20
"""Values of ``M_{2i}`` read per task (8 MiB of float64): a task is a set of blocks (and a run of
outputs when one block of all outputs exceeds this), solved in one process."""

SOLVE_ELEMENTS = 1 << 22
"""Rows per solver call are chosen so that rows x 2^(width/2) stays about this size: a running task
notices an abandoned attempt between calls (see ``_abandoned``)."""

PROGRESS_MIN_EVENTS = 200_000
"""With ``progress=None``, a progress bar is shown for layers with at least this many events."""

_SIDES = (+1, -1)  # P side (u > 0, target w), N side (u < 0, target -w)

_generation = None
"""In worker processes: the shared number of the current attempt (a ``multiprocessing.Value``). When
an attempt of ``block_sizes="auto"`` has failed, the parent moves it on, and tasks of the old
attempt still running stop at their next solver call instead of finishing work nobody reads."""


def _init_worker(generation) -> None:
    global _generation
    _generation = generation


def _abandoned(task: "_Task") -> bool:
    return _generation is not None and _generation.value != task.generation


# -- one task: a set of blocks, a run of outputs ---------------------------------------------------


@dataclass(frozen=True)
class _Options:
    eta: float  # the per-weight tolerance of the layer
    negative_half: bool  # solve the N side too
    max_size: int | None  # at most this many units per subset
    max_candidates: int  # the first this many candidates of a side (in unit order) are offered to the solver
    stop_on_failure: bool  # stop at the first failed group (attempts of "auto", or on_failure="raise")


@dataclass(frozen=True)
class _Task:
    network: RandomNetwork
    layer: int
    k: int
    inputs: np.ndarray  # the blocks j of this task, increasing
    u: np.ndarray  # (len(inputs), k): u of those blocks, M_{2i-1}[j k : (j+1) k, j]
    o0: int
    o1: int
    weights: np.ndarray  # W[o0:o1, inputs]
    options: _Options
    generation: int


@dataclass(frozen=True)
class _Result:
    task: _Task
    errors: dict[int, np.ndarray]  # side -> (o1 - o0, len(inputs)) signed errors: D+ (side +1), D- (side -1)
    candidates: dict[int, np.ndarray]  # side -> (len(inputs),) candidates solved per block
    units: np.ndarray  # first-layer entries: unit h, its input j, its u
    unit_inputs: np.ndarray
    unit_weights: np.ndarray
    second: tuple[np.ndarray, np.ndarray, np.ndarray]  # (o, h, v) of every chosen unit
    solves: int

    def failures(self) -> list[tuple[int, int, int, float, int]]:
        """Failed events ``(output, input, side, |error|, candidates)``, ordered by (output, input, side)."""
        out = []
        t = self.task
        for side, err in self.errors.items():
            o, b = np.nonzero(np.abs(err) > t.options.eta)
            out += [(t.o0 + x, int(t.inputs[y]), side, float(abs(err[x, y])), int(self.candidates[side][y]))
                    for x, y in zip(o.tolist(), b.tolist())]
        return sorted(out, key=lambda f: (f[0], f[1], -f[2]))


def _read_rows(network: RandomNetwork, t: int, o0: int, o1: int, inputs: np.ndarray, k: int) -> np.ndarray:
    """``M_t[o, j k : (j+1) k]`` for rows ``o0 <= o < o1`` and blocks ``j`` in ``inputs`` (increasing):
    one generator per row (line), advanced over the gaps, drawing each run of adjacent blocks at once
    (the values of :meth:`RandomNetwork.segment`, exactly)."""
    out = np.empty((o1 - o0, inputs.size * k))
    breaks = np.flatnonzero(np.diff(inputs) != 1) + 1
    runs = list(zip(np.concatenate(([0], breaks)).tolist(), np.concatenate((breaks, [inputs.size])).tolist()))
    for row, o in enumerate(range(o0, o1)):
        bit_generator = line_bit_generator(network.seed, t, o)
        position = 0
        for b0, b1 in runs:
            start = int(inputs[b0]) * k
            bit_generator.advance(start - position)
            draw_uniform(bit_generator, (b1 - b0) * k, out[row, b0 * k : b1 * k])
            position = start + (b1 - b0) * k
    return out.reshape(o1 - o0, inputs.size, k)


def _solve_task(task: _Task) -> _Result | None:
    """Solve every event of the task, in groups of one side and one width (the count of that
    side's candidates; no padding needed), narrowest first. With ``task.stop_on_failure`` it
    returns after the first group with a failed event (the cheapest way to learn that this block
    size is too small); the events left unsolved have error NaN. ``None`` if the attempt was abandoned."""
    k, u, options = task.k, task.u, task.options
    nb, n_o = task.inputs.size, task.o1 - task.o0
    v = _read_rows(task.network, 2 * task.layer, task.o0, task.o1, task.inputs, k)
    used = np.zeros((nb, k), dtype=bool)
    errors, candidates, on_side, groups = {}, {}, {}, []
    for side in _SIDES if options.negative_half else _SIDES[:1]:
        on_side[side] = u > 0 if side > 0 else u < 0
        candidates[side] = np.minimum(on_side[side].sum(axis=1), options.max_candidates)  # the first ones in unit order
        errors[side] = np.full((n_o, nb), np.nan)
        groups += [(width, -side) for width in np.unique(candidates[side]).tolist()]
    second, solves = [], 0
    for width, minus_side in sorted(groups):
        side = -minus_side
        blocks_of_width = np.flatnonzero(candidates[side] == width)
        calls = 1 if width == 0 else max(1, SOLVE_ELEMENTS // (n_o * (2 ** (width // 2 + 1))))
        for start in range(0, blocks_of_width.size, calls):
            if _abandoned(task):
                return None
            blocks = blocks_of_width[start : start + calls]
            targets = side * task.weights[:, blocks]  # P: A ~ w; N: B ~ -w (so that B + w ~ 0)
            if width == 0:
                errors[side][:, blocks] = 0.0 - targets  # the empty subset
                continue
            pos = np.stack([np.flatnonzero(on_side[side][b])[:width] for b in blocks])  # (len(blocks), width), increasing
            magnitude = np.abs(u[blocks[:, None], pos])  # |u_h|: u on P, -u on N (exact)
            values = v[:, blocks[:, None], pos] * magnitude  # (n_o, len(blocks), width): v_oh |u_h|
            mask, e = solve(values.reshape(-1, width), targets.reshape(-1), options.max_size)
            solves += e.size
            errors[side][:, blocks] = e.reshape(n_o, blocks.size)
            o, b, p = np.nonzero(mask.reshape(n_o, blocks.size, width))
            used[blocks[b], pos[b, p]] = True
            h = task.inputs[blocks[b]] * k + pos[b, p]
            second.append(((task.o0 + o).astype(np.int64), h.astype(np.int64), v[o, blocks[b], pos[b, p]]))
        if options.stop_on_failure and np.any(np.abs(errors[side][:, blocks_of_width]) > options.eta):
            break
    rows, cols = np.nonzero(used)
    second.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
    second_entries = tuple(np.concatenate(parts) for parts in zip(*second))
    j = task.inputs[rows].astype(np.int64)
    return _Result(task, errors, candidates, j * k + cols, j, u[rows, cols], second_entries, solves)


def _tasks(network: RandomNetwork, layer: int, weights: np.ndarray, k: int, options: _Options, generation: int = 0) -> list[_Task]:
    """A partition of the layer's events into tasks of about ``TASK_VALUES`` values of ``M_{2i}``,
    hardest blocks first: blocks are ordered by their fewest candidates on a side (ties by ``j``),
    so that a block size too small for this G is usually detected by the first task. The
    partition depends on the shapes and on ``M_{2i-1}`` only, never on ``jobs``."""
    n_out, n_in = weights.shape
    t = 2 * layer - 1
    u = np.empty((n_in, k))
    for j in range(n_in):
        network.segment(t, j, j * k, (j + 1) * k, out=u[j])
    fewest = (u > 0).sum(axis=1)
    if options.negative_half:
        fewest = np.minimum(fewest, (u < 0).sum(axis=1))
    order = np.lexsort((np.arange(n_in), fewest))
    outputs = max(1, min(n_out, TASK_VALUES // k))
    per_task = max(1, TASK_VALUES // (outputs * k))
    tasks = []
    for start in range(0, n_in, per_task):
        inputs = np.sort(order[start : start + per_task])
        for o0 in range(0, n_out, outputs):
            o1 = min(o0 + outputs, n_out)
            tasks.append(_Task(network, layer, k, inputs, u[inputs], o0, o1, np.ascontiguousarray(weights[o0:o1][:, inputs]),
                               options, generation))
    return tasks


# -- one layer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    layer: int
    k: int
    first: tuple[np.ndarray, np.ndarray, np.ndarray]
    second: tuple[np.ndarray, np.ndarray, np.ndarray]
    d_plus: np.ndarray
    d_minus: np.ndarray | None
    constant: float
    failures: list  # (output, input, side, |error|, candidates); complete unless stopped early
    failed_events: int
    complete: bool
    solves: int


class _Pool:
    """Worker processes sharing the attempt number (``_generation``) with this one."""

    def __init__(self, jobs: int):
        context = multiprocessing.get_context()
        self.generation = context.Value("q", 0)
        self.executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(self.generation,))

    def abandon(self, futures) -> None:
        """Give up the current attempt: its queued tasks are cancelled, its running ones stop at
        their next solver call; returns once the workers are free."""
        with self.generation.get_lock():
            self.generation.value += 1
        for future in futures:
            future.cancel()
        wait(futures)


def _run_layer(network: RandomNetwork, layer: int, weights: np.ndarray, k: int, options: _Options, pool: "_Pool | None" = None,
               make_bar=None) -> _Layer:
    """Solve every event of one layer (or, with ``stop_on_failure``, up to the first failing group
    of the first failing task in task order: the same whatever the number of processes)."""
    tasks = _tasks(network, layer, weights, k, options, pool.generation.value if pool else 0)
    negative_half = options.negative_half
    n_out, n_in = weights.shape
    bar = make_bar(layer, k, n_out * n_in * (2 if negative_half else 1)) if make_bar is not None else None
    futures = [pool.executor.submit(_solve_task, task) for task in tasks] if pool is not None else None
    d_plus = np.empty((n_out, n_in))
    d_minus = np.empty((n_out, n_in)) if negative_half else None
    firsts, seconds, failures = [], [], []
    solves, complete = 0, True
    try:
        for index, task in enumerate(tasks):
            result = futures[index].result() if futures is not None else _solve_task(task)
            d_plus[task.o0 : task.o1, task.inputs] = result.errors[+1]
            if negative_half:
                d_minus[task.o0 : task.o1, task.inputs] = result.errors[-1]
            firsts.append((result.units, result.unit_inputs, result.unit_weights))
            seconds.append(result.second)
            failures += result.failures()
            solves += result.solves
            if bar is not None:
                bar.update(result.solves)
            if failures and options.stop_on_failure:
                complete = False
                break
    finally:
        if futures is not None:
            if complete:
                for future in futures:  # after an error: do not wait for the rest
                    future.cancel()
            else:
                pool.abandon(futures)
        if bar is not None:
            bar.close()
    if not complete:
        return _Layer(layer, k, None, None, None, None, math.inf, failures, len(failures), False, solves)
    units, inputs, us = (np.concatenate(parts) for parts in zip(*firsts))
    units, first_index = np.unique(units, return_index=True)  # a unit may serve several output runs
    second = tuple(np.concatenate(parts) for parts in zip(*seconds))  # the Ticket sorts them
    # layer 1 reads x, which may be negative: c = ||[D+, D-]||; later layers read y >= 0 (REFERENCE §3)
    if layer == 1:
        blocks = np.hstack((d_plus, d_minus if d_minus is not None else weights))
    else:
        blocks = d_plus
    constant = float(np.linalg.norm(blocks, 2))
    return _Layer(layer, k, (units, inputs[first_index], us[first_index]), second, d_plus, d_minus, constant,
                  failures, len(failures), True, solves)


# -- block sizes --------------------------------------------------------------------------------------


def auto_start(dims: Sequence[int], etas: Sequence[float], delta: float, *, negative_half_everywhere: bool = False) -> tuple[int, ...]:
    """The starting block sizes of ``block_sizes="auto"``: ``ceil(AUTO_CONSTANT log2(N_ev / (delta eta_i)))``
    (an empirical rule, not a theorem; :data:`AUTO_CONSTANT`)."""
    n_events = bounds.event_count(dims, negative_half_everywhere=negative_half_everywhere)
    return tuple(max(1, math.ceil(AUTO_CONSTANT * math.log2(n_events / (delta * eta)))) for eta in etas)


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


def _auto_layer(target, seed, i, k_start, solve_layer, on_failure) -> tuple[_Layer, list[int]]:
    """Local search from ``k_start``: down while ``k - 1`` succeeds, else up until ``k`` succeeds.
    The result ``k`` succeeds for this G and ``k - 1`` does not (or ``k = 1``)."""
    tried: list[int] = []

    def attempt(k: int) -> _Layer:
        tried.append(k)
        network = RandomNetwork.for_target(target, [k] * target.depth, seed=seed)  # layer i depends on k_i only
        return solve_layer(network, i, k, stop_on_failure=True)

    k = k_start
    found = attempt(k)
    if found.failed_events == 0:
        while k > 1:
            lower = attempt(k - 1)
            if lower.failed_events:
                break
            k, found = k - 1, lower
        return found, tried
    while k < AUTO_MAX_BLOCK:
        k += 1
        found = attempt(k)
        if found.failed_events == 0:
            return found, tried
    if on_failure == "raise":
        raise TicketNotFound(
            f"block_sizes='auto': no block size up to {AUTO_MAX_BLOCK} makes every event of layer {i} succeed for seed {seed}"
            f" ({found.failed_events} or more failed at k = {k}); the per-weight tolerance may be too small for float64"
            " or for max_candidates; or pass explicit block sizes with on_failure='best_effort'"
        )
    network = RandomNetwork.for_target(target, [k] * target.depth, seed=seed)
    return solve_layer(network, i, k, stop_on_failure=False), tried


# -- the construction ------------------------------------------------------------------------------


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
) -> Ticket:
    """A subset-sum ticket (Pensia et al. 2020): per target weight, the subsets ``P`` (``u > 0``) and
    ``N`` (``u < 0``, layer 1 or every layer with ``negative_half_everywhere``) of its block that
    solve subset-sum exactly (module docstring; REFERENCE §2-3).

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
        max_size: at most this many units per subset (passed to the solver).
        max_candidates: offer the solver only the first this many candidates of a side (in unit
            order); ``None``: up to the solver's limit :data:`~stronglth.construct.subsetsum.MAX_K`
            (40). The cost of a side grows like ``2^(n/2)`` in its ``n`` candidates, while success
            is decided by the sides with *few* candidates; in a block of ``k`` units the larger side
            can hold far more than ``k / 2`` (capping it, e.g. at 24, bounds the time of wide
            blocks without changing any side below the cap).
        on_failure: ``"raise"`` (:class:`~stronglth.errors.TicketNotFound` naming the first failed
            event) or ``"best_effort"`` (the ticket of the optimal subsets, with its larger certified error).
        jobs: processes over runs of blocks; the ticket is identical for any ``jobs``.
        progress: tqdm bars per layer (``None``: for layers of at least ``PROGRESS_MIN_EVENTS`` events).

    ``C = AUTO_CONSTANT = 1.25`` is an empirical rule, not a theorem: measured over 125 layer runs
    (random targets 1-1 to 100-100-10, eps 0.01 to 0.1 or eta 0.003 to 0.03, 5 seeds), ``k_min / log2(N_ev / (delta
    eta_i))`` has its 10% quantile at 1.24 and median 1.47, so the search usually starts at or a
    few units below the least block size and steps up (details at :data:`AUTO_CONSTANT`; script
    ``benchmarks/subsetsum_calibrate.py``). Attempts below the needed size are cheap: blocks are
    solved hardest first (fewest candidates on a side), narrowest side first, and an attempt
    stops at its first failed event.
    """
    started = time.perf_counter()
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    negative_half_everywhere = bool(negative_half_everywhere)
    eps, etas = _resolve_etas(target, eps, eta, negative_half_everywhere)
    delta = _validate.positive_float(delta, "delta")
    if not delta < 1:
        raise InvalidInputError(f"delta must lie in (0, 1), got {delta}")
    seed = _validate.seed(seed)
    if on_failure not in ON_FAILURE:
        raise InvalidInputError(f"on_failure must be one of {ON_FAILURE}, got {on_failure!r}")
    jobs = _validate.positive_int(jobs, "jobs")
    if max_size is not None and (isinstance(max_size, (bool, np.bool_)) or not isinstance(max_size, (int, np.integer)) or max_size < 0):
        raise InvalidInputError(f"max_size must be None or a non-negative integer, got {max_size!r}")
    max_candidates = MAX_K if max_candidates is None else _validate.positive_int(max_candidates, "max_candidates")
    if max_candidates > MAX_K:
        raise InvalidInputError(f"max_candidates must be at most {MAX_K} (the exact solver's limit), got {max_candidates}")
    explicit = _resolve_block_sizes(target, block_sizes)
    dims = target.dims
    starts = auto_start(dims, etas, delta, negative_half_everywhere=negative_half_everywhere)

    with ExitStack() as stack:
        pool = _Pool(jobs) if jobs > 1 else None
        if pool is not None:
            stack.enter_context(pool.executor)

        def bar(layer: int, k: int, events: int):
            if progress or (progress is None and events >= PROGRESS_MIN_EVENTS):
                from tqdm.auto import tqdm

                return tqdm(total=events, unit="solve", unit_scale=True, desc=f"subset-sum layer {layer}, k={k}", leave=False)
            return None

        def solve_layer(network: RandomNetwork, i: int, k: int, *, stop_on_failure: bool) -> _Layer:
            options = _Options(etas[i - 1], i == 1 or negative_half_everywhere, max_size, max_candidates, stop_on_failure)
            return _run_layer(network, i, target.weights[i - 1], k, options, pool, bar)

        layers: list[_Layer] = []
        tried: list[list[int]] = []
        if explicit is None:
            for i in range(1, target.depth + 1):
                layer, attempts = _auto_layer(target, seed, i, starts[i - 1], solve_layer, on_failure)
                layers.append(layer)
                tried.append(attempts)
            ks = tuple(layer.k for layer in layers)
        else:
            ks = explicit
            network = RandomNetwork.for_target(target, ks, seed=seed)
            for i, k in enumerate(ks, start=1):
                layer = solve_layer(network, i, k, stop_on_failure=on_failure == "raise")
                if layer.failed_events and on_failure == "raise":
                    raise _not_found(layer, etas[i - 1], starts[i - 1])
                layers.append(layer)
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
        "failures": sum(layer.failed_events for layer in layers),
        "solves": sum(layer.solves for layer in layers),
        "on_failure": on_failure,
    }
    return stack_layers(target, network, layers, meta, started=started)


def _not_found(layer: _Layer, eta: float, k_auto: int) -> TicketNotFound:
    output, input_, side, error, candidates = layer.failures[0]
    side_name = "P (u > 0)" if side > 0 else "N (u < 0)"
    more = "" if layer.complete else " or more"
    return TicketNotFound(
        f"width too small: layer {layer.layer}, output {output}, input {input_}, side {side_name}:"
        f" best error {error:.3g} > eta = {eta:.3g} with block size {layer.k} ({candidates} candidates on this side);"
        f" the 'auto' rule (empirical, not a theorem) suggests block size {k_auto} to start from:"
        f" block_sizes='auto' searches for one that works ({layer.failed_events}{more} event(s) failed in this layer;"
        " on_failure='best_effort' returns the best ticket)"
    )
