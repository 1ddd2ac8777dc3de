"""The public toolkit of experiments (stronglth/experiments/toolkit.py): the smallest-block-size
search against the built-in width-vs-eps cell and against direct constructions; least-squares fits
with t intervals, Clopper-Pearson intervals, targets from config fields."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from stronglth import TicketNotFound, construct, random_target
from stronglth.errors import InvalidInputError
from stronglth.experiments import toolkit
from stronglth.experiments import width_vs_eps as wve
from stronglth.experiments.toolkit import ONE_WEIGHT, clopper_pearson, linear_fit, make_target, power_fit


def test_the_builtins_share_the_toolkits_objects():
    assert wve.search is toolkit.threshold_search


def direct_successes(target, method, eps, delta, k, seeds) -> int:
    """Successes over seeds 0..seeds-1 by calling construct directly (the oracle)."""
    out = 0
    for seed in range(seeds):
        options = dict(eps=eps, delta=delta, seed=seed, block_sizes=[k] * target.depth, progress=False)
        try:
            if method == "subsetsum":
                construct(target, method="subsetsum", **options)
            else:
                construct(target, method="malach", rule=method.split("-")[1], **options)
            out += 1
        except TicketNotFound:
            pass
    return out


@pytest.mark.parametrize("method, eps, seeds, delta", [("malach-best", 0.4, 4, 0.3), ("subsetsum", 0.1, 3, 0.1)])
def test_smallest_block_size_is_the_width_vs_eps_measurement(method, eps, seeds, delta):
    target = random_target(2, [2, 1], seed=0)
    found = toolkit.smallest_block_size(target, method, eps=eps, delta=delta, seeds=seeds, rtol=0.1)
    builtin = wve.cell(wve.WidthVsEpsCell(method=method, eps=eps, seeds=seeds, delta=delta, rtol=0.1))
    assert (found.k, found.k_fail, found.successes, found.allowed_failures, found.theorem_k, found.constructions) == (
        builtin["k"],
        builtin["k_fail"],
        builtin["successes"],
        builtin["allowed_failures"],
        builtin["theorem_k"],
        builtin["constructions"],
    )
    needed = seeds - found.allowed_failures
    assert direct_successes(target, method, eps, delta, found.k, seeds) == found.successes >= needed
    if found.k_fail > 0:
        assert direct_successes(target, method, eps, delta, found.k_fail, seeds) < needed
    assert found.as_dict()["k"] == found.k


def test_construction_succeeds_is_construct_not_raising():
    target = random_target(2, [2, 1], seed=0)
    assert toolkit.construction_succeeds(target, "malach-best", eps=0.4, delta=0.3, seed=0, block_sizes=[1, 1]) is False
    assert toolkit.construction_succeeds(target, "malach-best", eps=0.4, delta=0.3, seed=0, block_sizes=[3000, 3000]) is (
        direct_successes(target, "malach-best", 0.4, 0.3, 3000, 1) == 1
    )


def test_a_cap_that_never_passes_gives_no_block_size():
    target = random_target(2, [2, 1], seed=0)
    found = toolkit.smallest_block_size(target, "malach-best", eps=0.4, delta=0.3, seeds=2, start=1, cap=4)
    assert found.k is None and found.successes is None and found.k_fail == 4


def test_bad_arguments_are_package_errors():
    target = random_target(2, [2, 1], seed=0)
    for kwargs, message in [
        (dict(method="malach"), "method must be one of"),
        (dict(delta=1.0), "delta must lie in"),
        (dict(seeds=0), "seeds must be a positive integer"),
        (dict(rtol=0.0), "rtol must be > 0"),
        (dict(start=0), "positive block sizes"),
    ]:
        options = dict(method="subsetsum", eps=0.2, delta=0.1, seeds=2) | kwargs
        with pytest.raises(InvalidInputError, match=message):
            toolkit.smallest_block_size(target, options.pop("method"), **options)


@given(slope=st.floats(-5, 5), intercept=st.floats(-5, 5), n=st.integers(3, 12))
def test_fits_recover_exact_lines_and_power_laws(slope, intercept, n):
    x = np.linspace(1.0, 4.0, n)
    fit = linear_fit(x, intercept + slope * x)
    assert fit.slope == pytest.approx(slope, abs=1e-9) and fit.intercept == pytest.approx(intercept, abs=1e-8)
    assert fit.low <= fit.slope <= fit.high and fit.high - fit.low < 1e-6
    power = power_fit(np.exp(x), np.exp(intercept) * np.exp(x) ** slope)
    assert power.slope == pytest.approx(slope, abs=1e-9)


def test_slope_interval_has_its_nominal_coverage():
    """t-based 95% intervals from 6 noisy points cover the true slope in ~95% of 1000 data sets
    (a normal-quantile interval would cover ~88% and fail this)."""
    rng = np.random.default_rng(0)
    x = np.arange(6.0)
    covered = 0
    for _ in range(1000):
        fit = linear_fit(x, 1.0 + 1.5 * x + rng.normal(0.0, 0.7, x.size))
        covered += fit.low <= 1.5 <= fit.high
    assert 0.93 <= covered / 1000 <= 0.97


def test_fit_without_enough_points_has_no_interval():
    fit = linear_fit([1.0, 2.0], [1.0, 3.0])
    assert fit.slope == pytest.approx(2.0) and math.isnan(fit.low) and math.isnan(fit.high)
    assert math.isnan(linear_fit([1.0], [1.0]).slope)


@given(trials=st.integers(1, 400), data=st.data())
def test_clopper_pearson_matches_scipy(trials, data):
    failures = data.draw(st.integers(0, trials))
    low, high = clopper_pearson(failures, trials)
    ci = stats.binomtest(failures, trials).proportion_ci(confidence_level=0.95, method="exact")
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("p", [0.01, 0.05, 0.2, 0.5])
def test_clopper_pearson_covers_at_least_95_percent(p):
    n = 40
    intervals = [clopper_pearson(k, n) for k in range(n + 1)]
    coverage = sum(stats.binom.pmf(k, n, p) for k, (lo, hi) in enumerate(intervals) if lo <= p <= hi)
    assert coverage >= 0.95


def test_targets_from_config_fields():
    one = make_target(1, (1,), ONE_WEIGHT, 0)
    assert one.dims == (1, 1) and one.weights[0][0, 0] == 1.0
    t = make_target(2, (2, 1), "gaussian", 0)
    assert t.dims == (2, 2, 1)
    with pytest.raises(InvalidInputError):
        make_target(2, (1,), ONE_WEIGHT, 0)
    with pytest.raises(InvalidInputError):
        make_target(2, (2, 1), "nope", 0)
