"""Tickets: binary masks over a random network G, i.e. weight-subnetworks (docs/theory.md §1).

A :class:`Ticket` keeps, for each matrix ``M_t`` of G, a set of positions and G's values there.
It computes ``G`` with ``S_t * M_t`` in place of ``M_t``; its weights are G's own, never rescaled
(:meth:`Ticket.audit` regenerates every kept value and compares bit for bit). Evaluation goes
through the kept entries and the live units only, so a ticket inside a G of billions of weights
evaluates as fast as the small network it really is.

The file format "stronglth-ticket/1" is specified in the README.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from stronglth import _validate
from stronglth._version import __version__
from stronglth.errors import InvalidInputError, ShapeError, TicketAuditError, TicketFormatError
from stronglth.gadget_form import recomputed_certified_error
from stronglth.random_network import GENERATOR, RandomNetwork
from stronglth.relu import ReLUNetwork
from stronglth.target import TargetNetwork

if TYPE_CHECKING:
    import torch

__all__ = ["Ticket", "KeptEntries", "TICKET_FORMAT"]

TICKET_FORMAT = "stronglth-ticket/1"


@dataclass(frozen=True)
class KeptEntries:
    """The kept entries of one matrix ``M_t``: positions ``(rows[i], cols[i])`` and values ``vals[i]``,
    sorted by (row, col), without duplicates."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)


