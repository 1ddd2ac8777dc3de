"""Statistics shared by the experiments (stronglth/experiments/toolkit.py, re-exported by _common.py): least-squares fits with
t intervals, Clopper-Pearson intervals, targets from config fields."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from stronglth.errors import InvalidInputError
from stronglth.experiments._common import ONE_WEIGHT, clopper_pearson, linear_fit, make_target, power_fit


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
