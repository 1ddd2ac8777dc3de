"""Exact subset-sum for many small problems at once: the solver behind the subset-sum gadget.

Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, "Optimal lottery tickets via SubsetSum:
logarithmic over-parameterization is sufficient" (NeurIPS 2020) approximate each target weight
``w`` by a *subset* of the products ``v_h u_h`` of a block (docs/theory.md §2), and need only
``O(log(1/eta))`` random candidates per block because random subset-sum is dense: Lueker,
"Exponentially small bounds on the expected optimum of the partition and subset sum problems"
(Random Structures & Algorithms, 1998), shows that ``n = O(log(1/eta))`` i.i.d. uniform values
approximate every target in an interval within ``eta`` with high probability (docs/theory.md §4).

:func:`solve` answers ``B`` such problems at once. For each row ``r`` of ``values`` (shape
``(B, k)``) it returns the subset ``S`` of ``{0, .., k-1}`` (``|S| <= max_size`` when given)
minimising ``|sum_{h in S} values[r, h] - targets[r]|``, as a boolean ``mask`` of shape ``(B, k)``,
and the signed ``errors = sum_S values[r] - targets[r]`` (shape ``(B,)``). The empty subset is
allowed (sum 0).

Algorithm: meet in the middle (Horowitz & Sahni, "Computing partitions with applications to the
knapsack problem", J. ACM 1974), vectorised over rows. The first ``a = k // 2`` values and the last
``b = k - a`` are enumerated separately (``L``: ``2^a`` sums, ``R``: ``2^b`` sums per row, each
accumulated in index order by doubling). The queries ``x_i = t - L_i`` and the sums ``R_j`` are
sorted together, row by row, after tagging each by its last mantissa bit (cleared on ``R_j``, set
on ``x_i``: a move of at most one unit in the last place, after which the two kinds are never
equal and a plain sort tells them apart). Since ``L_i + R_j - t = R_j - x_i``, the best pair is the
closest (query, sum) pair, and that pair is adjacent in the sorted row (anything between them would
be closer to one of the two): one pass over adjacent pairs finds it, and the subsets are the
lowest-coded ones carrying the two keys. Time ``O(B 2^{k/2} k)`` (the sort), memory bounded by
processing rows in batches. With ``max_size`` the halves are split by subset size (first-half
subsets of size ``s`` meet second-half subsets of size at most ``max_size - s``, one sort per size
class), which keeps the answer exact.

Exactness and rounding. The answer is exact up to floating-point rounding of the sums: its
``|error|`` exceeds the true minimum by at most ``O(k)`` units in the last place of
``sum(|values[r]|) + |targets[r]|`` (the half sums, the queries and the tags each round once per
operation; for subnormal inputs, plus a few multiples of the smallest subnormal). The reported
error is recomputed from the mask, by adding the chosen values one by one in index order starting
from 0.0 and subtracting the target at the end::

    s = 0.0
    for h in range(k):
        if mask[r, h]:
            s += values[r, h]
    errors[r] = s - targets[r]

(``values[r][mask[r]].sum()`` equals this only up to rounding: numpy adds 8 or more terms
pairwise.)

Tie-breaking (deterministic, and a function of the row alone: a row's answer never depends on the
other rows, their number or the batching). Among (query, sum) pairs at equal computed distance the
pair with the smallest lower key wins; the subsets are then the lowest-coded (code
``sum_h mask[h] 2^h`` restricted to the half) among those whose keys equal the pair's; with
``max_size``, a later size class must be strictly closer to replace an earlier one (classes in the
order: first-half subsets that may meet every second-half subset, then by increasing size). So a
zero value is never chosen: the subset without it has the same keys and a lower code, in the same
or an earlier class (padding rows with zeros to a common ``k`` is harmless).
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError

__all__ = ["MAX_K", "solve"]

MAX_K = 40
"""The largest number of values per problem: ``2 * 2^20`` sums per row at ``k = 40``."""

BATCH_BYTES = 8 * 2**20
"""Target size of the temporaries of one batch of rows (a single row exceeds it for k > 34):
small enough to stay in cache, large enough to amortise numpy's per-call cost (measured)."""

_LOW_BYTE = 0 if sys.byteorder == "little" else 7  # the byte of a float64 holding its last mantissa bit
_CHECK_ROWS = 2**16
_BYTES_PER_ELEMENT = 32  # temporaries per merged element: keys, sorted keys, gaps (float64), kinds, flags


