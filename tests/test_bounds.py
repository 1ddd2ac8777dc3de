"""Tests of stronglth.bounds (docs/theory.md §3-4) against independent, naive oracles.

Oracles: numerical integration and Monte Carlo for the probabilities, mpmath at high precision for
the block-size inequality, a dense grid for the worst case, a closed form and a direct simulation of
a perturbed ReLU network for the certified bound, and the worked example published in docs/theory.md §4.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from stronglth import bounds
from stronglth.errors import InvalidInputError

FAST = settings(deadline=None)  # example counts come from the profile in conftest.py

dims_strategy = st.lists(st.integers(1, 12), min_size=2, max_size=5).map(tuple)


# --------------------------------------------------------------------------- product_cdf


def test_product_cdf_matches_integral_of_minus_log():
    for z in [1e-12, 1e-6, 0.01, 0.1, 0.25, 0.5, 0.77, 0.999, 1.0]:
        # the density -ln t on (0, z], integrated after t = exp(-x) (a smooth integrand)
        ref, _ = integrate.quad(lambda x: x * math.exp(-x), -math.log(z), math.inf, epsabs=0, epsrel=1e-12)
        assert bounds.product_cdf(z) == pytest.approx(ref, rel=1e-9, abs=0)


def test_product_cdf_endpoints_and_range():
    assert bounds.product_cdf(0.0) == 0.0  # no NaN from 0 * ln 0
    assert bounds.product_cdf(1.0) == pytest.approx(1.0, abs=1e-15)
    vals = bounds.product_cdf(np.array([-0.5, 0.0, 1.0, 2.0]))
    assert not np.isnan(vals).any()
    np.testing.assert_allclose(vals, [0.0, 0.0, 1.0, 1.0], atol=1e-15)
    grid = np.linspace(0.0, 1.0, 1001)
    assert np.all(np.diff(bounds.product_cdf(grid)) > 0)
    assert isinstance(bounds.product_cdf(0.3), float)
    assert bounds.product_cdf(grid).dtype == np.float64


def test_product_cdf_matches_monte_carlo_ks():
    rng = np.random.default_rng(12345)
    n = 200_000
    z = np.sort(rng.uniform(size=n) * rng.uniform(size=n))
    cdf = bounds.product_cdf(z)
    upper = np.arange(1, n + 1) / n
    lower = np.arange(0, n) / n
    ks = max(np.max(upper - cdf), np.max(cdf - lower))
    assert ks < 1.95 / math.sqrt(n)  # KS critical value at level ~0.001


# --------------------------------------------------------------------------- hit / matching


def _mc_uv(seed, n=1_000_000):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, n), rng.uniform(-1.0, 1.0, n)


@pytest.mark.parametrize(
    "w, eta",
    [
        (0.0, 0.05),
        (0.02, 0.05),
        (-0.03, 0.1),
        (0.1, 0.05),
        (-0.3, 0.02),
        (0.5, 0.1),
        (0.95, 0.1),
        (0.7, 0.4),
        (-1.0, 0.3),
        (0.2, 0.9),
    ],
)
def test_hit_probability_against_monte_carlo(w, eta):
    u, v = _mc_uv(7)
    n = u.size
    p = bounds.hit_probability(w, eta)
    freq = np.mean((u > 0) & (np.abs(v * u - w) <= eta))
    sigma = math.sqrt(max(p * (1 - p), 1e-12) / n)
    if abs(w) >= eta:  # exact
        assert abs(freq - p) <= 5 * sigma
    else:  # lower bound (the wrong sign of v can also come within eta)
        assert p <= freq + 5 * sigma
    # and exact for the event it describes: u > 0, sign(v) = sign(w), ||v|u - |w|| <= eta
    sgn = 1.0 if w >= 0 else -1.0
    freq_exact = np.mean((u > 0) & (np.sign(v) == sgn) & (np.abs(np.abs(v) * u - abs(w)) <= eta))
    assert abs(freq_exact - p) <= 5 * sigma


def _mp_phi(z):
    z = mpmath.mpf(z)
    if z <= 0:
        return mpmath.mpf(0)
    return mpmath.mpf(1) if z >= 1 else z - z * mpmath.log(z)


@FAST
@given(w=st.floats(-1.2, 1.2), eta=st.floats(1e-9, 2.0))
def test_hit_probability_is_accurate(w, eta):
    # the formula of docs/theory.md §4 evaluated naively at 50 digits; float64 must keep ~all digits,
    # also near |w| = 1 where p ~ eta^2 / 8 is the difference of two CDF values close to 1
    with mpmath.workdps(50):
        a, e = abs(mpmath.mpf(w)), mpmath.mpf(eta)
        ref = (_mp_phi(min(a + e, 1)) - _mp_phi(max(a - e, 0))) / 4
        p = bounds.hit_probability(w, eta)
        assert abs(p - ref) <= 1e-13 * ref + 1e-300


@pytest.mark.parametrize("w, eta", [(1.0, 1e-6), (1.0, 1e-4), (0.0, 1e-9), (0.999, 1e-7), (1.0 + 5e-7, 1e-6)])
def test_hit_probability_is_accurate_at_the_edges(w, eta):
    with mpmath.workdps(50):
        a, e = abs(mpmath.mpf(w)), mpmath.mpf(eta)
        ref = (_mp_phi(min(a + e, 1)) - _mp_phi(max(a - e, 0))) / 4
        assert bounds.hit_probability(w, eta) == pytest.approx(float(ref), rel=1e-13, abs=0)


def test_hit_probability_vectorised_and_symmetric():
    w = np.linspace(-1.2, 1.2, 241)
    p = bounds.hit_probability(w, 0.07)
    assert p.shape == w.shape and p.dtype == np.float64
    np.testing.assert_array_equal(p, bounds.hit_probability(-w, 0.07))
    for wi, pi in zip(w[::17], p[::17], strict=False):
        assert bounds.hit_probability(float(wi), 0.07) == pi
    assert np.all(p >= 0) and np.all(p <= 0.25 + 1e-15)
    assert bounds.hit_probability(1.2, 0.1) == 0.0  # out of reach of |v u| <= 1


@pytest.mark.parametrize(
    "w, eta",
    [(0.0, 0.1), (0.01, 0.1), (-0.2, 0.05), (0.5, 0.2), (0.98, 0.1), (-1.0, 0.3), (0.3, 1.0), (0.3, 3.0)],
)
def test_matching_probability_against_monte_carlo(w, eta):
    u, v = _mc_uv(11)
    n = u.size
    p = bounds.matching_probability(w, eta)
    sgn = 1.0 if w >= 0 else -1.0
    event = (u > 0) & (np.abs(u - abs(w)) <= eta / 2) & (np.sign(v) == sgn) & (np.abs(v) >= 1 - eta / 2)
    freq = np.mean(event)
    sigma = math.sqrt(max(p * (1 - p), 1e-12) / n)
    assert abs(freq - p) <= 5 * sigma
    # a matched candidate is within eta of w
    assert np.all(np.abs(v[event] * u[event] - w) <= eta + 1e-12)


@FAST
@given(w=st.floats(-1.0, 1.0), eta=st.floats(1e-6, 1.0))
def test_matching_properties(w, eta):
    pm = bounds.matching_probability(w, eta)
    assert pm >= eta**2 / 16 * (1 - 1e-12)
    assert pm <= bounds.hit_probability(w, eta) * (1 + 1e-9) + 1e-300


@FAST
@given(
    w=st.floats(-1.0, 1.0),
    eta=st.floats(1e-4, 1.0),
    a=st.floats(-1.0, 1.0),
    b=st.floats(0.0, 1.0),
)
def test_matched_candidate_is_within_eta(w, eta, a, b):
    # build a candidate in the matching event from two free parameters in [-1, 1] x [0, 1]
    aw = abs(w)
    lo, hi = max(aw - eta / 2, 0.0), min(aw + eta / 2, 1.0)
    u = lo + (a + 1) / 2 * (hi - lo)
    if u <= 0:
        return
    sgn = 1.0 if w >= 0 else -1.0
    v = sgn * (1 - b * min(eta / 2, 1.0))
    assert abs(v * u - w) <= eta * (1 + 1e-12)


# --------------------------------------------------------------------------- worst case


@pytest.mark.parametrize("rule", ["best", "matching"])
@pytest.mark.parametrize(
    "eta, w_max",
    [
        (0.004, 0.5),
        (0.0028, 1 / math.sqrt(8)),
        (0.3, 1.0),
        (0.05, 0.03),
        (0.2, 0.7),
        (0.6, 1.0),
        (0.01, 0.0),
        (1.0, 1.0),
        (0.4, 0.55),
    ],
)
def test_worst_case_is_grid_minimum(rule, eta, w_max):
    f = bounds.hit_probability if rule == "best" else bounds.matching_probability
    grid = np.concatenate([np.linspace(0.0, w_max, 20001), [eta, eta / 2]])
    grid = grid[grid <= w_max]
    grid_min = float(np.min(f(grid, eta)))
    wc = bounds.worst_case_probability(eta, w_max, rule)
    assert wc <= grid_min * (1 + 1e-12)  # never larger than the grid minimum
    assert wc == pytest.approx(grid_min, rel=1e-12, abs=0)  # endpoints are on the grid


@FAST
@given(eta=st.floats(1e-4, 1.0), w_max=st.floats(0.0, 1.0), rule=st.sampled_from(["best", "matching"]))
def test_worst_case_property(eta, w_max, rule):
    f = bounds.hit_probability if rule == "best" else bounds.matching_probability
    grid = np.linspace(0.0, w_max, 2001)
    wc = bounds.worst_case_probability(eta, w_max, rule)
    assert wc <= float(np.min(f(grid, eta))) * (1 + 1e-12)
    assert wc == pytest.approx(min(f(0.0, eta), f(w_max, eta)), rel=1e-12, abs=0)


def test_worst_case_vectorised():
    eta = np.array([0.01, 0.1, 0.5])
    w_max = np.array([0.5, 0.3, 1.0])
    out = bounds.worst_case_probability(eta, w_max, "best")
    assert out.shape == (3,)
    for e, m, o in zip(eta, w_max, out, strict=False):
        assert bounds.worst_case_probability(float(e), float(m), "best") == o


# --------------------------------------------------------------------------- block sizes


def _satisfies(n, p, k, delta):
    with mpmath.workdps(60):
        return mpmath.mpf(n) * (1 - mpmath.mpf(p)) ** k <= mpmath.mpf(delta)


@FAST
@given(
    p=st.floats(1e-7, 1.0, exclude_min=False),
    n=st.integers(1, 10**7),
    delta=st.floats(1e-9, 0.999),
)
def test_block_size_is_smallest_satisfying(p, n, delta):
    k = bounds.block_size_for(p, n, delta)
    assert isinstance(k, int) and k >= 1
    assert _satisfies(n, p, k, delta)
    if k > 1:
        assert not _satisfies(n, p, k - 1, delta)


def test_block_size_edge_cases():
    assert bounds.block_size_for(1.0, 1000, 0.01) == 1
    assert bounds.block_size_for(0.5, 1, 0.5) == 1  # 1 * 0.5 <= 0.5 exactly
    assert bounds.block_size_for(0.5, 1, 0.25) == 2
    assert bounds.block_size_for(0.5, 4, 0.25) == 4
    assert bounds.block_size_for(0.75, 3, 3 / 64) == 3  # 3 * (1/4)^3 = 3/64 exactly
    k = bounds.block_size_for(2.0**-10, 2**20, 0.5)
    assert _satisfies(2**20, 2.0**-10, k, 0.5) and not _satisfies(2**20, 2.0**-10, k - 1, 0.5)
    assert bounds.block_size_for(np.float64(0.1), np.int64(10), 0.05) == bounds.block_size_for(0.1, 10, 0.05)


# --------------------------------------------------------------------------- tolerances, counts


@FAST
@given(dims=dims_strategy, eps=st.floats(1e-4, 10.0), neg=st.booleans())
def test_per_weight_tolerance_spends_exactly_the_budget(dims, eps, neg):
    etas = bounds.per_weight_tolerance(dims, eps, negative_half_everywhere=neg)
    l = len(dims) - 1
    assert len(etas) == l
    total = 0.0
    for i in range(1, l + 1):
        halves = 2 if (i == 1 or neg) else 1
        # Frobenius norm of [D+, D-] when every kept entry equals eta_i
        total += math.sqrt(halves * dims[i] * dims[i - 1]) * etas[i - 1]
    assert total == pytest.approx(math.log(1 + eps), rel=1e-12)
    assert bounds.event_count(dims, negative_half_everywhere=neg) == sum(
        (2 if (i == 1 or neg) else 1) * dims[i] * dims[i - 1] for i in range(1, l + 1)
    )


def test_per_weight_tolerance_explicit():
    eps = 0.1
    dims = (4, 8, 8, 1)
    e1, e2, e3 = bounds.per_weight_tolerance(dims, eps)
    assert math.sqrt(2 * 8 * 4) * e1 * 3 == pytest.approx(math.log1p(eps), rel=1e-14)
    assert math.sqrt(8 * 8) * e2 * 3 == pytest.approx(math.log1p(eps), rel=1e-14)
    assert math.sqrt(1 * 8) * e3 * 3 == pytest.approx(math.log1p(eps), rel=1e-14)
    f1, f2, f3 = bounds.per_weight_tolerance(dims, eps, negative_half_everywhere=True)
    assert (f1, f2 * math.sqrt(2), f3 * math.sqrt(2)) == pytest.approx((e1, e2, e3), rel=1e-14)
    assert bounds.event_count(dims) == 2 * 32 + 64 + 8
    assert bounds.event_count(dims, negative_half_everywhere=True) == 2 * (32 + 64 + 8)
    assert bounds.nnz_bound(dims) == 4 * (32 + 64 + 8)
    assert bounds.max_weight(dims) == pytest.approx((0.5, 8**-0.5, 8**-0.5))
    assert bounds.max_weight((1, 3)) == (1.0,)


@FAST
@given(
    dims=st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple), eps=st.floats(1e-3, 2.0), seed=st.integers(0, 2**32 - 1)
)
def test_tolerance_gives_certified_error_at_most_eps(dims, eps, seed):
    # every per-weight error at most eta_i (worst case: exactly +-eta_i) and ||W_i|| <= 1
    rng = np.random.default_rng(seed)
    etas = bounds.per_weight_tolerance(dims, eps)
    cs, ss = [], []
    for i in range(1, len(dims)):
        shape = (dims[i], dims[i - 1])
        dp = etas[i - 1] * rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.0, size=shape)
        dm = etas[i - 1] * rng.choice([-1.0, 1.0], size=shape) if i == 1 else None
        cs.append(bounds.layer_error_constant(dp, dm))
        ss.append(rng.uniform(0.0, 1.0))
    assert sum(cs) <= math.log1p(eps) * (1 + 1e-12)
    assert bounds.certified_error(ss, cs) <= eps * (1 + 1e-12)
    assert bounds.certified_error([1.0] * len(cs), cs) <= eps * (1 + 1e-12)


# --------------------------------------------------------------------------- union bound


@FAST
@given(
    dims=st.lists(st.integers(1, 10), min_size=2, max_size=4).map(tuple),
    eps=st.floats(0.01, 1.0),
    delta=st.floats(1e-4, 0.5),
    rule=st.sampled_from(["best", "matching"]),
    neg=st.booleans(),
)
def test_theorem_block_sizes_meet_delta(dims, eps, delta, rule, neg):
    ks = bounds.theorem_block_sizes(dims, eps, delta, rule=rule, negative_half_everywhere=neg)
    assert len(ks) == len(dims) - 1 and all(isinstance(k, int) and k >= 1 for k in ks)
    fp = bounds.failure_probability(dims, ks, eps, rule=rule, negative_half_everywhere=neg)
    assert fp <= delta * (1 + 1e-9)
    # naive oracle of the union bound, written out
    etas = bounds.per_weight_tolerance(dims, eps, negative_half_everywhere=neg)
    naive = 0.0
    for i in range(1, len(dims)):
        wmax = min(1.0, 1.0 / math.sqrt(dims[i - 1]))
        f = bounds.hit_probability if rule == "best" else bounds.matching_probability
        p = min(f(0.0, etas[i - 1]), f(wmax, etas[i - 1]))
        naive += (2 if (i == 1 or neg) else 1) * dims[i] * dims[i - 1] * (1 - p) ** ks[i - 1]
    assert fp == pytest.approx(min(1.0, naive), rel=1e-6, abs=0)
    # one candidate fewer in a layer breaks the per-event inequality N_ev (1 - p_i)^(k_i - 1) <= delta
    n_ev = bounds.event_count(dims, negative_half_everywhere=neg)
    for i, k in enumerate(ks):
        if k > 1:
            p = bounds.worst_case_probability(etas[i], bounds.max_weight(dims)[i], rule)
            assert not _satisfies(n_ev, p, k - 1, delta)


def test_failure_probability_is_capped_and_monotone():
    dims = (3, 5, 2)
    assert bounds.failure_probability(dims, [1, 1], 0.1) == 1.0
    a = bounds.failure_probability(dims, [3000, 3000], 0.1)
    b = bounds.failure_probability(dims, [6000, 6000], 0.1)
    assert 0 < b < a <= 1.0


@FAST
@given(
    dims=st.lists(st.integers(1, 8), min_size=2, max_size=4).map(tuple),
    eps=st.floats(0.01, 1.0),
    delta=st.floats(1e-4, 0.5),
    neg=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_instance_block_sizes_never_exceed_theorem(dims, eps, delta, neg, seed):
    rng = np.random.default_rng(seed)
    wm = bounds.max_weight(dims)
    weights = [rng.uniform(-wm[i - 1], wm[i - 1], size=(dims[i], dims[i - 1])) for i in range(1, len(dims))]
    inst = bounds.instance_block_sizes(weights, eps, delta, negative_half_everywhere=neg)
    thm = bounds.theorem_block_sizes(dims, eps, delta, negative_half_everywhere=neg)
    assert all(a <= b for a, b in zip(inst, thm, strict=False))
    # a target that contains the worst weights (0 and w_max) in every layer attains the theorem
    for i, w in enumerate(weights):
        w.flat[0] = 0.0
        w.flat[-1] = -wm[i]
    assert bounds.instance_block_sizes(weights, eps, delta, negative_half_everywhere=neg) == thm


# --------------------------------------------------------------------------- certified error


@FAST
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 2.0)), min_size=1, max_size=8))
def test_certified_error_exp_bound_and_closed_form(pairs):
    s = [a for a, _ in pairs]
    c = [b for _, b in pairs]
    e = bounds.certified_error(s, c)
    assert (1.0 + e) <= math.prod(1 + ci for ci in c) * (1 + 1e-12)
    assert math.prod(1 + ci for ci in c) <= math.exp(sum(c)) * (1 + 1e-12)
    # closed form: R_i + E_i = prod_{j<=i} (s_j + c_j)
    closed = math.prod(si + ci for si, ci in pairs) - math.prod(s)
    assert e == pytest.approx(closed, rel=1e-9, abs=1e-12)
    trace = bounds.certified_error_trace(s, c)
    assert len(trace) == len(s) and trace[-1] == e
    for i in range(len(s)):
        assert trace[i] == pytest.approx(
            math.prod(si + ci for si, ci in pairs[: i + 1]) - math.prod(s[: i + 1]), rel=1e-9, abs=1e-12
        )


@FAST
@given(c=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6), eps=st.floats(1e-3, 5.0))
def test_certified_error_within_eps_when_budget_met(c, eps):
    total = sum(c)
    if total > 0:
        c = [ci * math.log1p(eps) / total for ci in c]  # sum c_i = ln(1 + eps)
    assert bounds.certified_error([1.0] * len(c), c) <= eps * (1 + 1e-12)


def _relu(t):
    return np.maximum(t, 0.0)


@FAST
@given(
    dims=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
    scale=st.floats(1e-3, 0.3),
    seed=st.integers(0, 2**32 - 1),
)
def test_certified_error_bounds_a_perturbed_network(dims, scale, seed):
    # naive simulation of docs/theory.md §3: layer pre-activation W y + D+ s(y) + D- s(-y)
    rng = np.random.default_rng(seed)
    ws, dps, dms, ss, cs = [], [], [], [], []
    for i in range(1, len(dims)):
        w = rng.normal(size=(dims[i], dims[i - 1]))
        w /= max(1.0, np.linalg.norm(w, 2)) * rng.uniform(1.0, 2.0)
        dp = scale * rng.normal(size=w.shape)
        dm = scale * rng.normal(size=w.shape)
        ws.append(w), dps.append(dp), dms.append(dm)
        ss.append(np.linalg.norm(w, 2))
        cs.append(bounds.layer_error_constant(dp, dm))
    bound = bounds.certified_error(ss, cs)
    x = rng.normal(size=(dims[0], 400))
    x /= np.linalg.norm(x, axis=0)
    t = y = x
    for i, (w, dp, dm) in enumerate(zip(ws, dps, dms, strict=False)):
        t = w @ t
        y = w @ y + dp @ _relu(y) + dm @ _relu(-y)
        if i < len(ws) - 1:
            t, y = _relu(t), _relu(y)
    err = np.max(np.linalg.norm(y - t, axis=0))
    assert err <= bound * (1 + 1e-9) + 1e-12


def test_layer_error_constant_is_spectral_norm():
    dp = np.array([[3.0, 0.0], [0.0, 0.0]])
    assert bounds.layer_error_constant(dp) == pytest.approx(3.0)
    dm = np.array([[4.0, 0.0], [0.0, 1.0]])
    assert bounds.layer_error_constant(dp, dm) == pytest.approx(5.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    c = bounds.layer_error_constant(a, b)
    assert c == pytest.approx(np.sqrt(np.max(np.linalg.eigvalsh(a @ a.T + b @ b.T))), rel=1e-10)
    assert c <= np.linalg.norm(np.hstack([a, b]), "fro")


# --------------------------------------------------------------------------- docs/theory.md §4 example


def test_reference_worked_example():
    # docs/theory.md §4: d = 4, widths 8, 8, 1, delta = 0.05, eps = 0.1, both halves kept
    dims = (4, 8, 8, 1)
    best = bounds.theorem_block_sizes(dims, 0.1, 0.05, rule="best", negative_half_everywhere=True)
    match = bounds.theorem_block_sizes(dims, 0.1, 0.05, rule="matching", negative_half_everywhere=True)
    assert best == pytest.approx((6.1e3, 5.7e3, 2.0e3), rel=0.05)
    assert match == pytest.approx((8.5e6, 16.9e6, 2.1e6), rel=0.05)
    widths = [n * k for n, k in zip(dims[:-1], best, strict=False)]
    assert widths == pytest.approx((24e3, 46e3, 16e3), rel=0.05)
    widths = [n * k for n, k in zip(dims[:-1], match, strict=False)]
    assert widths == pytest.approx((34e6, 135e6, 17e6), rel=0.05)
    # dropping the N half for i >= 2 can only help
    best_drop = bounds.theorem_block_sizes(dims, 0.1, 0.05, rule="best")
    assert all(a <= b for a, b in zip(best_drop, best, strict=False))


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: bounds.per_weight_tolerance((4, 8), 0.0), "eps"),
        (lambda: bounds.per_weight_tolerance((4, 8), -1.0), "eps"),
        (lambda: bounds.per_weight_tolerance((4, 8), float("nan")), "eps"),
        (lambda: bounds.per_weight_tolerance((4, 0, 3), 0.1), "dims"),
        (lambda: bounds.per_weight_tolerance((4,), 0.1), "dims"),
        (lambda: bounds.event_count((4, -2)), "dims"),
        (lambda: bounds.theorem_block_sizes((4, 8), 0.1, 0.0), "delta"),
        (lambda: bounds.theorem_block_sizes((4, 8), 0.1, 1.0), "delta"),
        (lambda: bounds.theorem_block_sizes((4, 8), 0.1, float("nan")), "delta"),
        (lambda: bounds.theorem_block_sizes((4, 8), 0.1, 0.05, rule="greedy"), "rule"),
        (lambda: bounds.worst_case_probability(0.1, 0.5, "subset"), "rule"),
        (lambda: bounds.hit_probability(0.1, 0.0), "eta"),
        (lambda: bounds.hit_probability(0.1, -0.2), "eta"),
        (lambda: bounds.hit_probability(float("nan"), 0.2), "w"),
        (lambda: bounds.matching_probability(0.1, 0.0), "eta"),
        (lambda: bounds.product_cdf([0.2, float("nan")]), "z"),
        (lambda: bounds.block_size_for(0.0, 10, 0.1), "p"),
        (lambda: bounds.block_size_for(1.5, 10, 0.1), "p"),
        (lambda: bounds.block_size_for(0.1, 0, 0.1), "n_events"),
        (lambda: bounds.block_size_for(0.1, 10, 1.5), "delta"),
        (lambda: bounds.failure_probability((4, 8, 2), [10], 0.1), "block_sizes"),
        (lambda: bounds.failure_probability((4, 8, 2), [10, 0], 0.1), "block_sizes"),
        (lambda: bounds.certified_error([1.0, 1.0], [0.1]), "length"),
        (lambda: bounds.certified_error([1.0], [float("nan")]), "layer_constants"),
        (lambda: bounds.layer_error_constant(np.ones((2, 2)), np.ones((3, 2))), "d_minus"),
        (lambda: bounds.layer_error_constant(np.array([[np.nan]])), "d_plus"),
        (lambda: bounds.instance_block_sizes([np.ones((3, 2)), np.ones((2, 4))], 0.1, 0.05), "fan-in"),
        (lambda: bounds.instance_block_sizes([np.array([[np.nan, 0.1]])], 0.1, 0.05), "W_1"),
        (lambda: bounds.instance_block_sizes([np.array([[0.1, 3.0]])], 0.1, 0.05), "W_1"),
        (lambda: bounds.instance_block_sizes([], 0.1, 0.05), "weights"),
    ],
)
def test_bad_inputs_raise(call, needle):
    with pytest.raises(InvalidInputError, match=needle):
        call()


def test_bad_input_message_names_value():
    with pytest.raises(InvalidInputError, match=r"eps.*-0\.5"):
        bounds.per_weight_tolerance((2, 2), -0.5)
    with pytest.raises(InvalidInputError, match=r"delta.*1\.5"):
        bounds.block_size_for(0.1, 3, 1.5)
