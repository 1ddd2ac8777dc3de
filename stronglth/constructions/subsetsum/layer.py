"""One layer of the subset-sum construction (Pensia et al., NeurIPS 2020; docs/theory.md §5).

For each ``(o, j)`` of layer ``i`` the gadget (docs/theory.md §2) takes ``P`` among the units of
block ``j`` with ``u_h > 0``, a subset whose products ``v_oh u_h`` sum to within ``eta`` of ``w_oj``,
and ``N`` among those with ``u_h < 0``, one with ``sum v_oh |u_h|`` within ``eta`` of ``-w_oj`` (the
``N`` half in layer 1 only, or everywhere with ``negative_half_everywhere``), each an exact
subset-sum problem: the sparsest such subset (``objective="sparsest"``,
:func:`~stronglth.constructions.subsetsum.sparse.solve_sparsest`), the closest one
(``"least_error"``, :func:`~stronglth.constructions.subsetsum.solver.solve`, or
:func:`~stronglth.constructions.subsetsum.sparse.solve_small` with ``max_size``), or the closest of
exactly ``subset_size`` units (:func:`~stronglth.constructions.subsetsum.sparse.solve_fixed_size`). The layer's events are cut
into tasks (a set of blocks, a run of outputs) that run serially or in a :class:`WorkerPool`; the
partition depends on the shapes and ``M_{2i-1}`` only, so the ticket never depends on ``jobs``.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import wait
from dataclasses import dataclass

import numpy as np

from stronglth._workers import process_pool
from stronglth.constructions.subsetsum.solver import solve
from stronglth.constructions.subsetsum.sparse import solve_fixed_size, solve_small, solve_sparsest
from stronglth.random_network import RandomNetwork, draw_uniform, line_bit_generator

__all__ = ["OBJECTIVES", "LayerOptions", "SubsetSumLayer", "WorkerPool", "solve_layer_events", "TASK_VALUES", "SOLVE_ELEMENTS"]

TASK_VALUES = 1 << 20
"""Values of ``M_{2i}`` read per task (8 MiB of float64): a task is a set of blocks (and a run of
outputs when one block of all outputs exceeds this), solved in one process."""

SOLVE_ELEMENTS = 1 << 22
"""Rows per solver call are chosen so that rows x 2^(width/2) stays about this size: a running task
notices an abandoned attempt between calls (see ``_abandoned``)."""

OBJECTIVES = ("sparsest", "least_error")
"""Which subset of a block serves a weight: the fewest units within eta, or the least error."""

_SIDES = (+1, -1)  # P side (u > 0, target w), N side (u < 0, target -w)

_generation = None
"""In worker processes: the shared number of the current attempt (a ``multiprocessing.Value``). When
an attempt of ``block_sizes="auto"`` has failed, the parent moves it on, and tasks of the old
attempt still running stop at their next solver call instead of finishing work nobody reads."""


def _init_worker(generation) -> None:
    global _generation
    _generation = generation


def _abandoned(task: _Task) -> bool:
    return _generation is not None and _generation.value != task.generation


# -- one task: a set of blocks, a run of outputs ---------------------------------------------------


@dataclass(frozen=True)
class LayerOptions:
    eta: float  # the per-weight tolerance of the layer
    negative_half: bool  # solve the N side too
    max_size: int | None  # at most this many units per subset
    max_candidates: int  # the first this many candidates of a side (in unit order) are offered to the solver
    stop_on_failure: bool  # stop at the first failed group (attempts of "auto", or on_failure="raise")
    objective: str = "least_error"  # one of OBJECTIVES
    subset_size: int | None = None  # exactly this many units per subset (Natale et al. 2024)

    def solve(self, values: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mask, errors)`` of one group of problems (rows of ``values``) under these options."""
        if self.subset_size is not None:
            return solve_fixed_size(values, targets, self.subset_size)
        if self.objective == "sparsest":
            return solve_sparsest(values, targets, self.eta, self.max_size)
        if self.max_size is not None:
            return solve_small(values, targets, self.max_size)
        return solve(values, targets)


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
    options: LayerOptions
    generation: int


@dataclass(frozen=True)
class _Result:
    task: _Task
    errors: dict[int, np.ndarray]  # side -> (o1 - o0, len(inputs)) signed errors: D+ (side +1), D- (side -1)
    candidates: dict[int, np.ndarray]  # side -> (len(inputs),) candidates solved per block
    short: dict[int, np.ndarray]  # side -> (len(inputs),) True where a block has fewer candidates than subset_size
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
            o, b = np.nonzero((np.abs(err) > t.options.eta) | self.short[side][None, :])
            out += [
                (t.o0 + x, int(t.inputs[y]), side, float(abs(err[x, y])), int(self.candidates[side][y]))
                for x, y in zip(o.tolist(), b.tolist(), strict=False)
            ]
        return sorted(out, key=lambda f: (f[0], f[1], -f[2]))


