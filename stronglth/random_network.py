"""The random network G: seeded matrices ``M_1 .. M_T`` whose entries are generated on demand
(Malach et al. 2020, docs/theory.md §1, §7, §12).

G is a public function of its seed and its spec. Generator "pcg64-seedseq-v1" (docs/theory.md §7,
today's G: every entry i.i.d. U[-1, 1], no biases, depth ``2l``): matrix ``M_t`` (``t = 1 .. T``) is
cut into *lines*: columns for odd ``t`` (shape ``(m, n_in)``), rows for even ``t`` (shape
``(n_out, m)``). Line ``L`` of ``M_t`` is the value stream

    numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence([seed, t, L])))
        .uniform(-1.0, 1.0, size)

and the entry at offset ``p`` of a line is reached with ``bit_generator.advance(p)``. Generator
"pcg64-seedseq-v2" (docs/theory.md §12) keeps the lines and adds, per matrix, a distribution
(:mod:`stronglth.distributions`: one 64-bit draw per value, so offsets are reached the same way), an
optional bias vector of ``rows_t`` entries drawn from its own line
``PCG64(SeedSequence([seed, t, 0], spawn_key=(1,)))``, and any depth ``T >= 1``. A G whose matrices
are all ``"uniform"`` and that has no bias is generator v1, with today's values bit for bit.
Nothing is stored: any block of any matrix is generated on demand, so a network of 10^10 weights
costs no memory, and a block of it costs only the values in it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stronglth import _validate
from stronglth._streams import (
    bias_bit_generator,
    distinct_sorted,
    draw,
    draw_uniform,
    line_bit_generator,
    raw_at,
)
from stronglth.distributions import UNIFORM, Distribution, parsed, per_matrix
from stronglth.errors import InvalidInputError, ShapeError, TooLargeError

if TYPE_CHECKING:
    from stronglth.target import TargetNetwork

__all__ = ["RandomNetwork", "GENERATOR", "DENSE_MAX_ENTRIES", "MAX_WIDTH", "MAX_MATRICES", "MAX_PARAMETERS", "index_array"]
__all__ += ["GENERATOR_V2", "GENERATORS", "line_bit_generator", "bias_bit_generator", "draw_uniform"]

GENERATOR = "pcg64-seedseq-v1"
"""Today's generator: every matrix ``"uniform"``, no biases (docs/theory.md §7)."""
GENERATOR_V2 = "pcg64-seedseq-v2"
"""Per-matrix distributions, bias lines, any depth (docs/theory.md §12)."""
GENERATORS = (GENERATOR, GENERATOR_V2)
DENSE_MAX_ENTRIES = 2**25
"""Default refusal threshold of :meth:`RandomNetwork.dense` (about 268 MB of float64)."""

MAX_WIDTH = 2**40
"""The largest number of rows or columns of one matrix ``M_t`` (about 1.1e12): offsets stay far inside int64."""
MAX_MATRICES = 2000
"""The largest number of matrices of G (depth ``2l`` for a target of at most 1000 layers)."""
MAX_PARAMETERS = 2**62
"""The largest number of weights of G (about 4.6e18), so that every count fits in an int64."""

