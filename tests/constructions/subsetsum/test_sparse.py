"""Subset-sum by size (docs/theory.md §5.1): constructions/subsetsum/sparse.py.

The oracle enumerates all ``2^k`` subsets of a row with sums accumulated in index order from 0.0,
the order the module states for its reported errors. Where every class is searched directly the
answer must equal the oracle's exactly (cardinality, then |error|, then the lowest code). For the
meet-in-the-middle path the values are multiples of 1/64 of modest size, so that every sum is exact
and no rounding can separate ``L + R`` from the sequential sum: cardinality and |error| must equal
the oracle's.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth.constructions.subsetsum import sparse
from stronglth.constructions.subsetsum.solver import solve
from stronglth.constructions.subsetsum.sparse import solve_fixed_size, solve_small, solve_sparsest
from stronglth.errors import InvalidInputError


def all_subsets(values: np.ndarray, target: float):
    """(code, size, signed sequential error) of every subset of one row."""
    k = len(values)
    out = []
    for code in range(2**k):
        total = 0.0
        for h in range(k):
            if code >> h & 1:
                total += float(values[h])
        out.append((code, bin(code).count("1"), total - float(target)))
    return out


def oracle_sparsest(values, target, tol, max_size=None):
    subsets = [s for s in all_subsets(values, target) if max_size is None or s[1] <= max_size]
    within = [s for s in subsets if abs(s[2]) <= tol]
    if within:
        return min(within, key=lambda s: (s[1], abs(s[2]), s[0]))
    return min(subsets, key=lambda s: (abs(s[2]), s[1], s[0]))  # a failed row: the least error


def code_of(mask_row: np.ndarray) -> int:
    return int(sum(1 << h for h, chosen in enumerate(mask_row) if chosen))


rows_strategy = st.integers(1, 9).flatmap(
    lambda k: st.lists(
        st.tuples(
            st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=k, max_size=k),
            st.floats(-2, 2, allow_subnormal=False),
        ),
        min_size=1,
        max_size=6,
    )
)
dyadic = st.integers(-64, 64).map(lambda n: n / 64)
dyadic_rows = st.integers(1, 10).flatmap(
    lambda k: st.lists(st.tuples(st.lists(dyadic, min_size=k, max_size=k), dyadic), min_size=1, max_size=6)
)


def arrays(rows):
    return np.array([r[0] for r in rows], dtype=np.float64), np.array([r[1] for r in rows], dtype=np.float64)


@contextlib.contextmanager
def every_class(direct: bool):
    """Force every class of size >= 2 to be enumerated directly, or to meet in the middle."""
    old = sparse.DIRECT_SUBSETS, sparse.DIRECT_RATIO, sparse.FULL_SEARCH_SHARE
    try:
        # directly: also no full search, whose ties (with classes not yet searched) are solve()'s
        sparse.DIRECT_SUBSETS, sparse.DIRECT_RATIO, sparse.FULL_SEARCH_SHARE = (
            (2**40, math.inf, math.inf) if direct else (1, 0.0, 0.25)
        )
        yield
    finally:
        sparse.DIRECT_SUBSETS, sparse.DIRECT_RATIO, sparse.FULL_SEARCH_SHARE = old


@given(rows_strategy, st.sampled_from([0.0, 0.01, 0.1, 0.5]), st.one_of(st.none(), st.integers(0, 4)))
def test_sparsest_equals_brute_force_when_searched_directly(rows, tol, max_size):
    values, targets = arrays(rows)
    with every_class(direct=True):
        mask, errors = solve_sparsest(values, targets, tol, max_size)
    for r in range(len(targets)):
        code, size, error = oracle_sparsest(values[r], targets[r], tol, max_size)
        assert code_of(mask[r]) == code, (values[r], targets[r], tol)
        assert errors[r] == error  # the reported error is the sequential sum, bit for bit


@given(dyadic_rows, st.sampled_from([0.0, 1 / 64, 0.1]), st.one_of(st.none(), st.integers(0, 5)))
def test_sparsest_meet_in_the_middle_equals_brute_force_on_exact_sums(rows, tol, max_size):
    values, targets = arrays(rows)
    with every_class(direct=False):
        mask, errors = solve_sparsest(values, targets, tol, max_size)
    for r in range(len(targets)):
        _, size, error = oracle_sparsest(values[r], targets[r], tol, max_size)
        if abs(error) <= tol:
            assert (int(mask[r].sum()), abs(errors[r])) == (size, abs(error))
        else:  # no subset within tol: the least error (classes past the direct ones break ties as solve does)
            assert abs(errors[r]) == abs(error)
            assert max_size is None or mask[r].sum() <= max_size


@given(dyadic_rows, st.integers(0, 6), st.booleans())
def test_fixed_size_is_the_least_error_subset_of_that_size(rows, size, force_meet):
    values, targets = arrays(rows)
    with every_class(direct=not force_meet):
        mask, errors = solve_fixed_size(values, targets, size)
    k = values.shape[1]
    for r in range(len(targets)):
        if k < size:
            assert mask[r].all()
            continue
        same_size = [s for s in all_subsets(values[r], targets[r]) if s[1] == size]
        assert int(mask[r].sum()) == size
        assert abs(errors[r]) == min(abs(s[2]) for s in same_size)


@given(rows_strategy, st.integers(0, 4))
def test_small_subsets_least_error_matches_brute_force(rows, max_size):
    values, targets = arrays(rows)
    mask, errors = solve_small(values, targets, max_size)
    assert (mask.sum(axis=1) <= max_size).all()
    for r in range(len(targets)):
        subsets = [s for s in all_subsets(values[r], targets[r]) if s[1] <= max_size]
        best = min(abs(s[2]) for s in subsets)
        # classes searched directly decide on sequential sums; solve() (when cheaper) on half sums
        assert abs(abs(errors[r]) - best) <= 1e-12 * (np.abs(values[r]).sum() + abs(targets[r]))


def test_sparsest_is_never_less_accurate_than_needed_and_never_denser_than_least_error():
    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, (2000, 20)) * rng.uniform(0, 1, (2000, 20))
    targets = rng.uniform(-0.05, 0.05, 2000)
    mask, errors = solve_sparsest(values, targets, 0.01)
    least_mask, least_errors = solve(values, targets)
    assert np.all(np.abs(least_errors) <= 0.01)  # every row is feasible here
    assert np.all(np.abs(errors) <= 0.01)
    assert np.all(mask.sum(axis=1) <= least_mask.sum(axis=1))
    assert mask.sum() < least_mask.sum() / 4  # the point of the objective (measured: about 1/20)


def test_infeasible_rows_fall_back_to_the_least_error_subset():
    values = np.array([[0.5, 0.25, 0.125] + [0.0] * 13])  # 16 values: the full search settles it (infeasible)
    mask, errors = solve_sparsest(values, np.array([10.0]), 0.01)
    assert errors[0] == pytest.approx(0.875 - 10.0)
    assert code_of(mask[0]) == 0b111


def test_bad_arguments_are_refused():
    values, targets = np.zeros((2, 3)), np.zeros(2)
    for bad in (-1.0, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(InvalidInputError, match="tolerance"):
            solve_sparsest(values, targets, bad)
    for bad in (-1, 1.5, True, 41):
        with pytest.raises(InvalidInputError, match="size"):
            solve_fixed_size(values, targets, bad)
    with pytest.raises(InvalidInputError, match="non-finite"):
        solve_sparsest(np.array([[np.nan]]), np.zeros(1), 0.1)


def test_memory_is_bounded_by_the_class_searched_not_by_all_subsets():
    # 40 values and subsets of at most 2: about 800 sums per row (all 2^40 would never finish)
    rng = np.random.default_rng(1)
    values, targets = rng.uniform(-1, 1, (50_000, 40)), rng.uniform(-1, 1, 50_000)
    mask, errors = solve_small(values, targets, 2)
    assert mask.shape == (50_000, 40) and (mask.sum(axis=1) <= 2).all()
    fixed, _ = solve_fixed_size(values[:4], targets[:4], 20)  # meets in the middle: C(20, 10) per half
    assert (fixed.sum(axis=1) == 20).all()