def _read_rows(network: RandomNetwork, t: int, o0: int, o1: int, inputs: np.ndarray, k: int) -> np.ndarray:
    """``M_t[o, j k : (j+1) k]`` for rows ``o0 <= o < o1`` and blocks ``j`` in ``inputs`` (increasing):
    one generator per row (line), advanced over the gaps, drawing each run of adjacent blocks at once
    (the values of :meth:`RandomNetwork.segment`, exactly)."""
    out = np.empty((o1 - o0, inputs.size * k))
    breaks = np.flatnonzero(np.diff(inputs) != 1) + 1
    runs = list(zip(np.concatenate(([0], breaks)).tolist(), np.concatenate((breaks, [inputs.size])).tolist(), strict=False))
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
    errors, candidates, short, on_side, groups = {}, {}, {}, {}, []
    for side in _SIDES if options.negative_half else _SIDES[:1]:
        on_side[side] = u > 0 if side > 0 else u < 0
        candidates[side] = np.minimum(on_side[side].sum(axis=1), options.max_candidates)  # the first ones in unit order
        short[side] = candidates[side] < (options.subset_size or 0)
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
                continue  # (a failure of its own with subset_size: ``short``)
            pos = np.stack([np.flatnonzero(on_side[side][b])[:width] for b in blocks])  # (len(blocks), width), increasing
            magnitude = np.abs(u[blocks[:, None], pos])  # |u_h|: u on P, -u on N (exact)
            values = v[:, blocks[:, None], pos] * magnitude  # (n_o, len(blocks), width): v_oh |u_h|
            mask, e = options.solve(values.reshape(-1, width), targets.reshape(-1))
            solves += e.size
            errors[side][:, blocks] = e.reshape(n_o, blocks.size)
            o, b, p = np.nonzero(mask.reshape(n_o, blocks.size, width))
            used[blocks[b], pos[b, p]] = True
            h = task.inputs[blocks[b]] * k + pos[b, p]
            second.append(((task.o0 + o).astype(np.int64), h.astype(np.int64), v[o, blocks[b], pos[b, p]]))
        failed = np.any(np.abs(errors[side][:, blocks_of_width]) > options.eta) or short[side][blocks_of_width].any()
        if options.stop_on_failure and failed:
            break
    rows, cols = np.nonzero(used)
    second.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
    second_o, second_h, second_v = (np.concatenate(parts) for parts in zip(*second, strict=False))
    j = task.inputs[rows].astype(np.int64)
    return _Result(task, errors, candidates, short, j * k + cols, j, u[rows, cols], (second_o, second_h, second_v), solves)


def _tasks(
    network: RandomNetwork, layer: int, weights: np.ndarray, k: int, options: LayerOptions, generation: int = 0
) -> list[_Task]:
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
            tasks.append(
                _Task(
                    network,
                    layer,
                    k,
                    inputs,
                    u[inputs],
                    o0,
                    o1,
                    np.ascontiguousarray(weights[o0:o1][:, inputs]),
                    options,
                    generation,
                )
            )
    return tasks


# -- one layer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetSumLayer:
    layer: int
    k: int
    first: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # first, second and d_plus are None unless complete
    second: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    d_plus: np.ndarray | None
    d_minus: np.ndarray | None
    constant: float
    failures: list  # (output, input, side, |error|, candidates); complete unless stopped early
    failed_events: int
    complete: bool
    solves: int


class WorkerPool:
    """Worker processes sharing the attempt number (``_generation``) with this one; they die with
    this process and ignore Ctrl-C (:func:`stronglth._workers.process_pool`)."""

    def __init__(self, jobs: int):
        context = multiprocessing.get_context()
        self.generation = context.Value("q", 0)
        self.executor = process_pool(jobs, mp_context=context, initializer=_init_worker, initargs=(self.generation,))

    def abandon(self, futures) -> None:
        """Give up the current attempt: its queued tasks are cancelled, its running ones stop at
        their next solver call; returns once the workers are free."""
        with self.generation.get_lock():
            self.generation.value += 1
        for future in futures:
            future.cancel()
        wait(futures)


def solve_layer_events(
    network: RandomNetwork,
    layer: int,
    weights: np.ndarray,
    k: int,
    options: LayerOptions,
    pool: WorkerPool | None = None,
    make_bar=None,
) -> SubsetSumLayer:
    """Solve every event of one layer (or, with ``stop_on_failure``, up to the first failing group
    of the first failing task in task order: the same whatever the number of processes)."""
    tasks = _tasks(network, layer, weights, k, options, pool.generation.value if pool else 0)
    negative_half = options.negative_half
    n_out, n_in = weights.shape
    bar = make_bar(layer, k, n_out * n_in * (2 if negative_half else 1)) if make_bar is not None else None
    futures = [pool.executor.submit(_solve_task, task) for task in tasks] if pool is not None else None
    d_plus = np.empty((n_out, n_in))
    d_minus = np.empty((n_out, n_in)) if negative_half else None
    firsts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    seconds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    failures: list[tuple[int, int, int, float, int]] = []
    solves, complete = 0, True
    try:
        for index, task in enumerate(tasks):
            result = futures[index].result() if futures is not None else _solve_task(task)
            # None only for a task of an abandoned attempt, and this attempt is abandoned after the loop
            assert result is not None
            d_plus[task.o0 : task.o1, task.inputs] = result.errors[+1]
            if d_minus is not None:  # (exactly when negative_half)
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
                assert pool is not None  # futures exist only with a pool
                pool.abandon(futures)
        if bar is not None:
            bar.close()
    if not complete:
        return SubsetSumLayer(layer, k, None, None, None, None, math.inf, failures, len(failures), False, solves)
    units, inputs, us = (np.concatenate(parts) for parts in zip(*firsts, strict=False))
    units, first_index = np.unique(units, return_index=True)  # a unit may serve several output runs
    second_o, second_h, second_v = (np.concatenate(parts) for parts in zip(*seconds, strict=False))  # the Ticket sorts them
    # layer 1 reads x, which may be negative: c = ||[D+, D-]||; later layers read y >= 0 (docs/theory.md §3)
    if layer == 1:
        blocks = np.hstack((d_plus, d_minus if d_minus is not None else weights))
    else:
        blocks = d_plus
    constant = float(np.linalg.norm(blocks, 2))
    return SubsetSumLayer(
        layer,
        k,
        (units, inputs[first_index], us[first_index]),
        (second_o, second_h, second_v),
        d_plus,
        d_minus,
        constant,
        failures,
        len(failures),
        True,
        solves,
    )
