"""The base-3/2 decomposition lemma (Orseau et al. 2020; docs/theory.md §13): constructions/orseau/decomposition.py.

Oracle: the greedy digit rule written out as a plain Python loop over floats, and the lemma's bound
``(3/2) beta^K`` whenever every level ``s..K`` holds a value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import InvalidInputError
from stronglth.bounds import ORSEAU_BASE, orseau_levels, orseau_start_level
from stronglth.constructions.orseau.decomposition import greedy_decomposition, level_bounds, level_of

BETA = ORSEAU_BASE
magnitudes = st.floats(1e-12, 1.0, allow_nan=False, exclude_min=False)


def naive_greedy(tau: float, values: list[float]) -> tuple[list[bool], float]:
    r, taken = tau, []
    for a in values:
        take = a == a and a <= r  # NaN: no value at this level
        taken.append(take)
        if take:
            r = r - a
    return taken, r


@given(m=st.lists(magnitudes, min_size=1, max_size=30))
def test_level_of_puts_every_magnitude_in_its_level(m):
    k = level_of(m)
    low, high = level_bounds(k)
    assert np.all(k >= 1)
    assert np.all((low <= np.array(m)) & (np.array(m) <= high))


def test_level_of_has_no_level_for_zero_nan_or_above_one():
    assert level_of([0.0, -0.5, np.nan, 1.5]).tolist() == [0, 0, 0, 0]
    assert level_of([1.0, 2.0 / 3.0 + 1e-12, 2.0 / 3.0 - 1e-12]).tolist() == [1, 1, 2]


@st.composite
def covered_instances(draw):
    """A start level s, a deepest level K >= s, tau in [0, (3/2) beta^(s-1)], a value in every level
    s..K (a factor in [1, 3/2] above beta^k), and arbitrary values or gaps before s."""
    s = draw(st.integers(1, 8))
    K = draw(st.integers(s, 30))
    tau = draw(st.floats(0.0, 1.5 * BETA ** (s - 1)))
    values = []
    for k in range(1, K + 1):
        factor = draw(st.floats(1.0, 1.5))
        present = k >= s or draw(st.booleans())
        values.append(min(BETA**k * factor, BETA ** (k - 1)) if present else np.nan)
    return s, K, tau, values


@given(instance=covered_instances())
def test_greedy_error_is_within_the_lemma_bound_when_every_level_is_covered(instance):
    s, K, tau, values = instance
    taken, residual = greedy_decomposition([tau], [values])
    assert 0.0 <= residual[0] <= 1.5 * BETA**K + 1e-14  # float subtraction: a few ulps of tau
    expected_taken, expected_residual = naive_greedy(tau, values)
    assert taken[0].tolist() == expected_taken and residual[0] == expected_residual


@given(
    tau=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    levels=st.integers(1, 20),
    data=st.data(),
)
def test_greedy_with_gaps_matches_the_naive_loop_and_never_beats_the_empty_subset_by_going_negative(tau, levels, data):
    values = [
        [data.draw(st.one_of(st.just(np.nan), st.floats(BETA**k, BETA ** (k - 1)))) for k in range(1, levels + 1)] for _ in tau
    ]
    taken, residual = greedy_decomposition(tau, values)
    for row, (t, v) in enumerate(zip(tau, values, strict=True)):
        expected_taken, expected_residual = naive_greedy(t, v)
        assert taken[row].tolist() == expected_taken and residual[row] == expected_residual
        assert 0.0 <= residual[row] <= t  # never worse than keeping nothing


@given(eta=st.floats(1e-9, 0.99), m=st.floats(1e-6, 1.0))
def test_orseau_levels_and_start_level_are_the_lemma_s(eta, m):
    K = orseau_levels(eta)
    assert BETA ** (K - 1) <= eta and (K == 1 or BETA ** (K - 2) > eta)  # the least such K
    s = orseau_start_level(m)
    assert m <= 1.5 * BETA ** (s - 1) and m > 1.5 * BETA**s  # the largest such s


def test_bad_arguments_are_package_errors():
    with pytest.raises(InvalidInputError, match="targets must be"):
        greedy_decomposition([-0.1], [[0.5]])
    with pytest.raises(InvalidInputError, match="level_values must be > 0"):
        greedy_decomposition([0.1], [[0.0]])
    with pytest.raises(InvalidInputError, match=r"\(B,\)"):
        greedy_decomposition([0.1, 0.2], [[0.5]])
