"""Tickets: binary masks over a random network G, i.e. weight-subnetworks (docs/theory.md §1, §12).

A :class:`Ticket` keeps, for each matrix ``M_t`` of G, a set of positions and G's values there, and,
where G has a bias line, a set of kept bias entries. It computes ``G`` with ``S_t * M_t`` in place of
``M_t`` (and the kept biases in place of G's), times an optional output scale ``c`` that is not a
weight of G; its weights and biases are G's own, never rescaled (:meth:`Ticket.audit` regenerates
every kept value and compares bit for bit). Evaluation goes through the kept entries and the live
units only, so a ticket inside a G of billions of weights evaluates as fast as the small network it
really is.

The file formats "stronglth-ticket/1", "/2" and "/3" (a leaky ReLU) are specified in the README; :mod:`stronglth._npz` and
:mod:`stronglth._ticket_format` read them, bounded: memory and time in what a file really holds. The
same ticket is saved as the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from stronglth import _io, _npz, _ticket_format, _validate
from stronglth._kept import KeptBiases, KeptEntries, check_target, kept_biases, kept_entries
from stronglth._ticket_format import TICKET_FORMAT, TICKET_FORMAT_V2, TICKET_FORMAT_V3, meta_field_problem
from stronglth._ticket_live import Live, live_matrices, live_units
from stronglth._version import __version__
from stronglth.errors import InvalidInputError, ShapeError, TicketAuditError, TicketFormatError, TooLargeError
from stronglth.gadget_form import recomputed_certified_error
from stronglth.random_network import RandomNetwork, index_array
from stronglth.relu import ReLUNetwork, activate, output_scale_class
from stronglth.target import TargetNetwork

if TYPE_CHECKING:
    import torch

__all__ = ["Ticket", "KeptEntries", "KeptBiases", "TICKET_FORMAT", "TICKET_FORMAT_V2", "TICKET_FORMAT_V3"]

COMPACT_MAX_ENTRIES = 2**28
""":meth:`Ticket.compact` refuses a dense matrix of more entries than this (2 GiB of float64)."""


def __getattr__(name: str) -> Any:  # ``stronglth.ticket.OutputScale``: the torch module, made on first use
    if name == "OutputScale":
        return output_scale_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Ticket:
    """A weight-subnetwork of a :class:`~stronglth.RandomNetwork`.

    Args:
        network: the random network G.
        entries: one ``(rows, cols, vals)`` triple (or :class:`KeptEntries`) per matrix ``M_1 .. M_T``.
        biases: ``None`` (no kept bias) or one entry per matrix: ``None`` or a ``(rows, vals)`` pair (or
            :class:`KeptBiases`) of kept entries of ``M_t``'s bias vector, only where G has a bias line.
        target: the target network the ticket approximates, if any (saved with the ticket).
        certified_error: an a-posteriori bound on ``sup_B |ticket - target|``, set by constructions.
        meta: JSON-serialisable facts about how the ticket was made (method, eps, delta, ...).
        output_scale: a finite ``c > 0`` multiplying the ticket's output (default 1): how a ticket of
            ``F / c`` approximates ``F`` (issue 19; docs/theory.md §12). It is not a weight of G: the
            audit ignores it; ``forward``, ``compact`` (as ``ReLUNetwork(..., output_scale=c)``),
            ``to_torch`` (a last ``OutputScale`` module), ``repr`` and the file (format /2) state it.

    The hidden activation is G's, ``network.negative_slope`` (the ReLU, or the leaky ReLU ``max(t, a t)``
    of docs/theory.md §14.6); the target keeps its own. The constructor checks shapes and ranges but
    not the values: :meth:`audit` does that, and :meth:`load` always audits. Use :meth:`from_positions`
    to take the values from G.
    """

    def __init__(
        self,
        network: RandomNetwork,
        entries: Sequence[Any],
        *,
        biases: Sequence[Any] | None = None,
        target: TargetNetwork | None = None,
        certified_error: float | None = None,
        meta: Mapping[str, Any] | None = None,
        output_scale: float = 1.0,
    ):
        if not isinstance(network, RandomNetwork):
            raise InvalidInputError(f"network must be a RandomNetwork, got {type(network).__name__}")
        if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, (Sequence, np.ndarray)):
            raise InvalidInputError(f"entries must be a sequence of (rows, cols, vals) triples, got {type(entries).__name__}")
        if len(entries) != network.depth:
            raise ShapeError(f"need kept entries for each of the {network.depth} matrices of G, got {len(entries)}")
        self.network = network
        self._entries = tuple(kept_entries(t, e, network.shapes[t - 1]) for t, e in enumerate(entries, start=1))
        if biases is None:
            biases = [None] * network.depth
        if isinstance(biases, (str, bytes, Mapping)) or not isinstance(biases, (Sequence, np.ndarray)):
            raise InvalidInputError(f"biases must be None or a sequence of (rows, vals) pairs, got {type(biases).__name__}")
        if len(biases) != network.depth:
            raise ShapeError(f"need kept biases (or None) for each of the {network.depth} matrices of G, got {len(biases)}")
        self._biases = tuple(kept_biases(t, b, network) for t, b in enumerate(biases, start=1))
        self.output_scale = _validate.positive_float(output_scale, "output_scale")
        self.target = None if target is None else check_target(network, target)
        if certified_error is not None:
            if (problem := meta_field_problem("certified_error", certified_error)) is not None:
                raise InvalidInputError(problem)
            certified_error = float(certified_error)
        self.certified_error = certified_error
        if isinstance(meta, Mapping):  # G's specs recorded by a construction: the file records them anyway
            meta = {k: v for k, v in meta.items() if k not in _G_SPECS or v != list(getattr(network, _G_SPECS[k]))}
        self.meta = _ticket_format.check_ticket_meta(meta)
        self._live: Live | None = None
        self._compact: tuple[tuple[sp.csr_matrix, ...], tuple[np.ndarray | None, ...]] | None = None

    @classmethod
    def from_positions(
        cls,
        network: RandomNetwork,
        positions: Sequence[tuple[Any, Any]],
        *,
        bias_positions: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> Ticket:
        """A ticket keeping positions ``(rows, cols)`` of each ``M_t`` (integer arrays or Python ints;
        floats are refused), with G's values filled in; ``bias_positions``: ``None`` or one
        rows-or-``None`` per matrix, the kept entries of G's bias vectors (values filled in too)."""
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
        if bias_positions is not None:
            if isinstance(bias_positions, (str, bytes, Mapping)) or not isinstance(bias_positions, (Sequence, np.ndarray)):
                raise InvalidInputError(
                    f"bias_positions must be None or one rows-or-None per matrix, got {type(bias_positions).__name__}"
                )
            if len(bias_positions) != network.depth:
                raise ShapeError(
                    f"need bias positions (or None) for each of the {network.depth} matrices of G, got {len(bias_positions)}"
                )
            kwargs["biases"] = [
                None if r is None else (rows := index_array(r, f"bias rows of M_{t}"), network.bias_values_at(t, rows))
                for t, r in enumerate(bias_positions, start=1)
            ]
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

    def kept_biases(self, t: int) -> KeptBiases:
        """The kept bias entries of ``M_t`` (1-based ``t``; empty where G has no bias line)."""
        self.kept(t)  # checks t
        return self._biases[int(t) - 1]

    @property
    def bias_entries(self) -> tuple[KeptBiases, ...]:
        return self._biases

    @property
    def nnz(self) -> int:
        """Number of kept weights (kept bias entries: :attr:`bias_nnz`)."""
        return sum(len(e) for e in self._entries)

    @property
    def bias_nnz(self) -> int:
        """Number of kept bias entries."""
        return sum(len(b) for b in self._biases)

    @property
    def has_biases(self) -> bool:
        """Whether the ticket keeps a bias entry: then it is not positively homogeneous (docs/theory.md §12)."""
        return self.bias_nnz > 0

    @property
    def density(self) -> float:
        """Fraction of G's weights kept."""
        return self.nnz / self.network.parameter_count

    # -- the function -----------------------------------------------------------------------
    def _live_units(self) -> Live:
        """The live units of each hidden layer and the kept entries between live units, relabelled
        (:func:`stronglth._ticket_live.live_units`: a unit with a kept bias is a source)."""
        if self._live is None:
            rows, cols, bias_rows = (
                [e.rows for e in self._entries],
                [e.cols for e in self._entries],
                [b.rows for b in self._biases],
            )
            self._live = live_units(rows, cols, bias_rows)
        return self._live

    def _live_matrices(self) -> tuple[tuple[sp.csr_matrix, ...], tuple[np.ndarray | None, ...]]:
        """The kept entries between live units, as sparse matrices (inputs and outputs all kept), and
        each layer's kept biases over its live units (``None`` where none is kept)."""
        if self._compact is None:
            vals, bias_vals = [e.vals for e in self._entries], [b.vals for b in self._biases]
            dims = (self.network.dims[0], self.network.dims[-1])
            self._compact = live_matrices(self._live_units(), vals, bias_vals, dims)
        return self._compact

    @property
    def live_widths(self) -> tuple[int, ...]:
        """Number of live units in each hidden layer of G."""
        return tuple(u.size for u in self._live_units().units)

    def forward(self, X: Any) -> np.ndarray:
        """Evaluate the ticket at ``X`` of shape ``(N, d)`` (or ``(d,)``) through its kept entries."""
        x, single = _validate.inputs(X, self.network.dims[0])
        h = x.T
        matrices, biases = self._live_matrices()
        for t, (m, b) in enumerate(zip(matrices, biases, strict=True), start=1):
            h = m @ h
            if b is not None:
                h += b[:, None]
            if t < len(matrices):
                activate(h, self.network.negative_slope)
        out = np.ascontiguousarray(h.T)
        if self.output_scale != 1.0:
            out *= self.output_scale
        return out[0] if single else out

    __call__ = forward

    def compact(self) -> ReLUNetwork:
        """The equivalent small dense network: dead units removed, the same function, G's weights and
        kept biases (a layer's bias vector where it keeps one) and the ticket's ``output_scale``. Raises
        :class:`~stronglth.errors.TooLargeError` for a matrix of more than ``COMPACT_MAX_ENTRIES``
        (2**28) entries (G's input and output widths are kept: use :meth:`forward` for those)."""
        matrices, biases = self._live_matrices()
        for t, m in enumerate(matrices, start=1):
            if m.shape[0] * m.shape[1] > COMPACT_MAX_ENTRIES:
                raise TooLargeError(
                    f"the compacted M_{t} would be a dense {m.shape[0]:,} x {m.shape[1]:,} matrix, above the limit of"
                    f" {COMPACT_MAX_ENTRIES:,} entries; evaluate the ticket with forward() instead"
                )
        kept_biases = list(biases) if any(b is not None for b in biases) else None
        return ReLUNetwork(
            [m.toarray() for m in matrices],
            kept_biases,
            output_scale=self.output_scale,
            negative_slope=self.network.negative_slope,
        )

    def to_torch(self, dtype: torch.dtype | str | None = None) -> torch.nn.Sequential:
        """An ``nn.Module`` computing the same function (the compacted network; its last module is an
        ``OutputScale`` when ``output_scale != 1``). ``dtype``: a torch floating-point dtype or the
        strings ``"float32"`` / ``"float64"``; float64 by default."""
        return self.compact().to_torch(dtype)

    # -- the contract: a true subnetwork ---------------------------------------------------------
    def audit(self) -> Ticket:
        """Regenerate every kept value (weights and bias entries) from G and raise
        :class:`~stronglth.errors.TicketAuditError` unless all are identical, bit for bit (the output
        scale is not a weight of G and is not audited); then recompute the certified bound from the kept
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
        for t, b in enumerate(self._biases, start=1):
            if not len(b):
                continue
            expected = self.network.bias_values_at(t, b.rows)
            differs = expected.view(np.int64) != b.vals.view(np.int64)
            if np.any(differs):
                i = int(np.flatnonzero(differs)[0])
                raise TicketAuditError(
                    f"bias of M_{t}[{b.rows[i]}] is {b.vals[i]!r} in the ticket but {expected[i]!r} in G"
                    f" (seed {self.network.seed}): {int(differs.sum())} of {len(b)} kept bias values of M_{t} are not G's"
                )
        if self.certified_error is not None:
            recomputed = recomputed_certified_error(self)
            slopes = (self.network.negative_slope, 0.0 if self.target is None else self.target.negative_slope)
            if recomputed is None and any(slopes):
                raise TicketAuditError(
                    f"the stored certified_error {self.certified_error!r} cannot be recomputed: G's activation has"
                    f" negative_slope={slopes[0]!r} and the target's {slopes[1]!r}, and a ticket with a leaky ReLU has a"
                    " certified bound only in Burkholz's layout with equal slopes (docs/theory.md §14.6)"
                )
            if recomputed is not None and self.certified_error < recomputed * (1 - 1e-9):
                raise TicketAuditError(
                    f"the stored certified_error {self.certified_error!r} is smaller than the bound recomputed from the"
                    f" kept weights, {recomputed!r} (docs/theory.md §3)"
                )
        return self

    # -- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the ticket in format "stronglth-ticket/1" (no kept bias, no output scale, G generator v1
        of depth ``2l``, a bias-free target: the bytes of before format /2), "stronglth-ticket/3" (G or
        the target with a leaky ReLU: /2 plus both slopes) or "stronglth-ticket/2" (the README),
        atomically: the file appears complete or not at all, with the mode the user's umask gives, and
        the same ticket gives the same bytes. Returns the path. A path that cannot be
        written (a directory, under a regular file, a read-only directory, a full disk) raises
        :class:`~stronglth.errors.InvalidInputError` and leaves nothing there."""
        path = _npz.ticket_path(path, reading=False)
        own = _ticket_format.check_ticket_meta(self.meta)  # again: ticket.meta is a plain dict, and may have been changed
        arrays = _ticket_format.file_contents(
            self.network, self._entries, self._biases, self.target, self.certified_error, self.output_scale, own, __version__
        )
        try:
            with _io.atomic_write(path, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: a key could fill savez's allow_pickle
        except OSError as exc:  # a directory that cannot be made, a full disk, ...
            raise InvalidInputError(f"{path}: cannot write the ticket: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, audit: bool = True) -> Ticket:
        """Read a ticket file, checking every rule of its format ("stronglth-ticket/1", "/2" or "/3"), and (unless
        ``audit=False``) that every kept value is G's. Raises :class:`~stronglth.errors.TicketFormatError`
        or :class:`~stronglth.errors.TicketAuditError` naming the problem, :class:`~stronglth.errors.TooLargeError`
        past the limits of :mod:`stronglth._npz`, :class:`~stronglth.errors.InvalidInputError` for a path
        that is not a readable file. Memory and time are bounded by what the file really holds."""
        if not isinstance(audit, (bool, np.bool_)):
            raise InvalidInputError(f"audit must be True or False, got audit={audit!r}")
        source = _npz.ticket_path(path, reading=True)
        try:
            f = _ticket_format.read_ticket_file(source)
            biases = f.target_biases if any(b is not None for b in f.target_biases) else None
            slope = f.target_negative_slope
            target = TargetNetwork(f.target_weights, biases, negative_slope=slope) if f.target_weights else None
            ticket = cls(
                f.network,
                f.entries,
                biases=f.bias_entries,
                target=target,
                certified_error=f.certified_error,
                meta=f.meta,
                output_scale=f.output_scale,
            )
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
        extra = f", bias_nnz={self.bias_nnz}" if self.bias_nnz else ""
        extra += f", output_scale={self.output_scale!r}" if self.output_scale != 1.0 else ""
        extra += f", negative_slope={self.network.negative_slope!r}" if self.network.negative_slope != 0.0 else ""
        return f"Ticket(G={self.network.dims}, nnz={self.nnz}{extra}, density={self.density:.3g}, certified_error={cert})"


_G_SPECS = {"distributions": "distributions", "biases": "biases"}