def _kept_entries(t: int, entry: Any, shape: tuple[int, int]) -> KeptEntries:
    if isinstance(entry, KeptEntries):
        entry = (entry.rows, entry.cols, entry.vals)
    if not isinstance(entry, (tuple, list)) or len(entry) != 3:
        raise InvalidInputError(f"kept entries of M_{t} must be a (rows, cols, vals) triple")
    raw_rows, raw_cols, raw_vals = (np.asarray(a) for a in entry)
    for name, a in (("rows", raw_rows), ("cols", raw_cols)):
        if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise InvalidInputError(f"{name} of M_{t} must be a 1-D integer array, got dtype {a.dtype}, shape {a.shape}")
    if raw_vals.ndim != 1 or (raw_vals.size and not np.issubdtype(raw_vals.dtype, np.floating)):
        raise InvalidInputError(f"vals of M_{t} must be a 1-D float array, got dtype {raw_vals.dtype}, shape {raw_vals.shape}")
    if not raw_rows.size == raw_cols.size == raw_vals.size:
        raise ShapeError(f"M_{t}: rows, cols, vals differ in length ({raw_rows.size}, {raw_cols.size}, {raw_vals.size})")
    rows, cols, vals = raw_rows.astype(np.int64), raw_cols.astype(np.int64), raw_vals.astype(np.float64)
    if rows.size:
        if rows.min() < 0 or rows.max() >= shape[0] or cols.min() < 0 or cols.max() >= shape[1]:
            raise ShapeError(f"M_{t}: kept index out of range for shape {shape}")
        if not np.all(np.isfinite(vals)):
            raise InvalidInputError(f"M_{t}: non-finite kept value")
        order = np.lexsort((cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        repeated = (np.diff(rows) == 0) & (np.diff(cols) == 0)
        if np.any(repeated):
            i = int(np.flatnonzero(repeated)[0])
            raise InvalidInputError(f"M_{t}: position ({rows[i]}, {cols[i]}) is kept twice")
    for a in (rows, cols, vals):
        a.setflags(write=False)
    return KeptEntries(rows, cols, vals)


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
        if len(entries) != network.depth:
            raise ShapeError(f"need kept entries for each of the {network.depth} matrices of G, got {len(entries)}")
        self.network = network
        self._entries = tuple(_kept_entries(t, e, network.shapes[t - 1]) for t, e in enumerate(entries, start=1))
        if target is not None:
            if not isinstance(target, TargetNetwork):
                raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
            if target.d != network.dims[0] or target.dims[-1] != network.dims[-1]:
                raise ShapeError(
                    f"target maps R^{target.d} -> R^{target.dims[-1]} but G maps R^{network.dims[0]} -> R^{network.dims[-1]}"
                )
        self.target = target
        if certified_error is not None:
            certified_error = float(certified_error)
            if not certified_error >= 0:  # also refuses NaN
                raise InvalidInputError(f"certified_error must be >= 0, got {certified_error}")
        self.certified_error = certified_error
        self.meta = dict(meta or {})
        try:
            json.dumps(self.meta, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"ticket meta must be JSON-serialisable: {exc}") from None
        self._compact: tuple[sp.csr_matrix, ...] | None = None

    @classmethod
    def from_positions(cls, network: RandomNetwork, positions: Sequence[tuple[Any, Any]], **kwargs: Any) -> Ticket:
        """A ticket keeping positions ``(rows, cols)`` of each ``M_t``, with G's values filled in."""
        if len(positions) != network.depth:
            raise ShapeError(f"need positions for each of the {network.depth} matrices of G, got {len(positions)}")
        entries = []
        for t, (rows, cols) in enumerate(positions, start=1):
            rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
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
    def _live_matrices(self) -> tuple[sp.csr_matrix, ...]:
        """Sparse matrices over live units only.

        A hidden unit is live when some path of kept weights reaches it from the input and some
        path leads from it to the output. Any other unit contributes nothing: one that no path
        reaches has pre-activation 0 and output ``s(0) = 0``; one with no path onwards is unread.
        """
        if self._compact is not None:
            return self._compact
        dims = self.network.dims
        entries = self._entries
        depth = len(entries)
        # forward reachability: reach[t] marks units of layer t (0 = input) fed by kept paths
        reach = [np.ones(dims[0], dtype=bool)]
        for t, e in enumerate(entries, start=1):
            mask = np.zeros(dims[t], dtype=bool)
            mask[e.rows[reach[t - 1][e.cols]]] = True
            reach.append(mask)
        reach[depth] = np.ones(dims[depth], dtype=bool)
        # backward reachability from the output: leads[t] marks units of layer t with kept paths onwards
        backward = [np.ones(dims[depth], dtype=bool)]  # layers depth, depth - 1, ..., 0
        for t in range(depth, 0, -1):
            e = entries[t - 1]
            mask = np.zeros(dims[t - 1], dtype=bool)
            mask[e.cols[backward[-1][e.rows]]] = True
            backward.append(mask)
        leads = backward[::-1]
        live = (
            [np.ones(dims[0], dtype=bool)] + [reach[t] & leads[t] for t in range(1, depth)] + [np.ones(dims[depth], dtype=bool)]
        )
        # new index of each live unit, by layer
        index = [np.cumsum(mask) - 1 for mask in live]
        matrices = []
        for t, e in enumerate(entries, start=1):
            keep = live[t][e.rows] & live[t - 1][e.cols]
            shape = (int(live[t].sum()), int(live[t - 1].sum()))
            matrices.append(sp.csr_matrix((e.vals[keep], (index[t][e.rows[keep]], index[t - 1][e.cols[keep]])), shape=shape))
        self._compact = tuple(matrices)
        return self._compact

    @property
    def live_widths(self) -> tuple[int, ...]:
        """Number of live units in each hidden layer of G."""
        return tuple(m.shape[0] for m in self._live_matrices()[:-1])

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
        """The equivalent small dense network: dead units removed, the same function."""
        return ReLUNetwork([m.toarray() for m in self._live_matrices()])

    def to_torch(self, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
        """An ``nn.Module`` computing the same function (the compacted network; float64 by default)."""
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
        complete or not at all. Returns the path."""
        path = Path(path)
        meta = {
            "format": TICKET_FORMAT,
            "generator": GENERATOR,
            "seed": self.network.seed,
            "shapes": [list(s) for s in self.network.shapes],
            "method": self.meta.get("method"),
            "eps": self.meta.get("eps"),
            "delta": self.meta.get("delta"),
            "certified_error": self.certified_error,
            "version": __version__,
            "target_depth": 0 if self.target is None else self.target.depth,
            **{k: v for k, v in self.meta.items() if k not in ("method", "eps", "delta")},
        }
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta, allow_nan=False))}
        for t, e in enumerate(self._entries, start=1):
            arrays[f"rows_{t}"], arrays[f"cols_{t}"], arrays[f"vals_{t}"] = e.rows, e.cols, e.vals
        if self.target is not None:
            for i, w in enumerate(self.target.weights, start=1):
                arrays[f"target_{i}"] = w
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: a key could fill savez's allow_pickle
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, audit: bool = True) -> Ticket:
        """Read a ticket file, checking every rule of format "stronglth-ticket/1", and (unless
        ``audit=False``) that every kept value is G's. Raises :class:`~stronglth.errors.TicketFormatError`
        or :class:`~stronglth.errors.TicketAuditError` naming the problem."""
        return _read_ticket(Path(path), audit=audit)

    def __repr__(self) -> str:
        cert = "None" if self.certified_error is None else f"{self.certified_error:.3g}"
        return f"Ticket(G={self.network.dims}, nnz={self.nnz}, density={self.density:.3g}, certified_error={cert})"


_META_REQUIRED = ("format", "generator", "seed", "shapes", "method", "eps", "delta", "certified_error")
"""The fields a reader needs; ``version`` (the writer's package version) and everything else are
provenance, kept in ``ticket.meta`` but not required (a ticket written by another tool loads)."""
_META_OWN = set(_META_REQUIRED) | {"target_depth", "version"}


def _read_ticket(path: Path, *, audit: bool) -> Ticket:
    def fail(problem: str) -> TicketFormatError:
        return TicketFormatError(f"{path}: {problem}")

    if not path.is_file():
        raise InvalidInputError(f"{path}: no such ticket file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise fail("not an .npz archive")
            arrays = {key: z[key] for key in z.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise fail("contains pickled objects, which are refused (no pickle anywhere)") from None
        raise fail(f"unreadable: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise fail(f"not a readable .npz file ({exc})") from None
    if "meta" not in arrays:
        raise fail("missing key 'meta'")
    try:
        meta = json.loads(str(arrays["meta"][()]))
    except (ValueError, TypeError) as exc:
        raise fail(f"'meta' is not a JSON string ({exc})") from None
    if not isinstance(meta, dict):
        raise fail("'meta' is not a JSON object")
    missing = [k for k in _META_REQUIRED if k not in meta]
    if missing:
        raise fail(f"meta lacks {', '.join(missing)}")
    if meta["format"] != TICKET_FORMAT:
        raise fail(f"unknown format {meta['format']!r}; this version reads {TICKET_FORMAT!r}")
    if meta["generator"] != GENERATOR:
        raise fail(f"unknown generator {meta['generator']!r}; this version knows {GENERATOR!r}")
    try:
        network = RandomNetwork(meta["shapes"], seed=meta["seed"])
    except (InvalidInputError, TypeError) as exc:
        raise fail(f"bad shapes or seed in meta: {exc}") from None
    target_depth = meta.get("target_depth", 0)
    if isinstance(target_depth, bool) or not isinstance(target_depth, int) or target_depth < 0:
        raise fail(f"bad target_depth {target_depth!r}")
    expected = {"meta"} | {f"{kind}_{t}" for t in range(1, network.depth + 1) for kind in ("rows", "cols", "vals")}
    expected |= {f"target_{i}" for i in range(1, target_depth + 1)}
    if missing := sorted(expected - arrays.keys()):
        raise fail(f"missing keys {', '.join(missing)}")
    if unknown := sorted(arrays.keys() - expected):
        raise fail(f"unexpected keys {', '.join(unknown)}")
    entries = []
    for t in range(1, network.depth + 1):
        rows, cols, vals = arrays[f"rows_{t}"], arrays[f"cols_{t}"], arrays[f"vals_{t}"]
        if rows.dtype != np.int64 or cols.dtype != np.int64 or vals.dtype != np.float64:
            raise fail(
                f"rows_{t}, cols_{t}, vals_{t} must be int64, int64, float64; got {rows.dtype}, {cols.dtype}, {vals.dtype}"
            )
        entries.append((rows, cols, vals))
    try:
        target = TargetNetwork([arrays[f"target_{i}"] for i in range(1, target_depth + 1)]) if target_depth else None
        ticket = Ticket(
            network,
            entries,
            target=target,
            certified_error=meta["certified_error"],
            meta={k: v for k, v in meta.items() if k not in _META_OWN or k in ("method", "eps", "delta")},
        )
    except TicketFormatError:
        raise
    except InvalidInputError as exc:
        raise fail(str(exc)) from None
    if audit:
        try:
            ticket.audit()
        except TicketAuditError as exc:
            raise TicketAuditError(f"{path}: {exc}") from None
    return ticket
