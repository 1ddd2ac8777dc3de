"""Exact batched subset-sum (Pensia et al. 2020; docs/theory.md §2, §4): construct/subsetsum.py.

The oracle is :func:`brute_force`: every one of the ``2^k`` subsets of every row. The solver's
``|error|`` must equal the oracle's up to rounding (``1e-12`` of ``sum|values| + |target|``), its
mask must respect ``max_size``, and its reported error must be reproduced exactly by adding the
chosen values in index order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth.constructions.subsetsum import solver as subsetsum
from stronglth.constructions.subsetsum.solver import MAX_K, solve
from stronglth.errors import InvalidInputError


def brute_force(values, targets, max_size=None) -> tuple[np.ndarray, np.ndarray]:
    """Naive oracle: every subset of every row, the best by ``|sum - target|``.

    Sums by a 0/1 matrix product (rounding: ``k`` units in the last place of the scale); the
    returned error of the best subset is the correctly rounded ``math.fsum``.
    """
    values = np.asarray(values, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    n_rows, k = values.shape
    subsets = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(bool)
    if max_size is not None:
        subsets = subsets[subsets.sum(axis=1) <= max_size]
    mask = np.zeros((n_rows, k), dtype=bool)
    errors = np.zeros(n_rows)
    for r in range(n_rows):
        best = int(np.argmin(np.abs(subsets.astype(np.float64) @ values[r] - targets[r])))
        mask[r] = subsets[best]
        errors[r] = math.fsum([*values[r][mask[r]], -targets[r]])
    return mask, errors


def sequential_error(values: np.ndarray, mask: np.ndarray, target: float) -> float:
    """The documented order: chosen values added one by one in index order from 0.0, minus the target."""
    total = 0.0
    for value, chosen in zip(values.tolist(), mask.tolist(), strict=False):
        if chosen:
            total += value
    return total - float(target)


def tolerance(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Rounding slack per row: 1e-12 of the scale, plus a few subnormals for subnormal inputs."""
    return 1e-12 * (np.abs(values).sum(axis=1) + np.abs(targets)) + 1e-300


def check_against_brute_force(values, targets, max_size=None) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    mask, errors = solve(values, targets, max_size=max_size)
    assert mask.shape == values.shape and mask.dtype == bool
    assert errors.shape == targets.shape and errors.dtype == np.float64
    _, best = brute_force(values, targets, max_size)
    slack = tolerance(values, targets)
    # the chosen subset's exact error is within rounding of the optimum (never noticeably worse,
    # and never better than the optimum by more than the oracle's own rounding)
    exact = np.array([math.fsum([*values[r][mask[r]], -targets[r]]) for r in range(len(targets))])
    assert np.all(np.abs(np.abs(exact) - np.abs(best)) <= slack), (exact, best)
    assert np.all(np.abs(np.abs(errors) - np.abs(best)) <= slack), (errors, best)
    if max_size is not None:
        assert np.all(mask.sum(axis=1) <= max_size)
    # a zero is never chosen (the subset without it has the same sums and a lower code), so
    # padding rows with zeros to a common k is harmless
    assert not np.any(mask & (values == 0.0))
    for r in range(len(targets)):
        assert errors[r] == sequential_error(values[r], mask[r], targets[r])
    return mask, errors


# values: U[-1, 1] products (the gadget's v u), and adversarial pools (duplicates, zeros, signed
# zeros, huge and tiny magnitudes, integers); targets may be negative or far outside the reach
special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 0.25, 3.0, 1e100, -1e100, 1e-100, -7e-101, 2.0**-40, 1e-310])
entries = st.one_of(st.floats(-1.0, 1.0), special, st.floats(-1e6, 1e6), st.integers(-5, 5).map(float))


@st.composite
def problems(draw, max_k: int = 14, max_rows: int = 5):
    k = draw(st.integers(0, max_k))
    n_rows = draw(st.integers(1, max_rows))
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        values = rng.uniform(-1, 1, (n_rows, k)) * rng.uniform(-1, 1, (n_rows, k))
        targets = rng.uniform(-2, 2, n_rows)
    else:
        pool = draw(st.lists(entries, min_size=1, max_size=6))  # a small pool: many duplicates
        values = np.array([[draw(st.sampled_from(pool)) for _ in range(k)] for _ in range(n_rows)]).reshape(n_rows, k)
        targets = np.array([draw(st.one_of(entries, st.sampled_from(pool))) for _ in range(n_rows)])
    max_size = draw(st.one_of(st.none(), st.integers(0, k + 1)))
    return values, targets, max_size