def solve(values: Any, targets: Any, max_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``B`` subset-sum problems exactly: ``min_S |sum_{h in S} values[r, h] - targets[r]|``.

    ``values``: real array of shape ``(B, k)`` with ``k <= MAX_K`` (zeros and negative values
    allowed); ``targets``: shape ``(B,)``; ``max_size``: if given, only subsets of at most that
    many elements. Returns ``(mask, errors)``: ``mask`` boolean ``(B, k)`` marks the chosen subset
    of each row, ``errors`` float64 ``(B,)`` is ``sum of the chosen values - target`` (signed),
    summed in index order as the module docstring states. Ties are broken deterministically (module
    docstring). Meet in the middle (Horowitz & Sahni 1974), ``O(B 2^{k/2} k)`` time.

    Raises :class:`~stronglth.errors.InvalidInputError` on non-finite or non-real entries, shapes
    that do not match, ``k > MAX_K``, a ``max_size`` that is not a non-negative integer, or values
    so large that their sums overflow float64.
    """
    values, targets, max_size = _check(values, targets, max_size)
    n_rows, k = values.shape
    mask = np.zeros((n_rows, k), dtype=bool)
    if n_rows == 0:
        return mask, np.zeros(0)
    a = k // 2
    b = k - a
    plan = _plan(a, b, max_size)
    per_row = max(int(q.size) + int(d.size) for q, d in plan) * _BYTES_PER_ELEMENT
    batch = max(1, BATCH_BYTES // per_row)
    bits = np.arange(k, dtype=np.int64)
    buffers = _Buffers()
    for start in range(0, n_rows, batch):
        rows = slice(start, start + batch)
        codes = _best_codes(values[rows], targets[rows], a, b, plan, buffers)
        mask[rows] = ((codes[:, None] >> bits) & 1).astype(bool)
    return mask, _sequential_errors(values, targets, mask)


def _check(values: Any, targets: Any, max_size: Any) -> tuple[np.ndarray, np.ndarray, int | None]:
    values = _real_array(values, "values")
    targets = _real_array(targets, "targets")
    if values.ndim != 2:
        raise ShapeError(f"values must be 2-D (one row of k values per problem), got shape {values.shape}")
    if targets.ndim != 1 or targets.shape[0] != values.shape[0]:
        raise ShapeError(f"targets must have shape ({values.shape[0]},) to match values {values.shape}, got {targets.shape}")
    k = values.shape[1]
    if k > MAX_K:
        raise InvalidInputError(f"k = {k} values per problem is too many for exact subset-sum (at most {MAX_K}): split the block")
    for start in range(0, values.shape[0], _CHECK_ROWS):  # in slices: bounded temporaries
        rows = slice(start, start + _CHECK_ROWS)
        for name, array in (("values", values[rows]), ("targets", targets[rows])):
            if not np.all(np.isfinite(array)):
                bad = np.argwhere(~np.isfinite(array))[0]
                where = (start + int(bad[0]), *(int(i) for i in bad[1:]))
                raise InvalidInputError(f"{name} has a non-finite entry {array[tuple(bad)]} at {where}")
        with np.errstate(over="ignore"):
            scale = np.abs(values[rows]).sum(axis=1) + np.abs(targets[rows])
        if not np.all(np.isfinite(scale)):
            row = start + int(np.argmax(~np.isfinite(scale)))
            raise InvalidInputError(f"row {row}: sum of |values| and |target| overflows float64; rescale the problem")
    if max_size is not None:
        if isinstance(max_size, (bool, np.bool_)) or not isinstance(max_size, numbers.Integral) or int(max_size) < 0:
            raise InvalidInputError(f"max_size must be None or a non-negative integer, got {max_size!r}")
        max_size = int(max_size)
        if max_size >= k:
            max_size = None
    # + 0.0 turns a target -0.0 into 0.0 (the sums are never -0.0: they start from 0.0)
    return values, targets + 0.0, max_size


def _real_array(value: Any, name: str) -> np.ndarray:
    array = np.asarray(value)
    if (
        array.dtype == object
        or array.dtype == bool
        or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer))
    ):
        raise InvalidInputError(f"{name} must be a real (integer or floating-point) array, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _popcount(n: int) -> np.ndarray:
    """Number of elements of each subset code ``0 .. 2^n - 1``."""
    count = np.zeros(1 << n, dtype=np.int64)
    for bit in range(n):
        count += (np.arange(1 << n) >> bit) & 1
    return count


def _plan(a: int, b: int, max_size: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Passes ``(first-half codes, second-half codes)``: every allowed pair meets in one pass."""
    first, second = np.arange(1 << a), np.arange(1 << b)
    if max_size is None:
        return [(first, second)]
    size_first, size_second = _popcount(a), _popcount(b)
    plan = []
    full = first[size_first <= max_size - b]  # these may meet every second-half subset
    if full.size:
        plan.append((full, second))
    for s in range(max(0, max_size - b + 1), min(a, max_size) + 1):
        plan.append((first[size_first == s], second[size_second <= max_size - s]))
    return plan


class _Buffers:
    """Work arrays reused from batch to batch: allocating megabytes anew for every batch costs as
    much system time (page faults) as the work itself (measured at k = 20)."""

    def __init__(self) -> None:
        self._store: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        size = math.prod(shape)
        buffer = self._store.get(name)
        if buffer is None or buffer.size < size:
            buffer = self._store[name] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)


