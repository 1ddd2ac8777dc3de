"""The random network G of depth 2l with i.i.d. U[-1, 1] weights (Malach et al. 2020, docs/theory.md §1).

G is a public function of its seed: generator "pcg64-seedseq-v1" (docs/theory.md §7). Matrix ``M_t``
(``t = 1 .. 2l``) is cut into *lines*: columns for odd ``t`` (shape ``(m, n_in)``), rows for
even ``t`` (shape ``(n_out, m)``). Line ``L`` of ``M_t`` is the value stream

    numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence([seed, t, L])))
        .uniform(-1.0, 1.0, size)

and the entry at offset ``p`` of a line is reached with ``bit_generator.advance(p)``. Nothing
is stored: any block of any matrix is generated on demand, so a network of 10^10 weights costs
no memory, and a block of it costs only the values in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError, ShapeError, TooLargeError

if TYPE_CHECKING:
    from stronglth.target import TargetNetwork

__all__ = ["RandomNetwork", "GENERATOR", "DENSE_MAX_ENTRIES"]

GENERATOR = "pcg64-seedseq-v1"
DENSE_MAX_ENTRIES = 2**25
"""Default refusal threshold of :meth:`RandomNetwork.dense` (about 268 MB of float64)."""

_RUN_GAP = 256
"""In :meth:`RandomNetwork.values_at`, offsets closer than this are drawn as one contiguous run."""


def line_bit_generator(seed: int, t: int, line: int) -> np.random.PCG64:
    """The PCG64 bit generator of line ``line`` of ``M_t`` (1-based ``t``), at offset 0."""
    return np.random.PCG64(np.random.SeedSequence([seed, t, line]))


def draw_uniform(bit_generator: np.random.PCG64, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """The next ``size`` values of ``Generator(bit_generator).uniform(-1.0, 1.0, size)``.

    Computed as ``2 u - 1`` from ``Generator.random`` into a reusable buffer: numpy's
    ``uniform(low, high)`` is ``low + (high - low) * u`` with the same 53-bit ``u``, one 64-bit draw
    per value, and ``2 u`` is exact, so the result is identical bit for bit (tested), at about
    half the cost.
    """
    out = np.empty(size, dtype=np.float64) if out is None else out[:size]
    np.random.Generator(bit_generator).random(out=out)
    out *= 2.0
    out -= 1.0
    return out


def _slice_range(index: Any, length: int, what: str) -> tuple[int, int]:
    if index is None:
        return 0, length
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        i = int(index)
        if not 0 <= i < length:
            raise ShapeError(f"{what} index {i} out of range [0, {length})")
        return i, i + 1
    if not isinstance(index, slice):
        raise InvalidInputError(f"{what} must be a slice (or an int), got {type(index).__name__}")
    start, stop, step = index.indices(length)
    if step != 1:
        raise InvalidInputError(f"{what} slice must have step 1, got step {index.step}")
    return start, max(start, stop)


@dataclass(frozen=True)
class RandomNetwork:
    """The seeded random network G: matrices ``M_1 .. M_2l`` with entries i.i.d. U[-1, 1].

    Args:
        shapes: ``[(rows, cols), ...]`` for ``M_1 .. M_2l``; an even number of positive shapes
            that chain (``cols`` of ``M_t`` = ``rows`` of ``M_{t-1}``).
        seed: a non-negative integer, keyword-only.

    Holds only ``shapes`` and ``seed``: memory does not depend on the number of weights.
    """

    shapes: tuple[tuple[int, int], ...]
    seed: int

    def __init__(self, shapes: Sequence[Sequence[int]], *, seed: int):
        if isinstance(shapes, (str, bytes)) or not isinstance(shapes, (Sequence, np.ndarray)):
            raise InvalidInputError(f"shapes must be a sequence of (rows, cols) pairs, got {shapes!r}")
        parsed = []
        for t, shape in enumerate(shapes, start=1):
            if not isinstance(shape, (Sequence, np.ndarray)) or len(shape) != 2:
                raise ShapeError(f"shape of M_{t} must be a (rows, cols) pair, got {shape!r}")
            sides = zip(shape, ("rows", "cols"), strict=False)
            parsed.append(tuple(_validate.positive_int(n, f"M_{t} {side}") for n, side in sides))
        if len(parsed) == 0 or len(parsed) % 2:
            raise ShapeError(f"G has depth 2l: need an even, non-zero number of shapes, got {len(parsed)}")
        for t in range(1, len(parsed)):
            if parsed[t][1] != parsed[t - 1][0]:
                raise ShapeError(
                    f"shapes do not chain: M_{t} has {parsed[t - 1][0]} rows but M_{t + 1} has {parsed[t][1]} columns"
                )
        object.__setattr__(self, "shapes", tuple(parsed))
        object.__setattr__(self, "seed", _validate.seed(seed))

    @classmethod
    def for_target(cls, target: TargetNetwork, block_sizes: Sequence[int], *, seed: int) -> RandomNetwork:
        """G of depth ``2l`` for a target of depth ``l`` with shared blocks of ``k_i`` units per input
        coordinate: ``M_{2i-1}`` is ``(n_{i-1} k_i, n_{i-1})`` and ``M_{2i}`` is ``(n_i, n_{i-1} k_i)``
        (docs/theory.md §3)."""
        dims = target.dims
        if isinstance(block_sizes, (int, np.integer)) or not isinstance(block_sizes, (Sequence, np.ndarray)):
            raise InvalidInputError(f"block_sizes must be a sequence of {len(dims) - 1} positive integers, got {block_sizes!r}")
        if len(block_sizes) != len(dims) - 1:
            raise InvalidInputError(f"block_sizes has {len(block_sizes)} entries, the target has {len(dims) - 1} layers")
        shapes = []
        for i, k in enumerate(block_sizes, start=1):
            k = _validate.positive_int(k, f"block size of layer {i}")
            m = dims[i - 1] * k
            shapes += [(m, dims[i - 1]), (dims[i], m)]
        return cls(shapes, seed=seed)

    # -- shape ------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Number of matrices, ``2l``."""
        return len(self.shapes)

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths ``m_1 .. m_l`` of the hidden layers that the target's layers are spread over."""
        return tuple(self.shapes[t][0] for t in range(0, self.depth, 2))

    @property
    def dims(self) -> tuple[int, ...]:
        """All widths of G: ``(d, m_1, n_1, m_2, n_2, ..., m_l, n_l)``."""
        return (self.shapes[0][1],) + tuple(rows for rows, _ in self.shapes)

    @property
    def parameter_count(self) -> int:
        """Number of weights of G (exact Python int; G need not fit in memory)."""
        return sum(rows * cols for rows, cols in self.shapes)

    def _check_t(self, t: Any) -> int:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= self.depth:
            raise InvalidInputError(f"matrix index t must be an integer in 1..{self.depth}, got {t!r}")
        return int(t)

    def line_count(self, t: int) -> int:
        """Number of lines of ``M_t``: columns for odd ``t``, rows for even ``t``."""
        rows, cols = self.shapes[self._check_t(t) - 1]
        return cols if t % 2 else rows

    def line_length(self, t: int) -> int:
        """Length of each line of ``M_t``."""
        rows, cols = self.shapes[self._check_t(t) - 1]
        return rows if t % 2 else cols

    # -- values -----------------------------------------------------------------------------
    def segment(self, t: int, line: int, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Entries ``[start, stop)`` of line ``line`` of ``M_t``, generating nothing else.

        ``out`` is an optional float64 buffer of at least ``stop - start`` entries to reuse.
        """
        t = self._check_t(t)
        start, stop = _slice_range(slice(start, stop), self.line_length(t), f"offset range of M_{t}")
        line, _ = _slice_range(line, self.line_count(t), f"line of M_{t}")
        bit_generator = line_bit_generator(self.seed, t, line)
        if start:
            bit_generator.advance(start)
        return draw_uniform(bit_generator, stop - start, out)

    def block(self, t: int, rows: slice | int | None = None, cols: slice | int | None = None) -> np.ndarray:
        """The sub-block ``M_t[rows, cols]`` (slices with step 1), generating nothing outside it."""
        t = self._check_t(t)
        n_rows, n_cols = self.shapes[t - 1]
        r0, r1 = _slice_range(rows, n_rows, f"rows of M_{t}")
        c0, c1 = _slice_range(cols, n_cols, f"cols of M_{t}")
        out = np.empty((r1 - r0, c1 - c0), dtype=np.float64)
        if out.size == 0:
            return out
        if t % 2:  # lines are columns
            for c in range(c0, c1):
                out[:, c - c0] = self.segment(t, c, r0, r1)
        else:
            for r in range(r0, r1):
                self.segment(t, r, c0, c1, out=out[r - r0])
        return out

    def dense(self, t: int, *, max_entries: int = DENSE_MAX_ENTRIES) -> np.ndarray:
        """The whole matrix ``M_t``, for small networks only: refuses above ``max_entries`` entries."""
        t = self._check_t(t)
        rows, cols = self.shapes[t - 1]
        if rows * cols > max_entries:
            raise TooLargeError(
                f"M_{t} has {rows} x {cols} = {rows * cols:.3g} entries, above the dense limit {max_entries:.3g};"
                " read it with block() or segment() instead, or raise max_entries"
            )
        return self.block(t)

    def values_at(self, t: int, rows: Any, cols: Any) -> np.ndarray:
        """G's entries ``M_t[rows[i], cols[i]]`` for integer index arrays, grouped by line and drawn
        in contiguous runs (the cost is that of the entries and their gaps up to a small limit)."""
        t = self._check_t(t)
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        if rows.shape != cols.shape:
            raise ShapeError(f"rows and cols differ in length: {rows.size} vs {cols.size}")
        n_rows, n_cols = self.shapes[t - 1]
        for name, index, bound in (("row", rows, n_rows), ("col", cols, n_cols)):
            if index.size and (index.min() < 0 or index.max() >= bound):
                raise ShapeError(f"{name} index out of range for M_{t} of shape {self.shapes[t - 1]}")
        lines, offsets = (cols, rows) if t % 2 else (rows, cols)
        order = np.lexsort((offsets, lines))
        lines, offsets = lines[order], offsets[order]
        values = np.empty(rows.size, dtype=np.float64)
        group_starts = np.concatenate(([0], np.flatnonzero(np.diff(lines)) + 1, [lines.size]))
        for g0, g1 in zip(group_starts[:-1], group_starts[1:], strict=False):
            if g0 == g1:
                continue
            bit_generator = line_bit_generator(self.seed, t, int(lines[g0]))
            position = 0
            group = offsets[g0:g1]
            run_starts = np.concatenate(([0], np.flatnonzero(np.diff(group) > _RUN_GAP) + 1, [group.size]))
            for r0, r1 in zip(run_starts[:-1], run_starts[1:], strict=False):
                first, last = int(group[r0]), int(group[r1 - 1])
                bit_generator.advance(first - position)
                run = draw_uniform(bit_generator, last - first + 1)
                values[order[g0 + r0 : g0 + r1]] = run[group[r0:r1] - first]
                position = last + 1
        return values

    def __repr__(self) -> str:
        return f"RandomNetwork(dims={self.dims}, seed={self.seed}, parameters={self.parameter_count:.3g})"