@given(problems())
def test_matches_brute_force(problem):
    values, targets, max_size = problem
    check_against_brute_force(values, targets, max_size)


@given(problems(max_k=10))
def test_every_max_size_matches_brute_force(problem):
    values, targets, _ = problem
    for max_size in range(values.shape[1] + 1):
        check_against_brute_force(values, targets, max_size)


integer_rows = st.integers(0, 12).flatmap(
    lambda k: st.lists(st.lists(st.integers(-20, 20), min_size=k, max_size=k), min_size=1, max_size=4)
)


@given(integer_rows, st.data())
def test_integer_problems_are_solved_exactly(rows, data):
    """Integer sums are exact in float64: no rounding slack at all."""
    values = np.array(rows, dtype=np.float64).reshape(len(rows), -1)
    targets = np.array(data.draw(st.lists(st.integers(-60, 60), min_size=len(rows), max_size=len(rows))), dtype=np.float64)
    max_size = data.draw(st.one_of(st.none(), st.integers(0, values.shape[1])))
    _, errors = solve(values, targets, max_size)
    _, best = brute_force(values, targets, max_size)
    assert np.array_equal(np.abs(errors), np.abs(best))


@pytest.mark.parametrize("k", [15, 16, 17])
def test_larger_k_random_products(k):
    rng = np.random.default_rng(k)
    values = rng.uniform(-1, 1, (6, k)) * rng.uniform(-1, 1, (6, k))
    targets = rng.uniform(-1, 1, 6)
    check_against_brute_force(values, targets)
    check_against_brute_force(values, targets, max_size=k // 3)


def test_near_ties_are_resolved_exactly():
    """Two subsets ({0, 1} and {2}) within delta of each other and of the target: the solver must
    pick the closer one even when delta is far below the values (an error of 1e-9 relative in the
    sums would flip it)."""
    rng = np.random.default_rng(3)
    n_rows = 400
    u, v = rng.uniform(0.1, 1.0, n_rows), rng.uniform(0.1, 1.0, n_rows)
    delta = 10.0 ** rng.uniform(-10, -6, n_rows) * rng.choice([-1.0, 1.0], n_rows)
    fraction = rng.choice([0.25, 0.75], n_rows)
    extra = rng.uniform(20, 100, (n_rows, 3)) * rng.choice([-1.0, 1.0], (n_rows, 3))
    values = np.column_stack([u, v, u + v + delta, extra])
    targets = u + v + fraction * delta
    mask, _ = check_against_brute_force(values, targets)
    assert np.array_equal(mask[:, 2], fraction > 0.5)


def test_small_examples():
    mask, errors = solve([[1.0, 1.0, 1.0, 1.0]], [3.0], max_size=2)
    assert mask.sum() == 2 and errors[0] == -1.0
    mask, errors = solve([[0.5, -0.25, 2.0]], [-0.25])
    assert mask.tolist() == [[False, True, False]] and errors[0] == 0.0
    mask, errors = solve([[0.3, 0.6]], [10.0])
    assert mask.tolist() == [[True, True]] and errors[0] == (0.0 + 0.3 + 0.6) - 10.0
    mask, errors = solve([[5.0, 7.0]], [0.1])  # the empty subset is allowed
    assert mask.tolist() == [[False, False]] and errors[0] == -0.1
    mask, errors = solve(np.array([[2, -3, 4]]), np.array([1]))  # integers are accepted
    assert mask.tolist() == [[False, True, True]] and errors[0] == 0.0


def test_ties_are_broken_as_documented():
    """Equal sums: the lowest-coded subset carrying the winning keys (module docstring)."""
    mask, errors = solve([[1.0, 1.0, 1.0, 1.0]], [2.0])
    assert mask.tolist() == [[True, True, False, False]] and errors[0] == 0.0
    mask, errors = solve([[0.5, 0.5, 0.5]], [0.5])
    assert errors[0] == 0.0 and mask.sum() == 1
    mask, _ = solve([[0.0, 0.0, 0.0, 0.0]], [0.0])
    assert not mask.any()
    # rounding makes {5} and {} equally close to 1; size classes must not let a zero in
    values = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 1.78e-41]])
    for max_size in [None, *range(7)]:
        mask, errors = solve(values, [1.0], max_size)
        assert not mask[0, :5].any() and errors[0] == -1.0


