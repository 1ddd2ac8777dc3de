"""The layer lemma (docs/theory.md §3): one target layer from two layers of G, all outputs at once.

Layer ``i`` of the target, ``W`` of shape ``(n_out, n_in)``, is spread over ``M_{2i-1}``
(``(n_in k, n_in)``) and ``M_{2i}`` (``(n_out, n_in k)``): block ``j`` is hidden units
``[j k, (j+1) k)``, all reading input coordinate ``j``. For each ``(o, j)`` the weight gadget
(:mod:`stronglth.constructions.malach.gadget`) chooses units of block ``j``; the units are shared between
outputs. The ticket's pre-activation is then

    z(y) = W y + D+ s(y) + D- s(-y),   D+ = A - W,   D- = B + W,
    ||z(y) - W y|| <= c ||y||,          c = ||[D+, D-]||_2,

and ``c = ||D+||_2`` when the input is post-ReLU (``y >= 0``) and the ``N`` half is left out.

G is read as a stream: each block is cut into pieces, each piece scanned chunk by chunk from the
lines of ``M_{2i-1}`` (one column segment) and ``M_{2i}`` (one row segment per output), never as a
dense matrix (:mod:`stronglth.constructions.malach.scan`); pieces run in parallel on an executor (a
process pool, Dask). The choice is the gadget's, exactly: the least error, ties towards the lowest
unit index (``selection="best"``), or the first acceptable unit (``"first"``, docs/theory.md §11),
whatever the chunking, the pieces or the executor.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from stronglth._executors import run_chains, run_tasks
from stronglth.constructions.malach.gadget import RULES
from stronglth.constructions.malach.scan import NONE, SELECTIONS, Candidates, Piece, scan_piece
from stronglth.errors import InvalidInputError
from stronglth.random_network import RandomNetwork

__all__ = ["LayerTicket", "WeightFailure", "approximate_layer"]

PIECE = 1 << 22
"""Units per parallel task: blocks longer than this are split so that processes stay balanced."""

_SIDES = (+1, -1)  # P side (u > 0), N side (u < 0)


@dataclass(frozen=True)
class WeightFailure:
    """A gadget event that met no acceptable candidate: layer, output ``o``, input ``j``, side
    (``+1``: the ``P`` half, ``u > 0``; ``-1``: the ``N`` half), and the least error found."""

    layer: int
    output: int
    input: int
    side: int
    best_error: float


@dataclass(frozen=True)
class LayerTicket:
    """The result of the layer lemma for layer ``i``.

    ``first`` and ``second``: kept entries ``(rows, cols, vals)`` of ``M_{2i-1}`` and ``M_{2i}``.
    ``d_plus = A - W`` and ``d_minus = B + W`` (``None`` without the ``N`` half); ``constant`` is
    the ``c_i`` of docs/theory.md §3; ``failures`` the events with no acceptable candidate (their best
    candidate, or none, is used in the entries).
    """

    layer: int
    first: tuple[np.ndarray, np.ndarray, np.ndarray]
    second: tuple[np.ndarray, np.ndarray, np.ndarray]
    d_plus: np.ndarray
    d_minus: np.ndarray | None
    constant: float
    failures: tuple[WeightFailure, ...]
    values_read: int = 0


# -- the layer ---------------------------------------------------------------------------------


def _block_pieces(network: RandomNetwork, layer: int, weights: np.ndarray, j: int, k: int, eta: float, rule: str,
                  selection: str, sides: int, rows: np.ndarray | None = None) -> list[Piece]:  # fmt: skip
    """Block ``j`` cut into pieces of at most :data:`PIECE` units, in unit order."""
    n_pieces = max(1, math.ceil(k / PIECE))
    size = math.ceil(k / n_pieces)
    w = np.ascontiguousarray(weights[:, j])
    t = 2 * layer - 1
    return [
        Piece(network, t, j, j * k + start, min(size, k - start), w, eta, rule, selection, sides, rows)
        for start in range(0, k, size)
    ]


def _pieces(network: RandomNetwork, layer: int, weights: np.ndarray, k: int, eta: float, rule: str,
            selection: str = "best", sides: int = 2) -> Iterator[Piece]:  # fmt: skip
    """Every piece of the layer, block by block (what ``selection="best"`` reads)."""
    for j in range(weights.shape[1]):
        yield from _block_pieces(network, layer, weights, j, k, eta, rule, selection, sides)


def approximate_layer(
    network: RandomNetwork,
    layer: int,
    weights: np.ndarray,
    *,
    block_size: int,
    eta: float,
    rule: str = "best",
    selection: str = "best",
    negative_half: bool = True,
    executor: Executor | None = None,
    progress=None,
) -> LayerTicket:
    """Apply the weight gadget to every ``(o, j)`` of layer ``layer`` (1-based) at once
    (docs/theory.md §3), reading ``M_{2i-1}`` and ``M_{2i}`` of ``network`` as streams.

    Args:
        weights: the target layer ``W_i``, shape ``(n_out, n_in)``.
        block_size: ``k_i``, the units per input coordinate (``network`` must have been built with it).
        eta: the per-weight tolerance ``eta_i``; an event whose least error exceeds it (rule
            ``"best"``), or that has no unit in the sufficient event (rule ``"matching"``), is
            reported in ``failures`` and filled with the best unit found (or none).
        selection: ``"best"`` (the least error in the block) or ``"first"`` (the first acceptable
            unit in unit order, docs/theory.md §11; reading stops there). A failed event is filled
            as with ``"best"`` (its block is read to the end, then once more for the best unit).
        negative_half: keep the ``N`` side (needed in layer 1 only: later inputs are post-ReLU).
        executor: a :class:`concurrent.futures.Executor` (a process pool, a Dask client's
            executor) to scan pieces in parallel; ``None`` scans in this process.
        progress: an object with ``update(n)`` (e.g. tqdm) advanced by the values read.
    """
    if rule not in RULES:
        raise InvalidInputError(f"unknown rule {rule!r}; choose one of {RULES}")
    if selection not in SELECTIONS:
        raise InvalidInputError(f"unknown selection {selection!r}; choose one of {SELECTIONS}")
    n_out, n_in = weights.shape
    t = 2 * layer - 1
    if network.shapes[t - 1] != (n_in * block_size, n_in) or network.shapes[t] != (n_out, n_in * block_size):
        raise InvalidInputError(
            f"layer {layer}: G has shapes {network.shapes[t - 1]}, {network.shapes[t]} but W {weights.shape}"
            f" with block size {block_size} needs {(n_in * block_size, n_in)}, {(n_out, n_in * block_size)}"
        )
    sides = 2 if negative_half else 1
    if selection == "best":
        pieces = list(_pieces(network, layer, weights, block_size, eta, rule, "best", sides))
        per_input = [Candidates(n_out) for _ in range(n_in)]
        for piece, found in zip(pieces, run_tasks(executor, scan_piece, pieces), strict=True):
            per_input[piece.j].merge(found)
            if progress is not None:
                progress.update(found.values_read)
    else:
        per_input = _scan_first(network, layer, weights, block_size, eta, rule, sides, executor, progress)
    ticket = _assemble(layer, weights, per_input, eta, rule, negative_half)
    return dataclasses.replace(ticket, values_read=sum(c.values_read for c in per_input))


def _scan_first(network, layer, weights, k, eta, rule, sides, executor, progress) -> list[Candidates]:
    """``selection="first"``: the pieces of a block one after the other, each reading only the
    outputs whose events are still open, every block's chain in parallel; a block whose events
    stay open to its end is scanned again for them with ``selection="best"`` (the fallback of a
    failed event). The result depends on neither the executor nor the order tasks finish in."""
    n_out, n_in = weights.shape
    blocks = [_block_pieces(network, layer, weights, j, k, eta, rule, "first", sides) for j in range(n_in)]
    per_input = [Candidates(n_out) for _ in range(n_in)]
    failed: dict[int, np.ndarray] = {}
    position = [0] * n_in

    def open_rows(j: int) -> np.ndarray:
        still = ~per_input[j].found[:, :sides].all(axis=1)
        if rule == "best":
            still &= np.abs(weights[:, j]) > eta  # the empty side is acceptable
        return np.flatnonzero(still)

    def next_task(j: int, result: Candidates | None) -> Piece | None:
        if result is not None:
            per_input[j].merge_first(result)
            if progress is not None:
                progress.update(result.values_read)
        rows = open_rows(j)
        if rows.size == 0:
            return None
        if position[j] == len(blocks[j]):
            failed[j] = rows
            return None
        piece = dataclasses.replace(blocks[j][position[j]], rows=rows if position[j] else None)
        position[j] += 1
        return piece

    run_chains(executor, scan_piece, {j: next_task(j, None) for j in range(n_in)}, next_task)
    if failed:
        rescans = [dataclasses.replace(p, selection="best", rows=failed[j]) for j in sorted(failed) for p in blocks[j]]
        fallback = {j: Candidates(n_out) for j in failed}
        for piece, found in zip(rescans, run_tasks(executor, scan_piece, rescans), strict=True):
            fallback[piece.j].merge(found)
        for j in failed:
            target, source = per_input[j], fallback[j]
            events = ~target.found  # only the events that stayed open: the others keep their first unit
            events[:, sides:] = False
            if rule == "best":
                events &= (np.abs(weights[:, j]) > eta)[:, None]
            for name in ("error", "unit", "u", "v"):
                getattr(target, name)[events] = getattr(source, name)[events]
            target.values_read += source.values_read
    return per_input


def _assemble(
    layer: int, weights: np.ndarray, per_input: list[Candidates], eta: float, rule: str, negative_half: bool
) -> LayerTicket:
    """The kept entries, ``D+``, ``D-`` and the failed events, all events at once (axes: input
    ``j``, output ``o``, side), with the float operations of the gadget's rule."""
    n_out, n_in = weights.shape
    n_sides = 2 if negative_half else 1
    kept = {name: np.stack([getattr(c, name)[:, :n_sides, :] for c in per_input]) for name in ("error", "unit", "u", "v")}
    error, unit, u, v = (kept[name][..., 0] for name in ("error", "unit", "u", "v"))
    w = np.broadcast_to(weights.T[:, :, None], error.shape)
    if rule == "best":
        unit = np.where((unit == NONE) | (np.abs(w) <= error), NONE, unit)  # no unit is at least as good
        accepted = np.where(unit == NONE, np.abs(w), error) <= eta
    else:
        accepted = unit != NONE
        # best effort: the better of the fallback unit (slot 1) and no unit
        fallback = np.where((kept["unit"][..., 1] == NONE) | (np.abs(w) <= kept["error"][..., 1]), NONE, kept["unit"][..., 1])
        unit = np.where(accepted, unit, fallback)
        u = np.where(accepted, u, kept["u"][..., 1])
        v = np.where(accepted, v, kept["v"][..., 1])
    side = np.array(_SIDES[:n_sides], dtype=np.float64)[None, None, :]
    with np.errstate(invalid="ignore"):  # v u - w of the events that keep no unit is not used
        signed = np.where(unit == NONE, -side * w, side * (v * u - w))  # P: A - w = v u - w; N: B + w = v |u| + w
    failures = tuple(
        WeightFailure(layer, int(o), int(j), int(_SIDES[s]), float(abs(signed[j, o, s])))
        for j, o, s in zip(*np.nonzero(~accepted), strict=True)
    )
    d_plus = np.ascontiguousarray(signed[:, :, 0].T)
    d_minus = np.ascontiguousarray(signed[:, :, 1].T) if negative_half else None
    chosen = unit != NONE
    inputs = np.broadcast_to(np.arange(n_in)[:, None, None], unit.shape)[chosen]
    outputs = np.broadcast_to(np.arange(n_out)[None, :, None], unit.shape)[chosen]
    units, where = np.unique(unit[chosen], return_index=True)
    first_entries = (units.astype(np.int64), inputs[where].astype(np.int64), u[chosen][where].astype(np.float64))
    second_entries = (outputs.astype(np.int64), unit[chosen].astype(np.int64), v[chosen].astype(np.float64))
    # layer 1 reads x, which may be negative: c = ||[D+, D-]||; later layers read y = s(.) >= 0,
    # where s(-y) = 0 and c = ||D+|| is the whole story even if the N half is kept
    if layer == 1:  # without the N half, B = 0 and D- = W: negative inputs are simply lost
        blocks = np.hstack((d_plus, d_minus if d_minus is not None else weights))
    else:
        blocks = d_plus
    constant = float(np.linalg.norm(blocks, 2))
    return LayerTicket(layer, first_entries, second_entries, d_plus, d_minus, constant, failures)
