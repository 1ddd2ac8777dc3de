"""The parts of a ticket, checked: the kept entries of each matrix, the kept entries of each bias
vector, and the target's fit to G (docs/theory.md §1.3, §12). :mod:`stronglth.ticket` builds on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth._ticket_format import disorder
from stronglth.errors import InvalidInputError, ShapeError
from stronglth.random_network import RandomNetwork, index_array
from stronglth.target import TargetNetwork

__all__ = ["KeptEntries", "KeptBiases", "kept_entries", "kept_biases", "check_target"]


@dataclass(frozen=True)
class KeptEntries:
    """The kept entries of one matrix ``M_t``: positions ``(rows[i], cols[i])`` and values ``vals[i]``,
    sorted by (row, col), without duplicates."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class KeptBiases:
    """The kept bias entries of one matrix ``M_t``: rows ``rows[i]`` of its bias vector and G's values
    ``vals[i]`` there, sorted, without duplicates (empty where G has no bias line or none is kept)."""

    rows: np.ndarray
    vals: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)


def kept_biases(t: int, entry: Any, network: RandomNetwork) -> KeptBiases:
    """The kept bias entries of ``M_t`` checked (``None``: none kept): integer rows in ``[0, rows_t)``,
    finite float values, as many of each, sorted, none twice, and only where G has a bias line."""
    if isinstance(entry, KeptBiases):
        entry = (entry.rows, entry.vals)
    if entry is None:
        entry = (np.zeros(0, dtype=np.int64), np.zeros(0))
    if not isinstance(entry, (tuple, list)) or len(entry) != 2:
        raise InvalidInputError(f"kept biases of M_{t} must be None or a (rows, vals) pair, got {type(entry).__name__}")
    rows = np.array(index_array(entry[0], f"bias rows of M_{t}"))
    try:
        raw_vals = np.asarray(entry[1])
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"bias vals of M_{t} must be a 1-D float array ({exc})") from None
    if rows.ndim != 1 or raw_vals.ndim != 1 or (raw_vals.size and not np.issubdtype(raw_vals.dtype, np.floating)):
        raise InvalidInputError(
            f"bias rows and vals of M_{t} must be 1-D integer and float arrays, got shapes {rows.shape}, {raw_vals.shape}"
            f" and dtype {raw_vals.dtype}"
        )
    if rows.size != raw_vals.size:
        raise ShapeError(f"bias of M_{t}: rows and vals differ in length ({rows.size}, {raw_vals.size})")
    vals, n_rows = raw_vals.astype(np.float64), network.shapes[t - 1][0]
    if rows.size:
        if network.biases[t - 1] is None:
            raise InvalidInputError(f"M_{t}: {rows.size} kept bias entries, but G has no bias line for M_{t}")
        if rows.min() < 0 or rows.max() >= n_rows:
            bad = int(rows.min()) if rows.min() < 0 else int(rows.max())
            raise ShapeError(f"bias of M_{t}: kept row {bad} out of range [0, {n_rows})")
        if not np.all(np.isfinite(vals)):
            raise InvalidInputError(f"bias of M_{t}: non-finite kept value {vals[~np.isfinite(vals)][0]}")
        order = np.argsort(rows, kind="stable")
        rows, vals = rows[order], vals[order]
        if np.any(repeated := np.diff(rows) == 0):
            raise InvalidInputError(f"bias of M_{t}: row {rows[int(np.flatnonzero(repeated)[0])]} is kept twice")
    for a in (rows, vals):
        a.setflags(write=False)
    return KeptBiases(rows, vals)


def kept_entries(t: int, entry: Any, shape: tuple[int, int]) -> KeptEntries:
    if isinstance(entry, KeptEntries):
        entry = (entry.rows, entry.cols, entry.vals)
    if not isinstance(entry, (tuple, list)) or len(entry) != 3:
        raise InvalidInputError(f"kept entries of M_{t} must be a (rows, cols, vals) triple, got {type(entry).__name__}")
    rows, cols = (np.array(index_array(a, f"{name} of M_{t}")) for a, name in zip(entry[:2], ("rows", "cols"), strict=True))
    for name, a in (("rows", rows), ("cols", cols)):
        if a.ndim != 1:
            raise InvalidInputError(f"{name} of M_{t} must be a 1-D integer array, got shape {a.shape}")
    try:
        raw_vals = np.asarray(entry[2])
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"vals of M_{t} must be a 1-D float array ({exc})") from None
    if raw_vals.ndim != 1 or (raw_vals.size and not np.issubdtype(raw_vals.dtype, np.floating)):
        raise InvalidInputError(f"vals of M_{t} must be a 1-D float array, got dtype {raw_vals.dtype}, shape {raw_vals.shape}")
    if not rows.size == cols.size == raw_vals.size:
        raise ShapeError(f"M_{t}: rows, cols, vals differ in length ({rows.size}, {cols.size}, {raw_vals.size})")
    vals = raw_vals.astype(np.float64)
    if rows.size:
        for name, a, bound in (("row", rows, shape[0]), ("col", cols, shape[1])):
            if a.min() < 0 or a.max() >= bound:
                bad = int(a.min()) if a.min() < 0 else int(a.max())
                raise ShapeError(f"M_{t}: kept {name} {bad} out of range [0, {bound}) for shape {shape}")
        if not np.all(np.isfinite(vals)):
            raise InvalidInputError(f"M_{t}: non-finite kept value {vals[~np.isfinite(vals)][0]}")
        if disorder(rows, cols) is not None:  # the constructor sorts; a file must come sorted (stronglth._npz)
            order = np.lexsort((cols, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            repeated = (np.diff(rows) == 0) & (np.diff(cols) == 0)
            if np.any(repeated):
                i = int(np.flatnonzero(repeated)[0])
                raise InvalidInputError(f"M_{t}: position ({rows[i]}, {cols[i]}) is kept twice")
    for a in (rows, cols, vals):
        a.setflags(write=False)
    return KeptEntries(rows, cols, vals)


def check_target(network: RandomNetwork, target: Any) -> TargetNetwork:
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    if target.d != network.dims[0] or target.dims[-1] != network.dims[-1]:
        raise ShapeError(
            f"target maps R^{target.d} -> R^{target.dims[-1]} but G maps R^{network.dims[0]} -> R^{network.dims[-1]}"
        )
    for i, w in enumerate(target.weights if network.depth == 2 * target.depth else (), start=1):  # G laid out for it
        shape = (network.dims[2 * i], network.dims[2 * i - 2])
        if w.shape != shape:
            raise ShapeError(f"target layer {i} has shape {w.shape}, but G's layout (M_{2 * i - 1}, M_{2 * i}) needs {shape}")
    return target