def test_empty_shapes():
    mask, errors = solve(np.zeros((0, 5)), np.zeros(0))
    assert mask.shape == (0, 5) and mask.dtype == bool and errors.shape == (0,) and errors.dtype == np.float64
    mask, errors = solve(np.zeros((3, 0)), np.array([1.0, -2.0, 0.0]))
    assert mask.shape == (3, 0) and errors.tolist() == [-1.0, 2.0, 0.0]
    mask, errors = solve(np.zeros((0, 0)), np.zeros(0), max_size=0)
    assert mask.shape == (0, 0) and errors.shape == (0,)


@pytest.mark.parametrize(
    "values, targets, max_size, message",
    [
        ([[1.0, np.nan]], [0.0], None, "non-finite"),
        ([[1.0, np.inf]], [0.0], None, "non-finite"),
        ([[1.0, 2.0]], [np.nan], None, "non-finite"),
        ([[1.0, 2.0]], [-np.inf], None, "non-finite"),
        ([[1.0, 2.0]], [0.0, 1.0], None, "targets must have shape"),
        ([[1.0, 2.0]], [[0.0]], None, "targets must have shape"),
        ([1.0, 2.0], [0.0], None, "2-D"),
        (np.zeros((1, MAX_K + 1)), [0.0], None, "too many"),
        ([[1.0, 2.0]], [0.0], -1, "max_size"),
        ([[1.0, 2.0]], [0.0], 1.0, "max_size"),
        ([[1.0, 2.0]], [0.0], True, "max_size"),
        ([[1.0, 2.0]], [0.0], "2", "max_size"),
        ([[1e308, 1e308]], [0.0], None, "overflows"),
        ([[1 + 1j, 2.0]], [0.0], None, "real"),
        ([[True, False]], [0.0], None, "real"),
        (np.array([[1.0, None]], dtype=object), [0.0], None, "real"),
    ],
)
def test_bad_inputs_raise(values, targets, max_size, message):
    with pytest.raises(InvalidInputError, match=message):
        solve(values, targets, max_size=max_size)


@given(problems(max_k=16, max_rows=8))
def test_deterministic_and_independent_of_batching(problem):
    values, targets, max_size = problem
    mask, errors = solve(values, targets, max_size)
    again_mask, again_errors = solve(values.copy(), targets.copy(), max_size)
    assert np.array_equal(mask, again_mask) and np.array_equal(errors, again_errors)
    # each row alone gives what it gave in the batch, bit for bit
    for r in range(len(targets)):
        row_mask, row_errors = solve(values[r : r + 1], targets[r : r + 1], max_size)
        assert np.array_equal(row_mask[0], mask[r]) and row_errors[0] == errors[r]
    # and so does any order of the rows
    order = np.random.default_rng(len(targets)).permutation(len(targets))
    perm_mask, perm_errors = solve(values[order], targets[order], max_size)
    assert np.array_equal(perm_mask, mask[order]) and np.array_equal(perm_errors, errors[order])


def test_batching_does_not_change_results(monkeypatch):
    rng = np.random.default_rng(7)
    values = rng.uniform(-1, 1, (300, 12)) * rng.uniform(-1, 1, (300, 12))
    values[::7, 3] = values[::7, 5]  # some duplicates (tied sums)
    values[::11, 0] = 0.0
    targets = rng.uniform(-1, 1, 300)
    for max_size in (None, 4):
        mask, errors = solve(values, targets, max_size)
        monkeypatch.setattr(subsetsum, "BATCH_BYTES", 1)  # one row per batch
        small_mask, small_errors = solve(values, targets, max_size)
        monkeypatch.undo()
        assert np.array_equal(mask, small_mask) and np.array_equal(errors, small_errors)


def test_random_subset_sum_is_dense():
    """Lueker (1998), the reason the subset-sum gadget needs only O(log 1/eta) units: with k = 16
    products of U[-1, 1] pairs, targets in [-0.5, 0.5] are hit far more closely than by one unit."""
    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, (200, 16)) * rng.uniform(-1, 1, (200, 16))
    targets = rng.uniform(-0.5, 0.5, 200)
    _, errors = solve(values, targets)
    _, single = solve(values, targets, max_size=1)
    assert np.median(np.abs(errors)) < 1e-3 < np.median(np.abs(single))
    assert np.all(np.abs(errors) <= np.abs(single) + tolerance(values, targets))
