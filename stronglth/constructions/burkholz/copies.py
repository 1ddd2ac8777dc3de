"""The copy lemma of the depth ``l + 1`` construction (Burkholz, NeurIPS 2022; docs/theory.md §14.2):
a layer of copies of the target's neurons built from the copies of the layer before, one plain subset
sum per (copy, input).

Target layer ``i >= 2`` reads ``k_i`` copies of every neuron ``j`` of layer ``i - 1`` (G's hidden units
``[j k_i, (j+1) k_i)`` of the layer before) and writes ``c_i`` copies of each of its own ``n_i`` neurons
(rows ``o c_i + c`` of ``M_{i+1}``; ``c_i = k_{i+1}``, and 1 for the output layer). For each row
``r = o c_i + c`` and input ``j`` the kept weights are a subset ``S`` of the ``k_i`` values
``M_{i+1}[r, j k_i + h]`` whose sum is within ``eta_i`` of ``W_i[o, j]``: G's weights themselves are the
subset-sum values (i.i.d. ``U[-1, 1]``), no products, one side only: the kept weights multiply the
copies themselves, so no sign of the input is used (``>= 0`` after a ReLU, either sign after a leaky
ReLU, docs/theory.md §14.6). :func:`solve_copy_layer` works on any
:class:`~stronglth.random_network.RandomNetwork` whose matrix ``M_t`` has those rows and columns;
:func:`copy_events` is the same on plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.constructions.subsetsum.solver import MAX_K, solve
from stronglth.constructions.subsetsum.sparse import solve_sparsest
from stronglth.errors import InvalidInputError

__all__ = ["CopyLayer", "copy_events", "solve_copy_layer", "OBJECTIVES", "ROW_VALUES"]

OBJECTIVES = ("sparsest", "least_error")
"""Which subset serves an event: the fewest values within eta (ties: least error), or the least error."""

ROW_VALUES = 1 << 20
"""Values of ``M_t`` read (and solved) per chunk of rows."""


@dataclass(frozen=True)
class CopyLayer:
    """One copy layer: its kept entries of ``M_t`` (``rows``, ``cols``, ``vals``), the signed errors
    ``d[r, j] = sum_S - W[o, j]`` of every event (rows of ``M_t`` by inputs of the target layer) and the
    failed events ``(row, input, |error|)`` (with ``stop_on_failure``, those of the chunk that failed
    first; ``complete`` is then False and ``d`` holds NaN where nothing was solved)."""

    layer: int
    k: int
    copies: int
    entries: tuple[np.ndarray, np.ndarray, np.ndarray]
    d: np.ndarray
    failures: list[tuple[int, int, float]]
    complete: bool
    solves: int


def _solver(objective: str, eta: float):
    if objective == "sparsest":
        return lambda values, targets: solve_sparsest(values, targets, eta)
    return solve


def copy_events(
    values: Any, weights: Any, copies: int, eta: float, *, objective: str = "sparsest", max_candidates: int = MAX_K
) -> tuple[np.ndarray, np.ndarray]:
    """The copy lemma on plain arrays: ``values`` of shape ``(n_out copies, n_in, k)`` (row ``o copies + c``,
    input ``j``, candidate ``h``), ``weights`` ``W`` of shape ``(n_out, n_in)``. Returns ``(mask, d)``:
    ``mask`` (same shape as ``values``) marks the subset kept for each event, among the first
    ``max_candidates`` candidates of its block; ``d[r, j] = sum of the kept values - W[r // copies, j]``,
    summed in candidate order from 0.0 (the solver's reported error)."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if values.ndim != 3 or weights.ndim != 2 or values.shape[:2] != (weights.shape[0] * copies, weights.shape[1]):
        raise InvalidInputError(
            f"values {values.shape} must be (n_out * copies, n_in, k) for weights {weights.shape}, copies {copies}"
        )
    if objective not in OBJECTIVES:
        raise InvalidInputError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return _events_of_rows(values, np.repeat(weights, copies, axis=0), eta, objective, max_candidates)


def _read(network: Any, t: int, r0: int, r1: int) -> np.ndarray:
    """Rows ``[r0, r1)`` of ``M_t``, the values of :meth:`RandomNetwork.block` (lines are rows for
    even ``t``, columns for odd ``t``: either way each line is read once over the range)."""
    return network.block(t, slice(r0, r1), None)


def solve_copy_layer(
    network: Any,
    t: int,
    layer: int,
    weights: np.ndarray,
    k: int,
    copies: int,
    eta: float,
    *,
    objective: str = "sparsest",
    max_candidates: int = MAX_K,
    stop_on_failure: bool = False,
) -> CopyLayer:
    """Every event of target layer ``layer`` (``>= 2``) in matrix ``M_t`` of ``network``: ``M_t`` has
    ``n_out copies`` rows and ``n_in k`` columns. Rows are read and solved in chunks of about
    :data:`ROW_VALUES` values; with ``stop_on_failure`` it returns after the first chunk with a failed
    event (an attempt of the ``"auto"`` search)."""
    n_out, n_in = weights.shape
    rows_total = n_out * copies
    if network.shapes[t - 1] != (rows_total, n_in * k):
        raise InvalidInputError(f"M_{t} has shape {network.shapes[t - 1]}, layer {layer} needs {(rows_total, n_in * k)}")
    per_chunk = max(1, ROW_VALUES // (n_in * k))
    d = np.full((rows_total, n_in), np.nan)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    failures: list[tuple[int, int, float]] = []
    solves, complete = 0, True
    for r0 in range(0, rows_total, per_chunk):
        r1 = min(rows_total, r0 + per_chunk)
        values = _read(network, t, r0, r1).reshape(r1 - r0, n_in, k)
        block_weights = weights[r0 // copies : (r1 - 1) // copies + 1]
        offset = r0 - (r0 // copies) * copies  # rows of this chunk start at copy `offset` of their neuron
        targets = np.repeat(block_weights, copies, axis=0)[offset : offset + r1 - r0]
        mask, errors = _events_of_rows(values, targets, eta, objective, max_candidates)
        solves += errors.size
        d[r0:r1] = errors
        r, j, h = np.nonzero(mask)
        kept.append(((r0 + r).astype(np.int64), (j * k + h).astype(np.int64), values[r, j, h]))
        bad_r, bad_j = np.nonzero(np.abs(errors) > eta)
        failures += [(r0 + int(a), int(b), float(abs(errors[a, b]))) for a, b in zip(bad_r.tolist(), bad_j.tolist(), strict=True)]
        if failures and stop_on_failure and r1 < rows_total:
            complete = False
            break
    kept.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
    kept_rows, kept_cols, kept_vals = (np.concatenate(part) for part in zip(*kept, strict=True))
    return CopyLayer(layer, k, copies, (kept_rows, kept_cols, kept_vals), d, failures, complete, solves)


def _events_of_rows(
    values: np.ndarray, targets: np.ndarray, eta: float, objective: str, max_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """``copy_events`` for rows whose targets are given row by row (``targets`` of shape ``(rows, n_in)``)."""
    rows, n_in, k = values.shape
    width = min(k, max_candidates)
    chosen, errors = _solver(objective, eta)(values[:, :, :width].reshape(-1, width), targets.reshape(-1))
    mask = np.zeros(values.shape, dtype=bool)
    mask[:, :, :width] = chosen.reshape(rows, n_in, width)
    return mask, errors.reshape(rows, n_in)
