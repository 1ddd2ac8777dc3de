"""A-priori bounds of the depth l + 1 construction (docs/theory.md §14.3-14.5): the subset-sum lemma's
explicit failure bound, its block sizes, the tolerances and the theorem's fixed point.

Oracles: numeric integration of the laws' densities on a fine grid, Monte Carlo with the exact solver."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import InvalidInputError, RandomNetwork, bounds
from stronglth.bounds.burkholz import LAWS
from stronglth.constructions.subsetsum.solver import solve

etas = st.floats(1e-6, 0.2)
w_maxes = st.floats(0.01, 1.0)
laws = st.sampled_from(sorted(LAWS))


@settings(deadline=None)
@given(st.integers(0, 400), st.integers(0, 50), st.integers(0, 400), etas, w_maxes, laws, st.sampled_from([0.5, 0.75, 0.9375]))
def test_the_failure_bound_never_grows_with_more_values(n1, n2, r, eta, w_max, law, x):
    n2 = 0 if x == 0.5 else n2
    base = bounds.subset_sum_failure(n1, n2, r, eta=eta, w_max=w_max, law=law, x=x)
    assert 0.0 <= base <= 1.0
    assert bounds.subset_sum_failure(n1, n2, r + 1, eta=eta, w_max=w_max, law=law, x=x) <= base
    if base < 1.0:  # past the phase-1 threshold more values only help
        assert bounds.subset_sum_failure(n1 + 1, n2, r, eta=eta, w_max=w_max, law=law, x=x) <= base


@settings(deadline=None)
@given(st.floats(1e-5, 0.1), st.floats(0.05, 0.75), st.floats(1e-9, 0.1), laws)
def test_block_size_meets_its_failure_budget(eta, w_max, failure, law):
    k, (n1, n2, r, x) = bounds.subset_sum_block_size(eta, w_max, failure, law=law)
    assert k == n1 + n2 + r
    assert bounds.subset_sum_failure(n1, n2, r, eta=eta, w_max=w_max, law=law, x=x) <= failure


def _least_mass(density, lo: float, hi: float, measure: float, points: int = 200_001) -> float:
    """Naive reference: the mass on the least likely part of measure ``measure`` of ``[lo, hi]``."""
    grid = np.linspace(lo, hi, points)
    values = np.sort(density(0.5 * (grid[1:] + grid[:-1])))
    step = grid[1] - grid[0]
    count = int(measure / step)
    return float(values[:count].sum() * step)


@settings(deadline=None)
@given(st.floats(0.5, 0.999), st.floats(0.0, 1.0))
def test_landing_bound_is_the_least_likely_part_of_the_window(x, w):
    law = LAWS["product"]

    def density(y):
        return np.where(np.abs(y) < 1.0, 0.25 * np.log(1.0 / np.maximum(np.abs(y), 1e-300)), 0.0)

    reference = _least_mass(density, w - law.a, w + law.a, 2 * law.a * x)
    assert law.landing(x, w) == pytest.approx(reference, abs=2e-4)
    uniform = LAWS["uniform"]

    def flat(y):
        return np.where(np.abs(y) <= 1.0, 0.5, 0.0)

    assert uniform.landing(x, w) == pytest.approx(_least_mass(flat, w - 0.5, w + 0.5, x), abs=2e-4)


def test_the_lemma_against_monte_carlo_with_the_exact_solver():
    # uniform values, target w = 0.45, eta = 0.02: the lemma's bound at k = 20 against 4000 seeded draws
    eta, w, k, trials = 0.02, 0.45, 20, 4000
    values = np.random.default_rng(0).uniform(-1, 1, (trials, k))
    _, errors = solve(values, np.full(trials, w))
    measured = float(np.mean(np.abs(errors) > eta))
    best = min(bounds.subset_sum_failure(n1, 0, k - n1, eta=eta, w_max=w, law="uniform") for n1 in range(k + 1))
    assert measured <= best


def test_tolerances_spend_exactly_eps():
    dims, ks = (4, 8, 3, 1), (30, 12, 9)
    etas = bounds.burkholz_tolerances(dims, 0.1, ks)
    gammas = bounds.burkholz_amplification(dims, ks)
    assert sum(g * e for g, e in zip(gammas, etas, strict=True)) == pytest.approx(0.1, rel=1e-12)
    assert gammas[-1] == pytest.approx(math.sqrt(3 * 1))  # the output layer: sqrt(n_{l-1} n_l) R, R = 1
    assert gammas[0] == pytest.approx(math.sqrt(2 * 4 * 1) * 8 * 12 * 3 * 9)


@pytest.mark.parametrize("dims", [(1, 2), (2, 3), (4, 8, 1), (3, 4, 2, 2)])
def test_theorem_block_sizes_are_a_fixed_point_within_delta(dims):
    ks = bounds.burkholz_theorem_block_sizes(dims, 0.2, 0.05)
    etas = bounds.burkholz_tolerances(dims, 0.2, ks)
    tau = 0.05 / sum(bounds.burkholz_event_counts(dims, ks))
    for i, (k, eta) in enumerate(zip(ks, etas, strict=True)):
        w_max = min(1.0, 1.0 / math.sqrt(dims[i]))
        assert k == max(1, bounds.subset_sum_block_size(eta, w_max, tau, law="product" if i == 0 else "uniform")[0])
    assert bounds.burkholz_failure_probability(dims, ks, 0.2) <= 0.05
    assert bounds.burkholz_theorem_block_sizes(dims, 0.1, 0.05) >= ks  # smaller eps, no smaller first block


def test_layout_matches_a_random_network():
    dims, ks = (3, 4, 2), (5, 7)
    widths = bounds.burkholz_dims(dims, ks)
    network = RandomNetwork([(widths[t + 1], widths[t]) for t in range(len(widths) - 1)], seed=0)
    assert network.depth == len(dims) and network.dims == (3, 15, 28, 2)
    assert network.parameter_count == bounds.burkholz_parameter_count(dims, ks)
    assert bounds.burkholz_event_counts(dims, ks) == (2 * 4 * 7 * 3, 2 * 1 * 4)


def test_refusals():
    with pytest.raises(InvalidInputError, match="no bound"):
        bounds.subset_sum_block_size(1e-3, 1.6, 1e-3, law="uniform")  # beyond any sum of one fresh value and [-1/2, 1/2]
    with pytest.raises(InvalidInputError):
        bounds.burkholz_dims((3, 4), (1, 2))


@pytest.mark.parametrize("a", [0.01, 0.1, 0.5])
def test_leaky_tolerances_spend_exactly_eps(a):
    # docs/theory.md §14.6: h_1 = 2 (1 + a^2) in gamma_1, every other gamma_i as for the ReLU
    dims, ks = (4, 8, 3, 1), (30, 12, 9)
    etas = bounds.burkholz_tolerances(dims, 0.1, ks, negative_slope=a)
    gammas = bounds.burkholz_amplification(dims, ks, negative_slope=a)
    relu = bounds.burkholz_amplification(dims, ks)
    assert sum(g * e for g, e in zip(gammas, etas, strict=True)) == pytest.approx(0.1, rel=1e-12)
    assert gammas[0] == pytest.approx(math.sqrt(2 * (1 + a * a) * 4 * 1) * 8 * 12 * 3 * 9, rel=1e-14)
    assert gammas[0] == pytest.approx(relu[0] * math.sqrt(1 + a * a), rel=1e-14) and gammas[1:] == relu[1:]
    assert bounds.burkholz_amplification(dims, ks, negative_slope=0.0) == relu


@pytest.mark.parametrize("dims, a", [((2, 3), 0.5), ((4, 8, 1), 0.1), ((3, 4, 2, 2), 0.01)])
def test_leaky_theorem_block_sizes_are_a_fixed_point_within_delta(dims, a):
    # the first layer's subset sums approximate W_1 / (1 + a): w_max,1 / (1 + a) in the lemma
    ks = bounds.burkholz_theorem_block_sizes(dims, 0.2, 0.05, negative_slope=a)
    etas = bounds.burkholz_tolerances(dims, 0.2, ks, negative_slope=a)
    tau = 0.05 / sum(bounds.burkholz_event_counts(dims, ks))
    for i, (k, eta) in enumerate(zip(ks, etas, strict=True)):
        w_max = min(1.0, 1.0 / math.sqrt(dims[i])) / (1 + a if i == 0 else 1)
        assert k == max(1, bounds.subset_sum_block_size(eta, w_max, tau, law="product" if i == 0 else "uniform")[0])
    assert bounds.burkholz_failure_probability(dims, ks, 0.2, negative_slope=a) <= 0.05
    with pytest.raises(InvalidInputError, match="negative_slope"):
        bounds.burkholz_theorem_block_sizes(dims, 0.2, 0.05, negative_slope=1.0)