_INT64_MAX = np.iinfo(np.int64).max


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
    """The seeded random network G: matrices ``M_1 .. M_T``, each with its distribution, and optional biases.

    Args:
        shapes: ``[(rows, cols), ...]`` for ``M_1 .. M_T``; any number ``T >= 1`` of positive shapes
            that chain (``cols`` of ``M_t`` = ``rows`` of ``M_{t-1}``). Constructions lay G out with
            ``T = 2l`` (:meth:`for_target`); others need other depths.
        seed: a non-negative integer, keyword-only.
        distributions: ``None`` (every matrix ``"uniform"``, U[-1, 1]) or one spec string per matrix
            (:func:`stronglth.distributions.parse`: ``"uniform"``, ``"normal"``, ``"hyperbolic(a)"``).
        biases: ``None`` (no bias anywhere) or one entry per matrix: ``None`` (no bias after ``M_t``) or
            the spec string of the distribution of its bias vector (``rows_t`` entries, one per output
            unit of ``M_t``, from the bias line :func:`bias_bit_generator`).
        negative_slope: G's hidden activation ``s_a(t) = max(t, a t)``, ``0 <= a < 1`` (keyword-only;
            ``0``, the ReLU, by default; a leaky G is what ``method="burkholz"`` builds for a leaky
            target, docs/theory.md §14.6). It does not change a single value of G: the generator
            string describes the values, the ticket file records the activation.

    Holds only the spec: memory does not depend on the number of weights. ``generator`` is
    ``"pcg64-seedseq-v1"`` when every matrix is ``"uniform"`` and there is no bias (today's G, bit for
    bit), else ``"pcg64-seedseq-v2"`` (docs/theory.md §7, §12).
    """

    shapes: tuple[tuple[int, int], ...]
    seed: int
    distributions: tuple[str, ...]
    biases: tuple[str | None, ...]
    negative_slope: float

    def __init__(
        self,
        shapes: Sequence[Sequence[int]],
        *,
        seed: int,
        distributions: Sequence[str] | None = None,
        biases: Sequence[str | None] | None = None,
        negative_slope: float = 0.0,
    ):
        if isinstance(shapes, (str, bytes)) or not isinstance(shapes, (Sequence, np.ndarray)):
            raise InvalidInputError(f"shapes must be a sequence of (rows, cols) pairs, got {_short(shapes)}")
        if len(shapes) == 0:
            raise ShapeError("G needs at least one matrix: got no shapes")
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
        object.__setattr__(self, "distributions", per_matrix(distributions, len(parsed), "distributions", optional=False))
        object.__setattr__(self, "biases", per_matrix(biases, len(parsed), "biases", optional=True))
        object.__setattr__(self, "negative_slope", _validate.negative_slope(negative_slope))

    @classmethod
    def for_target(
        cls,
        target: TargetNetwork,
        block_sizes: Sequence[int],
        *,
        seed: int,
        distributions: Sequence[str] | None = None,
        biases: Sequence[str | None] | None = None,
        negative_slope: float = 0.0,
    ) -> RandomNetwork:
        """G of depth ``2l`` for a target of depth ``l`` with shared blocks of ``k_i`` units per input
        coordinate: ``M_{2i-1}`` is ``(n_{i-1} k_i, n_{i-1})`` and ``M_{2i}`` is ``(n_i, n_{i-1} k_i)``
        (docs/theory.md §3); ``distributions``, ``biases`` and ``negative_slope`` as in the constructor."""
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
        return cls(shapes, seed=seed, distributions=distributions, biases=biases, negative_slope=negative_slope)

    # -- spec ---------------------------------------------------------------------------------
    @property
    def generator(self) -> str:
        """``"pcg64-seedseq-v1"`` (every matrix uniform, no bias) or ``"pcg64-seedseq-v2"``."""
        return GENERATOR if self.is_v1 else GENERATOR_V2

    @property
    def is_v1(self) -> bool:
        """Whether G is today's G: every matrix ``"uniform"`` and no bias (depth may be anything)."""
        return all(d == UNIFORM for d in self.distributions) and not self.has_biases

    @property
    def has_biases(self) -> bool:
        """Whether some matrix has a bias line."""
        return any(b is not None for b in self.biases)

    def distribution(self, t: int) -> Distribution:
        """The :class:`~stronglth.distributions.Distribution` of the entries of ``M_t``."""
        return parsed(self.distributions[self._check_t(t) - 1])

    def bias_distribution(self, t: int) -> Distribution | None:
        """The distribution of the bias vector of ``M_t``, or ``None`` when ``M_t`` has no bias line."""
        spec = self.biases[self._check_t(t) - 1]
        return None if spec is None else parsed(spec)

    # -- shape ------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Number of matrices ``T`` (``2l`` for a G laid out for a target of depth ``l``)."""
        return len(self.shapes)

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Rows of the odd matrices ``M_1, M_3, ...``: for a G of depth ``2l``, the widths ``m_1 .. m_l``
        of the hidden layers that the target's layers are spread over."""
        return tuple(self.shapes[t][0] for t in range(0, self.depth, 2))

    @property
    def dims(self) -> tuple[int, ...]:
        """All widths of G: ``(d, m_1, n_1, m_2, n_2, ..., m_l, n_l)``."""
        return (self.shapes[0][1],) + tuple(rows for rows, _ in self.shapes)

    @property
    def parameter_count(self) -> int:
        """Number of weights of G (exact Python int; G need not fit in memory). Bias entries are not
        counted here (:attr:`bias_count`)."""
        return sum(rows * cols for rows, cols in self.shapes)

    @property
    def bias_count(self) -> int:
        """Number of bias entries of G (``rows_t`` for each ``M_t`` with a bias line)."""
        return sum(rows for (rows, _), b in zip(self.shapes, self.biases, strict=True) if b is not None)

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
        return draw(self.distribution(t), bit_generator, stop - start, out)

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
        order, distinct, lines, offsets = distinct_sorted(*((cols, rows) if t % 2 else (rows, cols)))
        raw = raw_at(lambda line: line_bit_generator(self.seed, t, line), lines, offsets)
        values = np.empty(rows.size, dtype=np.float64)
        values[order] = self.distribution(t).from_raw(raw)[np.cumsum(distinct) - 1]
        return values

    # -- biases -------------------------------------------------------------------------------
    def _bias_t(self, t: Any) -> tuple[int, Distribution]:
        t = self._check_t(t)
        distribution = self.bias_distribution(t)
        if distribution is None:
            with_bias = [s for s, b in enumerate(self.biases, start=1) if b is not None]
            raise InvalidInputError(f"M_{t} has no bias line (G's bias lines: {with_bias or 'none'})")
        return t, distribution

    def bias_values_at(self, t: int, rows: Any) -> np.ndarray:
        """Entries ``rows[i]`` of the bias vector of ``M_t`` (integer indices in ``[0, rows_t)``), read
        from the bias line like :meth:`values_at` reads a line; refuses a ``t`` without bias line."""
        t, distribution = self._bias_t(t)
        rows = index_array(rows, f"bias rows of M_{t}").ravel()
        n_rows = self.shapes[t - 1][0]
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            bad = int(rows.min()) if rows.min() < 0 else int(rows.max())
            raise ShapeError(f"bias row {bad} out of range [0, {n_rows}) for the bias of M_{t}")
        order, distinct, lines, offsets = distinct_sorted(np.zeros_like(rows), rows)
        raw = raw_at(lambda _: bias_bit_generator(self.seed, t), lines, offsets)
        values = np.empty(rows.size, dtype=np.float64)
        values[order] = distribution.from_raw(raw)[np.cumsum(distinct) - 1]
        return values

    def bias_vector(self, t: int, *, max_entries: int = DENSE_MAX_ENTRIES) -> np.ndarray:
        """The whole bias vector of ``M_t`` (``rows_t`` entries); refuses above ``max_entries`` entries
        and for a ``t`` without bias line."""
        t, distribution = self._bias_t(t)
        rows = self.shapes[t - 1][0]
        if rows > max_entries:
            raise TooLargeError(
                f"the bias of M_{t} has {rows:.3g} entries, above the dense limit {max_entries:.3g};"
                " read it with bias_values_at() instead, or raise max_entries"
            )
        return draw(distribution, bias_bit_generator(self.seed, t), rows, None)

    def __repr__(self) -> str:
        spec = ""
        if any(d != UNIFORM for d in self.distributions):
            spec += f", distributions={list(self.distributions)}"
        if self.has_biases:
            spec += f", biases={list(self.biases)}"
        if self.negative_slope != 0.0:
            spec += f", negative_slope={self.negative_slope!r}"
        return f"RandomNetwork(dims={self.dims}, seed={self.seed}, parameters={self.parameter_count:.3g}{spec})"