def _half_sums(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``(B, 2^n)`` sums of every subset (code ``i``: bit ``h`` set iff value ``h`` is in), by doubling.

    Each sum is accumulated in index order from the first chosen value, elementwise per row.
    """
    out[:, 0] = 0.0
    for h in range(values.shape[1]):
        width = 1 << h
        np.add(out[:, :width], values[:, h : h + 1], out=out[:, width : 2 * width])
    return out


def _keys(sums: np.ndarray, tag: int) -> None:
    """Tag float64 sums in place by their last mantissa bit: ``tag = 0`` clears it (second-half
    sums), ``tag = 1`` sets it (queries). Each key moves by at most one unit in the last place, its
    order against the other keys is kept up to that unit, and the two kinds can never be equal, so
    after a plain (unstable) sort the kind of every key is read off its bit."""
    bits = sums.view(np.int64)
    if tag:
        bits |= 1
    else:
        bits &= ~1


def _best_codes(values: np.ndarray, targets: np.ndarray, a: int, b: int, plan, buffers: _Buffers) -> np.ndarray:
    """Mask code ``sum_h mask[h] 2^h`` of the best subset of each row of a batch."""
    n_rows = values.shape[0]
    rows = np.arange(n_rows)
    queries = _half_sums(values[:, :a], buffers("queries", (n_rows, 1 << a)))
    np.subtract(targets[:, None], queries, out=queries)  # x_i = t - L_i: want R_j near x_i
    bases = _half_sums(values[:, a:], buffers("bases", (n_rows, 1 << b)))
    _keys(queries, 1)
    _keys(bases, 0)
    best_gap = np.full(n_rows, np.inf)
    best_code = np.zeros(n_rows, dtype=np.int64)
    for query_codes, base_codes in plan:
        n_query, n_base = query_codes.size, base_codes.size
        n = n_query + n_base
        whole = n_query == queries.shape[1] and n_base == bases.shape[1]
        query = queries if whole else np.take(queries, query_codes, axis=1, out=buffers("query", (n_rows, n_query)))
        base = bases if whole else np.take(bases, base_codes, axis=1, out=buffers("base", (n_rows, n_base)))
        merged = buffers("merged", (n_rows, n))
        merged[:, :n_base] = base
        merged[:, n_base:] = query
        merged.sort(axis=1)
        kind = np.bitwise_and(merged.view(np.uint8)[:, _LOW_BYTE::8], 1, out=buffers("kind", (n_rows, n), np.uint8))
        # The closest (query, second-half) pair is adjacent in the merged order: anything between
        # them would be closer to one of the two. So scan the adjacent pairs of different kinds.
        gaps = np.subtract(merged[:, 1:], merged[:, :-1], out=buffers("gaps", (n_rows, n - 1)))
        same = np.equal(kind[:, 1:], kind[:, :-1], out=buffers("same", (n_rows, n - 1), bool))
        np.putmask(gaps, same, np.inf)
        at = gaps.argmin(axis=1)  # the first of equal gaps: the pair with the smallest keys
        gap = gaps[rows, at]
        low, high = merged[rows, at], merged[rows, at + 1]
        if len(plan) > 1:
            better = gap < best_gap  # ties: the earlier size class (smaller first-half subsets)
            if not better.any():
                continue
        query_low = kind[rows, at].astype(bool)
        x = np.where(query_low, low, high)
        r = np.where(query_low, high, low)
        # the lowest codes carrying those keys
        i = np.equal(query, x[:, None], out=buffers("match_query", (n_rows, n_query), bool)).argmax(axis=1)
        j = np.equal(base, r[:, None], out=buffers("match_base", (n_rows, n_base), bool)).argmax(axis=1)
        code = query_codes[i] | (base_codes[j] << a)
        if len(plan) == 1:
            return code
        best_gap[better] = gap[better]
        best_code[better] = code[better]
    return best_code


def _sequential_errors(values: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``sum of the chosen values, added in index order from 0.0, minus the target``."""
    total = np.zeros(values.shape[0])
    for h in range(values.shape[1]):
        total += np.where(mask[:, h], values[:, h], 0.0)
    return total - targets
