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

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError, ShapeError, TooLargeError

if TYPE_CHECKING:
    from stronglth.target import TargetNetwork

__all__ = ["RandomNetwork", "GENERATOR", "DENSE_MAX_ENTRIES", "MAX_WIDTH", "MAX_MATRICES", "MAX_PARAMETERS", "index_array"]

GENERATOR = "pcg64-seedseq-v1"
DENSE_MAX_ENTRIES = 2**25
"""Default refusal threshold of :meth:`RandomNetwork.dense` (about 268 MB of float64)."""

MAX_WIDTH = 2**40
"""The largest number of rows or columns of one matrix ``M_t`` (about 1.1e12): offsets stay far inside int64."""
MAX_MATRICES = 2000
"""The largest depth ``2l`` of G (a target of at most 1000 layers)."""
MAX_PARAMETERS = 2**62
"""The largest number of weights of G (about 4.6e18), so that every count fits in an int64."""

_INT64_MAX = np.iinfo(np.int64).max
_RUNS_PER_CHUNK = 65_536
"""In :meth:`RandomNetwork.values_at`, runs are visited in chunks of this many (bounded Python objects)."""
_DRAW_THROUGH = 64
"""In :meth:`RandomNetwork.values_at`, requested offsets at most this far apart are drawn as one run."""
_RUN_BLOCK = 65_536
"""In :meth:`RandomNetwork.values_at`, no run crosses a multiple of this offset (bounded buffers)."""


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


