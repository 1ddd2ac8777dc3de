"""Subset-sum by size: the sparsest subset within a tolerance, subsets of a fixed size, and the
least error among small subsets (docs/theory.md §5.1).

Pensia et al. (NeurIPS 2020) only need *some* subset of a block within ``eta`` of each target
weight; the least-error subset of :func:`stronglth.constructions.subsetsum.solver.solve` keeps about
half of the block, while most weights are within ``eta`` of a subset of one or two units, or of the
empty one. Natale, Ferré, Giambartolomei, Giroire, Mallmann-Trenn ("On the sparsity of the strong
lottery ticket hypothesis", NeurIPS 2024) build every weight from subsets of a *fixed* size, the
density knob of their theorem. Both are searches by subset size ("size classes"), which is what
this module does, for ``B`` rows at once (``values`` of shape ``(B, k)``, ``targets`` ``(B,)``):

- :func:`solve_sparsest`: for each row, among the subsets ``S`` with ``|sum_S values - target| <=
  tolerance``, one of least cardinality; among those, one of least ``|error|``; then the lowest
  code ``sum_{h in S} 2^h``. Rows with no such subset (of at most ``max_size`` elements) get the
  least-error subset (their error exceeds the tolerance: a failed event).
- :func:`solve_fixed_size`: for each row, the least-error subset of exactly ``size`` elements
  (ties: lowest code). A row with fewer than ``size`` values gets all of them (failed event).
- :func:`solve_small`: the least-error subset of at most ``max_size`` elements (ties: the smaller
  class, then lowest code), at the cost of the classes it searches, not of all ``2^k`` subsets.

How a class of size ``s`` is searched. Directly when that is about as cheap as meeting in the
middle (:data:`DIRECT_RATIO`; in practice sizes 0, 1 and, for few values, 2): every subset's sum
is accumulated in index order from 0.0, exactly as the reported error is (the ``solve``
docstring), so "within the tolerance" is decided on the reported error itself; subsets
are enumerated in increasing code order and the first of equal errors is kept. Otherwise by meet
in the middle inside the class (Horowitz & Sahni 1974): the first ``a = k // 2`` values contribute
``i`` elements and the rest ``s - i``, for every ``i``; each half's sums are accumulated in index
order and the closest pair is found by the merged sort of ``solve`` (the two-kind tagging trick).
There the choice is made on ``L + R``, which may differ from the sequential sum by ``O(k)`` units
in the last place, as in ``solve``; ties go to the first ``i`` and, within it, as in ``solve``;
whether the chosen subset is within the tolerance is then decided on its sequential error, the
one reported. Work grows with the answer's size: class ``s`` is searched only for rows no smaller
class resolved. Without ``max_size``, rows still open when the next class would cost a quarter of
one meet in the middle over all ``2^k`` subsets (:data:`FULL_SEARCH_SHARE`) are first given that
search (``solve``): if even the least error exceeds the tolerance the row fails at that cost,
without searching the remaining classes one by one.

Memory is bounded for any sizes: rows are processed in batches of at most :data:`BATCH_ELEMENTS`
subset sums (a single row's class is never split; the largest class searched by meet in the
middle holds ``C(k/2, s/2)`` sums per half, at most ``2^20`` for ``k <= 40``).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.constructions.subsetsum import solver
from stronglth.errors import InvalidInputError

__all__ = ["DIRECT_SUBSETS", "BATCH_ELEMENTS", "solve_sparsest", "solve_fixed_size", "solve_small"]

DIRECT_SUBSETS = 1 << 14
"""A size class with more subsets than this always meets in the middle."""

DIRECT_RATIO = 2.0
"""A class is enumerated directly when it has at most this many times as many subsets as the two
halves of its meet in the middle hold (and at most :data:`DIRECT_SUBSETS`): below that the direct
scan is as fast (measured, 20,000 rows: at 24 values, size 2 is 2x faster to meet in the middle
than to enumerate, size 4 6x), and it decides on the reported errors exactly."""

FULL_SEARCH_SHARE = 0.25
"""Without ``max_size``, rows still open when the next class (of size 2 or more) would cost this share
of one full meet in the middle over all ``2^k`` subsets are given that search first (infeasible rows
stop there; on a tie in error they keep the subset of the classes already searched)."""

BATCH_ELEMENTS = 1 << 21
"""Subset sums held at once (16 MiB of float64, plus a few temporaries of the same shape)."""


def solve_sparsest(values: Any, targets: Any, tolerance: float, max_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each row, a least-cardinality subset within ``tolerance`` (module docstring).

    Returns ``(mask, errors)`` as :func:`~stronglth.constructions.subsetsum.solver.solve` does:
    ``mask`` boolean ``(B, k)``, ``errors`` the signed ``sum of the chosen values - target``
    accumulated in index order. A row whose error exceeds ``tolerance`` has no subset (of at most
    ``max_size`` elements) within it and holds the least-error subset instead.
    """
    values, targets, max_size = solver._check(values, targets, max_size)  # the same checks as solve
    tolerance = _validate.non_negative_float(tolerance, "tolerance")
    n_rows, k = values.shape
    largest = k if max_size is None else max_size
    codes = np.zeros(n_rows, dtype=np.int64)
    best = np.full(n_rows, np.inf)  # |error| of the least-error subset seen so far (the fallback)
    pending = np.arange(n_rows)
    meet_in_the_middle = False  # (whether the full search has been considered)
    full_cost = 2 * (1 << (k - k // 2))
    for size in range(largest + 1):
        if pending.size == 0:
            break
        direct = _direct(k, size)
        if not meet_in_the_middle and size >= 2 and _class_cost(k, size) >= FULL_SEARCH_SHARE * full_cost:
            meet_in_the_middle = True
            if max_size is None:  # one full search tells which rows fail: they stop here
                mask, errors = solver.solve(values[pending], targets[pending])
                failed = np.abs(errors) > tolerance
                closer = failed & (np.abs(errors) < best[pending])  # ties: the smaller class seen already
                codes[pending[closer]] = _codes(mask[closer])
                pending = pending[~failed]
                if pending.size == 0:
                    break
        class_codes, class_errors = _class_best(values[pending], targets[pending], size, direct)
        better = np.abs(class_errors) < best[pending]  # the fallback: the earlier class on ties
        codes[pending[better]] = class_codes[better]
        best[pending[better]] = np.abs(class_errors[better])
        within = np.abs(class_errors) <= tolerance
        codes[pending[within]] = class_codes[within]
        pending = pending[~within]
    mask = _mask(codes, k)
    return mask, solver._sequential_errors(values, targets, mask)


def solve_fixed_size(values: Any, targets: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the least-error subset of exactly ``size`` elements (ties: lowest code); all
    ``k`` values where ``k < size``. Returns ``(mask, errors)`` as :func:`solve_sparsest`."""
    values, targets, _ = solver._check(values, targets, None)
    size = _size(size, "size")
    n_rows, k = values.shape
    if k < size:
        mask = np.ones((n_rows, k), dtype=bool)
    else:
        codes, _ = _class_best(values, targets, size, _direct(k, size))
        mask = _mask(codes, k)
    return mask, solver._sequential_errors(values, targets, mask)


def solve_small(values: Any, targets: Any, max_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The least-error subset of at most ``max_size`` elements (``None``: of any size, which is
    :func:`~stronglth.constructions.subsetsum.solver.solve` itself). Size classes are searched one
    by one when that is cheaper than one search over all ``2^k`` subsets; ties go to the smaller
    class, then the lowest code. Returns ``(mask, errors)`` as :func:`solve_sparsest`."""
    values, targets, max_size = solver._check(values, targets, max_size)
    n_rows, k = values.shape
    if max_size is None or sum(_class_cost(k, s) for s in range(max_size + 1)) >= 2 * (1 << (k - k // 2)):
        return solver.solve(values, targets, max_size)
    codes = np.zeros(n_rows, dtype=np.int64)
    best = np.full(n_rows, np.inf)
    for size in range(max_size + 1):
        class_codes, class_errors = _class_best(values, targets, size, _direct(k, size))
        better = np.abs(class_errors) < best
        codes[better], best[better] = class_codes[better], np.abs(class_errors[better])
    mask = _mask(codes, k)
    return mask, solver._sequential_errors(values, targets, mask)


# -- arguments -------------------------------------------------------------------------------------


def _size(size: Any, name: str) -> int:
    size = _validate.non_negative_int(size, name)
    if size > solver.MAX_K:
        raise InvalidInputError(f"{name} = {size} exceeds the most values a problem may have ({solver.MAX_K})")
    return size


# -- one size class ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _combinations(n: int, size: int, offset: int = 0) -> np.ndarray:
    """Every subset of ``size`` of ``offset .. offset + n - 1`` as sorted index rows ``(C, size)``,
    in increasing code order (colexicographic); read-only."""
    combos = np.array(list(itertools.combinations(range(n), size)), dtype=np.int64).reshape(math.comb(n, size), size)
    codes = (np.int64(1) << combos).sum(axis=1) if size else np.zeros(len(combos), dtype=np.int64)
    combos = combos[np.argsort(codes, kind="stable")] + offset
    combos.flags.writeable = False
    return combos


def _halves(k: int, size: int) -> int:
    """Sums both halves of the meet in the middle of one class hold, over its splits."""
    a = k // 2
    return sum(math.comb(a, i) + math.comb(k - a, size - i) for i in range(max(0, size - (k - a)), min(a, size) + 1))


def _direct(k: int, size: int) -> bool:
    """Whether the class of subsets of ``size`` of ``k`` values is enumerated directly."""
    count = math.comb(k, size)
    return count <= DIRECT_SUBSETS and count <= DIRECT_RATIO * _halves(k, size)


def _class_cost(k: int, size: int) -> int:
    return math.comb(k, size) if _direct(k, size) else _halves(k, size)


def _sums(values: np.ndarray, combos: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``(rows, C)`` sums of the subsets ``combos`` of each row, accumulated in index order from 0.0."""
    out[...] = 0.0
    for position in range(combos.shape[1]):
        out += values[:, combos[:, position]]
    return out


def _class_best(values: np.ndarray, targets: np.ndarray, size: int, direct: bool) -> tuple[np.ndarray, np.ndarray]:
    """Code and signed sequential error of the best subset of exactly ``size`` elements in each row
    (module docstring: chosen on sequential sums where the class is searched directly, on ``L + R``
    where it meets in the middle)."""
    n_rows, k = values.shape
    codes = np.zeros(n_rows, dtype=np.int64)
    errors = np.zeros(n_rows)
    if n_rows == 0:
        return codes, errors
    search: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    if direct:
        combos = _combinations(k, size)
        subset_codes = (np.int64(1) << combos).sum(axis=1)
        width = len(combos)

        def search(v: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            error = _sums(v, combos, np.empty((len(v), width))) - t[:, None]
            at = np.abs(error).argmin(axis=1)  # the first minimum: the lowest code
            return subset_codes[at], error[np.arange(len(v)), at]
    else:
        splits = _splits(k, size)
        width = max(len(first) + len(second) for first, second in splits)
        search = functools.partial(_meet_in_the_middle, splits=splits)
    batch = max(1, BATCH_ELEMENTS // max(1, width))
    for start in range(0, n_rows, batch):
        rows = slice(start, start + batch)
        codes[rows], errors[rows] = search(values[rows], targets[rows])
    if not direct:  # decide on the reported (sequential) error, as the direct classes do
        errors = solver._sequential_errors(values, targets, _mask(codes, k))
    return codes, errors


def _splits(k: int, size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Index rows of the first-half subsets of size ``i`` and the second-half ones of ``size - i``."""
    a, b = k // 2, k - k // 2
    return [(_combinations(a, i), _combinations(b, size - i, a)) for i in range(max(0, size - b), min(a, size) + 1)]


def _meet_in_the_middle(
    values: np.ndarray, targets: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Closest pair ``L + R`` to the target over every split of a class (the merged sort of ``solve``)."""
    n_rows = len(values)
    rows = np.arange(n_rows)
    best_gap = np.full(n_rows, np.inf)
    best_code = np.zeros(n_rows, dtype=np.int64)
    for first, second in splits:
        queries = targets[:, None] - _sums(values, first, np.empty((n_rows, len(first))))  # want R near t - L
        bases = _sums(values, second, np.empty((n_rows, len(second))))
        solver._keys(queries, 1)
        solver._keys(bases, 0)
        merged = np.concatenate((bases, queries), axis=1)
        merged.sort(axis=1)
        kind = merged.view(np.uint8)[:, solver._LOW_BYTE :: 8] & 1
        gaps = merged[:, 1:] - merged[:, :-1]
        gaps[kind[:, 1:] == kind[:, :-1]] = np.inf
        at = gaps.argmin(axis=1)
        gap = gaps[rows, at]
        low, high = merged[rows, at], merged[rows, at + 1]
        query_low = kind[rows, at].astype(bool)
        x, r = np.where(query_low, low, high), np.where(query_low, high, low)
        i = (queries == x[:, None]).argmax(axis=1)
        j = (bases == r[:, None]).argmax(axis=1)
        code = (np.int64(1) << first[i]).sum(axis=1) + (np.int64(1) << second[j]).sum(axis=1)
        better = gap < best_gap
        best_gap[better], best_code[better] = gap[better], code[better]
    return best_code, best_gap


def _codes(mask: np.ndarray) -> np.ndarray:
    return (mask.astype(np.int64) << np.arange(mask.shape[1], dtype=np.int64)).sum(axis=1)


def _mask(codes: np.ndarray, k: int) -> np.ndarray:
    return ((codes[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)
