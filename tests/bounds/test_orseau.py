"""A-priori width and depth of the Orseau et al. construction (docs/theory.md §13): bounds/orseau.py.

Oracles: Monte Carlo over hyperbolic weights drawn by an independent inverse transform, numeric
integration of the triangular law, and the union bound written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import InvalidInputError, bounds
from stronglth.bounds import (
    ORSEAU_BASE,
    ORSEAU_LEVEL_WIDTH,
    orseau_block_sizes,
    orseau_failure_probability,
    orseau_hyperbolic_parameters,
    orseau_layer_parameters,
    orseau_level_probability,
    orseau_levels,
    orseau_top_level,
    orseau_units_per_weight_bound,
    orseau_widths,
)

dims_strategy = st.lists(st.integers(1, 50), min_size=2, max_size=4).map(tuple)


@pytest.mark.parametrize("a_u, a_v", [(0.5, 0.5), (0.087, 0.087), (0.0077, 0.45), (0.45, 0.0077), (1e-3, 0.67)])
def test_level_probability_against_monte_carlo(a_u, a_v):
    rng = np.random.default_rng(1)
    n = 400_000
    u = np.where(rng.random(n) < 0.5, -1.0, 1.0) * np.exp(rng.random(n) * math.log(a_u))  # |u| = a^U: density 1/(|u| ln(1/a))
    v = np.where(rng.random(n) < 0.5, -1.0, 1.0) * np.exp(rng.random(n) * math.log(a_v))
    t = -np.log(np.abs(u * v))
    for k in range(1, 14):
        event = (u > 0) & (u * v > 0) & (t >= (k - 1) * ORSEAU_LEVEL_WIDTH) & (t <= k * ORSEAU_LEVEL_WIDTH)
        q = orseau_level_probability(k, a_u, a_v)
        assert abs(event.mean() - q) <= 5 * math.sqrt(max(q, 1e-6) / n) + 1e-5
    assert orseau_level_probability(3, a_u) == orseau_level_probability(3, a_u, a_u)


@given(a_u=st.floats(1e-6, 0.99), a_v=st.floats(1e-6, 0.99))
def test_level_probabilities_sum_to_a_quarter_and_match_the_integral(a_u, a_v):
    big, small = max(-math.log(a_u), -math.log(a_v)), min(-math.log(a_u), -math.log(a_v))
    total_levels = math.ceil((big + small) / ORSEAU_LEVEL_WIDTH) + 1
    qs = [orseau_level_probability(k, a_u, a_v) for k in range(1, total_levels + 1)]
    assert sum(qs) == pytest.approx(0.25, rel=1e-9)
    k = 1 + total_levels // 2
    low, high = (k - 1) * ORSEAU_LEVEL_WIDTH, k * ORSEAU_LEVEL_WIDTH
    kinks = [t for t in (small, big, big + small) if low < t < high]  # piecewise linear: exact with its kinks
    grid = np.unique(np.concatenate((np.linspace(low, high, 2_001), kinks)))
    density = np.clip(np.minimum(np.minimum(grid, small), big + small - grid), 0, None) / (big * small)  # the trapezoid
    integral = float(np.sum((density[1:] + density[:-1]) / 2 * np.diff(grid)))
    assert orseau_level_probability(k, a_u, a_v) == pytest.approx(integral / 4, rel=1e-6, abs=1e-12)


@given(start=st.integers(2, 30), extra=st.integers(0, 60))
def test_hyperbolic_parameters_put_every_needed_level_in_the_flat_part(start, extra):
    levels = start + extra
    a_u, a_v = orseau_hyperbolic_parameters(start, levels)
    assert 0 < a_u < 1 and 0 < a_v < 1 and float(f"{a_u:.2g}") == a_u and float(f"{a_v:.2g}") == a_v
    big, small = -math.log(a_u), -math.log(a_v)
    assert big >= levels * ORSEAU_LEVEL_WIDTH * (1 - 1e-12) and small <= (start - 1) * ORSEAU_LEVEL_WIDTH * (1 + 1e-12)
    flat = ORSEAU_LEVEL_WIDTH / (4 * big)  # every needed level has the same probability lam / (4 A)
    for k in range(start, levels + 1):
        assert orseau_level_probability(k, a_u, a_v) == pytest.approx(flat, rel=1e-9)
    assert flat >= 1 / (4 * (levels + 0.26))  # the stated constant: rounding adds at most ln(10/9)/lam to A/lam


@given(dims=dims_strategy, eps=st.floats(0.01, 0.9), delta=st.floats(0.001, 0.5))
def test_theorem_block_sizes_meet_delta_and_widths_chain(dims, eps, delta):
    ks = orseau_block_sizes(dims, eps, delta)
    assert orseau_failure_probability(dims, eps, ks) <= delta
    widths = orseau_widths(dims, eps, delta)
    assert widths == (dims[0],) + tuple(w for i, k in enumerate(ks, 1) for w in (dims[i - 1] * k, dims[i]))
    assert bounds.orseau_depth(dims) == 2 * (len(dims) - 1)
    for row, eta in zip(orseau_layer_parameters(dims, eps), bounds.per_weight_tolerance(dims, eps), strict=True):
        assert row["levels"] == orseau_levels(eta)


@given(dims=dims_strategy, eps=st.floats(0.01, 0.9))
def test_block_sizes_are_the_least_the_union_bound_allows(dims, eps):
    """The written-out bound: ``l N L (1 - q_min)^k <= delta`` at ``k`` and not at ``k - 1``."""
    delta, l = 0.05, len(dims) - 1
    for k, row in zip(orseau_block_sizes(dims, eps, delta), orseau_layer_parameters(dims, eps), strict=True):
        count = row["levels"] - row["start_level"] + 1
        if count <= 0:
            assert k == 1
            continue
        union = [l * row["events"] * count * (1 - row["q_min"]) ** kk for kk in (k - 1, k)]
        assert union[1] <= delta * (1 + 1e-9) and (k == 1 or union[0] > delta * (1 - 1e-9))


@given(eta=st.floats(1e-8, 0.9), m=st.floats(1e-8, 1.0))
def test_units_per_weight_bound_is_logarithmic_with_the_stated_constant(eta, m):
    per_side = orseau_units_per_weight_bound(eta, m, sides=1)
    assert per_side <= orseau_levels(eta) <= 2 + math.log(1 / eta) / ORSEAU_LEVEL_WIDTH
    assert orseau_units_per_weight_bound(eta, m, sides=2) == 2 * per_side
    top = orseau_top_level(m)
    assert ORSEAU_BASE**top <= m and (top == 1 or ORSEAU_BASE ** (top - 1) > m)


def test_bad_arguments_are_package_errors():
    with pytest.raises(InvalidInputError):
        orseau_level_probability(1, 1.5)
    with pytest.raises(InvalidInputError):
        orseau_block_sizes((2, 2), 0.1, 1.5)
    with pytest.raises(InvalidInputError, match="one value per layer"):
        orseau_failure_probability((2, 2), 0.1, [3, 3])
    with pytest.raises(InvalidInputError, match="one value per layer"):
        orseau_block_sizes((2, 2), 0.1, 0.05, magnitudes=[0.1, 0.2])