def _uniform_from_raw(raw: np.ndarray) -> np.ndarray:
    """G's values from raw 64-bit draws: ``2 u - 1`` with numpy's ``u = (raw >> 11) 2^-53``
    (``Generator.random``, one draw per value), the same float operations as :func:`draw_uniform`."""
    u = (raw >> np.uint64(11)).astype(np.float64)
    u *= 1.0 / 9007199254740992.0
    u *= 2.0
    u -= 1.0
    return u


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def index_array(value: Any, name: str) -> np.ndarray:
    """``value`` as an int64 array of indices: an integer array or (nested) Python ints.

    Floats are refused even when integral (``1.0``), so that ``1.7`` is never truncated to ``1``;
    so are bools, strings, ``None`` and integers outside int64. Raises
    :class:`~stronglth.errors.InvalidInputError` (or :class:`~stronglth.errors.ShapeError` for an
    integer out of int64's range) naming ``name`` and the value.
    """
    allowed = "integers (an integer numpy array or Python ints; floats are refused, even 1.0)"
    if isinstance(value, (str, bytes)):
        raise InvalidInputError(f"{name} must be {allowed}, got {_short(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{name} must be {allowed}, got {_short(value)} ({exc})") from None
    if array.size == 0:
        return np.zeros(array.shape, dtype=np.int64)  # [] is float64 to numpy: nothing to misread
    if array.dtype == object:
        items = array.ravel().tolist()
        for x in items:
            if isinstance(x, bool) or not isinstance(x, numbers.Integral):
                raise InvalidInputError(f"{name} must be {allowed}, got the entry {_short(x)} ({type(x).__name__})")
        for worst in (min(items), max(items)):
            if not -_INT64_MAX - 1 <= int(worst) <= _INT64_MAX:
                raise ShapeError(f"{name}: index {_short(int(worst))} is out of range (beyond int64)")
        return np.array([int(x) for x in items], dtype=np.int64).reshape(array.shape)
    if array.dtype.kind not in "iu":
        flat = array.ravel()
        example = flat[np.argmax(flat != np.floor(flat))] if array.dtype.kind == "f" else flat[0]  # a non-integral one
        raise InvalidInputError(f"{name} must be {allowed}, got dtype {array.dtype} (e.g. {_short(example.item())})")
    if array.dtype.kind == "u" and array.dtype.itemsize == 8 and int(array.max()) > _INT64_MAX:
        raise ShapeError(f"{name}: index {int(array.max())} is out of range (beyond int64)")
    return array.astype(np.int64, copy=False)


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
            raise InvalidInputError(f"shapes must be a sequence of (rows, cols) pairs, got {_short(shapes)}")
        if len(shapes) == 0 or len(shapes) % 2:
            raise ShapeError(f"G has depth 2l: need an even, non-zero number of shapes, got {len(shapes)}")
        if len(shapes) > MAX_MATRICES:
            raise ShapeError(f"G may have at most {MAX_MATRICES} matrices (1000 layers of the target), got {len(shapes)} shapes")
        parsed = []
        for t, shape in enumerate(shapes, start=1):
            if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)) or len(shape) != 2:
                raise ShapeError(f"shape of M_{t} must be a (rows, cols) pair, got {_short(shape)}")
            sides = zip(shape, ("rows", "cols"), strict=False)
            parsed.append(tuple(_validate.positive_int(n, f"M_{t} {side}") for n, side in sides))
            for n, side in zip(parsed[-1], ("rows", "cols"), strict=True):
                if n > MAX_WIDTH:
                    raise ShapeError(f"M_{t} {side} must be at most MAX_WIDTH = 2**40 = {MAX_WIDTH:,}, got {n:,}")
        if (count := sum(r * c for r, c in parsed)) > MAX_PARAMETERS:
            raise ShapeError(f"G may have at most MAX_PARAMETERS = 2**62 weights, these shapes give {count:.3g}")
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
        """G's entries ``M_t[rows[i], cols[i]]`` for integer indices (an integer array or Python ints;
        floats are refused, see :func:`index_array`).

        Each line is sought with ``bit_generator.advance`` over its gaps and only runs of requested
        entries are drawn: a run goes on over gaps of at most ``_DRAW_THROUGH - 1`` values (drawing
        them is cheaper than a seek) and stays inside one block of ``_RUN_BLOCK`` offsets. So at
        most ``_DRAW_THROUGH`` values are drawn per distinct entry, and memory holds the entries
        and one block: the cost is that of the entries, whatever the distances between them."""
        t = self._check_t(t)
        rows = index_array(rows, f"rows of M_{t}").ravel()
        cols = index_array(cols, f"cols of M_{t}").ravel()
        if rows.shape != cols.shape:
            raise ShapeError(f"rows and cols of M_{t} differ in length: {rows.size} vs {cols.size}")
        n_rows, n_cols = self.shapes[t - 1]
        for name, index, bound in (("row", rows, n_rows), ("col", cols, n_cols)):
            if index.size and (index.min() < 0 or index.max() >= bound):
                bad = int(index.min()) if index.min() < 0 else int(index.max())
                raise ShapeError(f"{name} index {bad} out of range [0, {bound}) for M_{t} of shape {self.shapes[t - 1]}")
        lines, offsets = (cols, rows) if t % 2 else (rows, cols)
        order = np.lexsort((offsets, lines))
        lines, offsets = lines[order], offsets[order]
        distinct = np.ones(lines.size, dtype=bool)
        distinct[1:] = (lines[1:] != lines[:-1]) | (offsets[1:] != offsets[:-1])
        lines, offsets = lines[distinct], offsets[distinct]
        new_line = np.ones(lines.size, dtype=bool)
        new_line[1:] = lines[1:] != lines[:-1]
        run_start = new_line.copy()
        run_start[1:] |= (offsets[1:] - offsets[:-1] > _DRAW_THROUGH) | (offsets[1:] // _RUN_BLOCK != offsets[:-1] // _RUN_BLOCK)
        starts = np.flatnonzero(run_start)
        ends = np.append(starts[1:], lines.size)
        raw = np.empty(lines.size, dtype=np.uint64)
        bit_generator = line_bit_generator(self.seed, t, 0)  # replaced at the first run
        position = 0
        for c in range(0, starts.size, _RUNS_PER_CHUNK):  # Python ints for a chunk of runs at a time
            chunk = starts[c : c + _RUNS_PER_CHUNK]
            stops = ends[c : c + chunk.size]
            columns = (chunk, stops, new_line[chunk], lines[chunk], offsets[chunk], offsets[stops - 1])
            for r0, r1, fresh, line, first, last in zip(*(a.tolist() for a in columns), strict=True):
                if fresh:
                    bit_generator, position = line_bit_generator(self.seed, t, line), 0
                if first > position:
                    bit_generator.advance(first - position)
                if r1 - r0 == 1:
                    raw[r0] = bit_generator.random_raw()
                elif last - first + 1 == r1 - r0:  # adjacent offsets: every value drawn is wanted
                    raw[r0:r1] = bit_generator.random_raw(r1 - r0)
                else:
                    raw[r0:r1] = bit_generator.random_raw(last - first + 1)[offsets[r0:r1] - first]
                position = last + 1
        values = np.empty(rows.size, dtype=np.float64)
        values[order] = _uniform_from_raw(raw)[np.cumsum(distinct) - 1]
        return values

    def __repr__(self) -> str:
        return f"RandomNetwork(dims={self.dims}, seed={self.seed}, parameters={self.parameter_count:.3g})"
