"""Tickets: binary masks over a random network G, i.e. weight-subnetworks (docs/theory.md §1).

A :class:`Ticket` keeps, for each matrix ``M_t`` of G, a set of positions and G's values there.
It computes ``G`` with ``S_t * M_t`` in place of ``M_t``; its weights are G's own, never rescaled
(:meth:`Ticket.audit` regenerates every kept value and compares bit for bit). Evaluation goes
through the kept entries and the live units only, so a ticket inside a G of billions of weights
evaluates as fast as the small network it really is.

The file format "stronglth-ticket/1" is specified in the README; :mod:`stronglth._npz` reads it,
bounded: memory and time in what a file really holds. The same ticket is saved as the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from stronglth import _io, _npz, _validate
from stronglth._npz import TICKET_FORMAT, meta_field_problem
from stronglth._version import __version__
from stronglth.errors import InvalidInputError, ShapeError, TicketAuditError, TicketFormatError, TooLargeError
from stronglth.gadget_form import recomputed_certified_error
from stronglth.random_network import GENERATOR, RandomNetwork, index_array
from stronglth.relu import ReLUNetwork
from stronglth.target import TargetNetwork

if TYPE_CHECKING:
    import torch

__all__ = ["Ticket", "KeptEntries", "TICKET_FORMAT"]

COMPACT_MAX_ENTRIES = 2**28
""":meth:`Ticket.compact` refuses a dense matrix of more entries than this (2 GiB of float64)."""


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
class _Live:
    """A ticket's live units: G's indices of those of each hidden layer; for each ``M_t``, which kept
    entries join live units and their rows and columns among the live units (inputs, outputs: G's)."""

    units: list[np.ndarray]
    keeps: list[np.ndarray]
    rows: list[np.ndarray]
    cols: list[np.ndarray]


def _kept_entries(t: int, entry: Any, shape: tuple[int, int]) -> KeptEntries:
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
        if _npz.disorder(rows, cols) is not None:  # the constructor sorts; a file must come sorted (stronglth._npz)
            order = np.lexsort((cols, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            repeated = (np.diff(rows) == 0) & (np.diff(cols) == 0)
            if np.any(repeated):
                i = int(np.flatnonzero(repeated)[0])
                raise InvalidInputError(f"M_{t}: position ({rows[i]}, {cols[i]}) is kept twice")
    for a in (rows, cols, vals):
        a.setflags(write=False)
    return KeptEntries(rows, cols, vals)


def _check_target(network: RandomNetwork, target: Any) -> TargetNetwork:
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


class Ticket:
    """A weight-subnetwork of a :class:`~stronglth.RandomNetwork`.

    Args:
        network: the random network G.
        entries: one ``(rows, cols, vals)`` triple (or :class:`KeptEntries`) per matrix ``M_1 .. M_2l``.
        target: the target network the ticket approximates, if any (saved with the ticket).
        certified_error: an a-posteriori bound on ``sup_B |ticket - target|``, set by constructions.
        meta: JSON-serialisable facts about how the ticket was made (method, eps, delta, ...).

    The constructor checks shapes and ranges but not the values: :meth:`audit` does that, and
    :meth:`load` always audits. Use :meth:`from_positions` to take the values from G.
    """

    def __init__(
        self,
        network: RandomNetwork,
        entries: Sequence[Any],
        *,
        target: TargetNetwork | None = None,
        certified_error: float | None = None,
        meta: Mapping[str, Any] | None = None,
    ):
        if not isinstance(network, RandomNetwork):
            raise InvalidInputError(f"network must be a RandomNetwork, got {type(network).__name__}")
        if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, (Sequence, np.ndarray)):
            raise InvalidInputError(f"entries must be a sequence of (rows, cols, vals) triples, got {type(entries).__name__}")
        if len(entries) != network.depth:
            raise ShapeError(f"need kept entries for each of the {network.depth} matrices of G, got {len(entries)}")
        self.network = network
        self._entries = tuple(_kept_entries(t, e, network.shapes[t - 1]) for t, e in enumerate(entries, start=1))
        self.target = None if target is None else _check_target(network, target)
        if certified_error is not None:
            if (problem := meta_field_problem("certified_error", certified_error)) is not None:
                raise InvalidInputError(problem)
            certified_error = float(certified_error)
        self.certified_error = certified_error
        self.meta = _npz.check_ticket_meta(meta)
        self._live: _Live | None = None
        self._compact: tuple[sp.csr_matrix, ...] | None = None

    @classmethod
    def from_positions(cls, network: RandomNetwork, positions: Sequence[tuple[Any, Any]], **kwargs: Any) -> Ticket:
        """A ticket keeping positions ``(rows, cols)`` of each ``M_t`` (integer arrays or Python ints;
        floats are refused), with G's values filled in."""
        if not isinstance(network, RandomNetwork):
            raise InvalidInputError(f"network must be a RandomNetwork, got {type(network).__name__}")
        if isinstance(positions, (str, bytes, Mapping)) or not isinstance(positions, (Sequence, np.ndarray)):
            raise InvalidInputError(f"positions must be a sequence of (rows, cols) pairs, got {type(positions).__name__}")
        if len(positions) != network.depth:
            raise ShapeError(f"need positions for each of the {network.depth} matrices of G, got {len(positions)}")
        entries = []
        for t, pair in enumerate(positions, start=1):
            if isinstance(pair, (str, bytes)) or not isinstance(pair, (Sequence, np.ndarray)) or len(pair) != 2:
                raise InvalidInputError(f"positions of M_{t} must be a (rows, cols) pair, got {type(pair).__name__}")
            rows, cols = index_array(pair[0], f"rows of M_{t}"), index_array(pair[1], f"cols of M_{t}")
            entries.append((rows, cols, network.values_at(t, rows, cols)))
        return cls(network, entries, **kwargs)

    # -- size -------------------------------------------------------------------------------
    def kept(self, t: int) -> KeptEntries:
        """The kept entries of ``M_t`` (1-based ``t``)."""
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= self.network.depth:
            raise InvalidInputError(f"t must be in 1..{self.network.depth}, got {t!r}")
        return self._entries[int(t) - 1]

    @property
    def entries(self) -> tuple[KeptEntries, ...]:
        return self._entries

    @property
    def nnz(self) -> int:
        """Number of kept weights."""
        return sum(len(e) for e in self._entries)

    @property
    def density(self) -> float:
        """Fraction of G's weights kept."""
        return self.nnz / self.network.parameter_count

    # -- the function -----------------------------------------------------------------------
    def _live_units(self) -> _Live:
        """The live units of each hidden layer and the kept entries between live units, relabelled.

        A hidden unit is live when some path of kept weights reaches it from the input and some
        path leads from it to the output. Any other unit contributes nothing: one that no path
        reaches has pre-activation 0 and output ``s(0) = 0``; one with no path onwards is unread.
        Everything here costs time and memory in the number of kept entries, never in G's widths.
        """
        if self._live is not None:
            return self._live
        entries, depth = self._entries, len(self._entries)
        # hidden layer t: the units some kept entry touches, relabelled 0, 1, ... in G's order
        touched = [np.unique(np.concatenate((entries[t - 1].rows, entries[t].cols))) for t in range(1, depth)]
        rows = [np.searchsorted(touched[t - 1], e.rows) for t, e in enumerate(entries[:-1], start=1)] + [entries[-1].rows]
        cols = [entries[0].cols] + [np.searchsorted(touched[t - 2], e.cols) for t, e in enumerate(entries[1:], start=2)]
        reach: dict[int, np.ndarray] = {}  # reach[t]: touched units of layer t fed by kept paths from the input
        for t in range(1, depth):
            reach[t] = np.zeros(touched[t - 1].size, dtype=bool)
            reach[t][rows[t - 1] if t == 1 else rows[t - 1][reach[t - 1][cols[t - 1]]]] = True
        leads: dict[int, np.ndarray] = {}  # leads[t]: those with kept paths onwards to the output
        for t in range(depth - 1, 0, -1):
            leads[t] = np.zeros(touched[t - 1].size, dtype=bool)
            leads[t][cols[t] if t == depth - 1 else cols[t][leads[t + 1][rows[t]]]] = True
        live = {t: reach[t] & leads[t] for t in range(1, depth)}
        new = {t: np.cumsum(live[t]) - 1 for t in live}  # index among the live units of layer t
        keeps, new_rows, new_cols = [], [], []
        for t in range(1, depth + 1):
            keep = np.ones(len(entries[t - 1]), dtype=bool)
            if t < depth:
                keep &= live[t][rows[t - 1]]
            if t > 1:
                keep &= live[t - 1][cols[t - 1]]
            keeps.append(keep)
            new_rows.append(rows[t - 1][keep] if t == depth else new[t][rows[t - 1][keep]])
            new_cols.append(cols[t - 1][keep] if t == 1 else new[t - 1][cols[t - 1][keep]])
        self._live = _Live([touched[t - 1][live[t]] for t in range(1, depth)], keeps, new_rows, new_cols)
        return self._live

    def _live_matrices(self) -> tuple[sp.csr_matrix, ...]:
        """The kept entries between live units, as sparse matrices (inputs and outputs all kept)."""
        if self._compact is None:
            live = self._live_units()
            widths = [self.network.dims[0]] + [u.size for u in live.units] + [self.network.dims[-1]]
            self._compact = tuple(
                sp.csr_matrix((e.vals[keep], (r, c)), shape=(widths[t], widths[t - 1]))
                for t, (e, keep, r, c) in enumerate(zip(self._entries, live.keeps, live.rows, live.cols, strict=True), start=1)
            )
        return self._compact

    @property
    def live_widths(self) -> tuple[int, ...]:
        """Number of live units in each hidden layer of G."""
        return tuple(u.size for u in self._live_units().units)

    def forward(self, X: Any) -> np.ndarray:
        """Evaluate the ticket at ``X`` of shape ``(N, d)`` (or ``(d,)``) through its kept entries."""
        x, single = _validate.inputs(X, self.network.dims[0])
        h = x.T
        matrices = self._live_matrices()
        for t, m in enumerate(matrices, start=1):
            h = m @ h
            if t < len(matrices):
                np.maximum(h, 0.0, out=h)
        out = np.ascontiguousarray(h.T)
        return out[0] if single else out

    __call__ = forward

    def compact(self) -> ReLUNetwork:
        """The equivalent small dense network: dead units removed, the same function. Raises
        :class:`~stronglth.errors.TooLargeError` for a matrix of more than ``COMPACT_MAX_ENTRIES``
        (2**28) entries (G's input and output widths are kept: use :meth:`forward` for those)."""
        matrices = self._live_matrices()
        for t, m in enumerate(matrices, start=1):
            if m.shape[0] * m.shape[1] > COMPACT_MAX_ENTRIES:
                raise TooLargeError(
                    f"the compacted M_{t} would be a dense {m.shape[0]:,} x {m.shape[1]:,} matrix, above the limit of"
                    f" {COMPACT_MAX_ENTRIES:,} entries; evaluate the ticket with forward() instead"
                )
        return ReLUNetwork([m.toarray() for m in matrices])

    def to_torch(self, dtype: torch.dtype | str | None = None) -> torch.nn.Sequential:
        """An ``nn.Module`` computing the same function (the compacted network). ``dtype``: a torch
        floating-point dtype or the strings ``"float32"`` / ``"float64"``; float64 by default."""
        return self.compact().to_torch(dtype)

    # -- the contract: a true subnetwork ---------------------------------------------------------
    def audit(self) -> Ticket:
        """Regenerate every kept value from G and raise :class:`~stronglth.errors.TicketAuditError`
        unless all are identical, bit for bit; then recompute the certified bound from the kept
        weights (:func:`stronglth.gadget_form.recomputed_certified_error`, for tickets in the gadget
        form of the constructions) and raise unless the stored ``certified_error`` is at least the
        recomputed one (up to rounding, a relative 1e-9): a ticket never claims a bound smaller than
        its weights give. Returns ``self``."""
        for t, e in enumerate(self._entries, start=1):
            if not len(e):
                continue
            expected = self.network.values_at(t, e.rows, e.cols)
            differs = expected.view(np.int64) != e.vals.view(np.int64)
            if np.any(differs):
                i = int(np.flatnonzero(differs)[0])
                raise TicketAuditError(
                    f"M_{t}[{e.rows[i]}, {e.cols[i]}] is {e.vals[i]!r} in the ticket but {expected[i]!r} in G"
                    f" (seed {self.network.seed}): {int(differs.sum())} of {len(e)} kept values of M_{t} are not G's"
                )
        if self.certified_error is not None:
            recomputed = recomputed_certified_error(self)
            if recomputed is not None and self.certified_error < recomputed * (1 - 1e-9):
                raise TicketAuditError(
                    f"the stored certified_error {self.certified_error!r} is smaller than the bound recomputed from the"
                    f" kept weights, {recomputed!r} (docs/theory.md §3)"
                )
        return self

    # -- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the ticket in format "stronglth-ticket/1" (the README), atomically: the file appears
        complete or not at all, with the mode the user's umask gives, and the same ticket gives the
        same bytes. Returns the path. A path that cannot be written (a directory, under a regular
        file, a read-only directory, a full disk) raises :class:`~stronglth.errors.InvalidInputError`
        and leaves nothing there."""
        path = _npz.ticket_path(path, reading=False)
        own = _npz.check_ticket_meta(self.meta)  # again: ticket.meta is a plain dict, and may have been changed
        meta = {
            "format": TICKET_FORMAT,
            "generator": GENERATOR,
            "seed": self.network.seed,
            "shapes": [list(s) for s in self.network.shapes],
            "method": own.get("method"),
            "eps": own.get("eps"),
            "delta": own.get("delta"),
            "certified_error": self.certified_error,
            "version": __version__,
            "target_depth": 0 if self.target is None else self.target.depth,
            **{k: v for k, v in own.items() if k not in ("method", "eps", "delta")},
        }
        text = json.dumps(meta, allow_nan=False)
        if len(text) > _npz.MAX_META_CHARS:
            raise TooLargeError(
                f"the ticket's meta is {len(text):,} characters of JSON; a ticket file allows {_npz.MAX_META_CHARS:,}"
            )
        arrays: dict[str, np.ndarray] = {"meta": np.array(text)}
        for t, e in enumerate(self._entries, start=1):
            arrays[f"rows_{t}"], arrays[f"cols_{t}"], arrays[f"vals_{t}"] = e.rows, e.cols, e.vals
        if self.target is not None:
            for i, w in enumerate(self.target.weights, start=1):
                arrays[f"target_{i}"] = w
        try:
            with _io.atomic_write(path, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: a key could fill savez's allow_pickle
        except OSError as exc:  # a directory that cannot be made, a full disk, ...
            raise InvalidInputError(f"{path}: cannot write the ticket: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, audit: bool = True) -> Ticket:
        """Read a ticket file, checking every rule of format "stronglth-ticket/1", and (unless
        ``audit=False``) that every kept value is G's. Raises :class:`~stronglth.errors.TicketFormatError`
        or :class:`~stronglth.errors.TicketAuditError` naming the problem, :class:`~stronglth.errors.TooLargeError`
        past the limits of :mod:`stronglth._npz`, :class:`~stronglth.errors.InvalidInputError` for a path
        that is not a readable file. Memory and time are bounded by what the file really holds."""
        if not isinstance(audit, (bool, np.bool_)):
            raise InvalidInputError(f"audit must be True or False, got audit={audit!r}")
        source = _npz.ticket_path(path, reading=True)
        try:
            network, entries, targets, certified_error, meta = _npz.read_ticket_file(source)
            target = TargetNetwork(targets) if targets else None
            ticket = cls(network, entries, target=target, certified_error=certified_error, meta=meta)
        except MemoryError:
            raise TooLargeError(f"{source}: the ticket does not fit in memory") from None
        except InvalidInputError as exc:
            raise TicketFormatError(f"{source}: {exc}") from None
        except OSError as exc:
            raise InvalidInputError(f"{source}: cannot read the ticket file: {exc.strerror or exc}") from None
        if audit:
            try:
                ticket.audit()
            except TicketAuditError as exc:
                raise TicketAuditError(f"{source}: {exc}") from None
        return ticket

    def __repr__(self) -> str:
        cert = "None" if self.certified_error is None else f"{self.certified_error:.3g}"
        return f"Ticket(G={self.network.dims}, nnz={self.nnz}, density={self.density:.3g}, certified_error={cert})"
