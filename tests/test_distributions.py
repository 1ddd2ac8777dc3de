"""The distributions of generator "pcg64-seedseq-v2" (docs/theory.md §12): spec strings, and each
raw-draw -> float64 map against an independent scalar oracle written from the documented formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtri

from stronglth import InvalidInputError, ShapeError
from stronglth.distributions import NORMAL_MAX_ABS, canonical, ieee_exp, ieee_log, parse, per_matrix

raws = st.integers(0, 2**64 - 1)
EXTREME_RAWS = [0, 1, 2**11 - 1, 2**11, 2**12, 2**63 - 1, 2**63, 2**64 - 2**12, 2**64 - 1]


def naive_uniform(x: int) -> float:
    """U[-1, 1]: ``2 u - 1``, ``u = (x >> 11) / 2^53``, with Python's exact integers."""
    return 2.0 * ((x >> 11) / 2**53) - 1.0


ACKLAM = dict(
    a=[-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239],
    b=[-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572],
    c=[-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783],
    d=[0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416],
)


def naive_normal(x: int) -> float:
    """Acklam's inverse normal CDF at ``p = (2 (x >> 12) + 1) / 2^53``, written out with ``math``."""
    p = (2 * (x >> 12) + 1) / 2**53
    a, b, c, d = ACKLAM["a"], ACKLAM["b"], ACKLAM["c"], ACKLAM["d"]
    t = min(p, 1 - p)
    if t < 0.02425:
        q = math.sqrt(-2 * math.log(t))
        z = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
        return z if p < 0.5 else -z
    q = p - 0.5
    r = q * q
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
    return num / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


def naive_hyperbolic(x: int, a: float) -> float:
    """Sign from bit 63, ``|w| = a^v`` with ``v = ((x >> 11) mod 2^52) / 2^52``, clipped to ``[a, 1]``."""
    v = ((x >> 11) % 2**52) / 2**52
    magnitude = min(max(a**v, a), 1.0)
    return -magnitude if x >> 63 else magnitude


def from_raw(spec: str, xs: list[int]) -> np.ndarray:
    return parse(spec).from_raw(np.array(xs, dtype=np.uint64))


@given(xs=st.lists(raws, max_size=50))
def test_uniform_is_exactly_the_formula(xs):
    assert from_raw("uniform", xs + EXTREME_RAWS).tolist() == [naive_uniform(x) for x in xs + EXTREME_RAWS]


@given(xs=st.lists(raws, max_size=50))
def test_normal_matches_the_formula_and_the_exact_quantile(xs):
    xs = xs + EXTREME_RAWS
    got = from_raw("normal", xs)
    oracle = np.array([naive_normal(x) for x in xs])
    np.testing.assert_allclose(got, oracle, rtol=1e-13, atol=1e-15)  # the package's ln differs from libm's in the last bits
    p = np.array([(2 * (x >> 12) + 1) / 2**53 for x in xs])
    exact = ndtri(p)
    assert np.all(np.abs(got - exact) <= 1.2e-9 * np.abs(exact) + 1e-15)  # Acklam's bound, 1.15e-9 relative
    assert np.all(np.abs(got) <= NORMAL_MAX_ABS)


@given(xs=st.lists(raws, max_size=50))
def test_normal_is_exactly_symmetric(xs):
    """Flipping every bit of the draw maps p to 1 - p (exactly), and z to -z exactly."""
    got = from_raw("normal", xs)
    assert np.array_equal(from_raw("normal", [2**64 - 1 - x for x in xs]), -got)


def test_normal_extremes_and_centre():
    assert from_raw("normal", [0])[0] == -NORMAL_MAX_ABS and from_raw("normal", [2**64 - 1])[0] == NORMAL_MAX_ABS
    assert 8.2 < NORMAL_MAX_ABS < 8.3  # Phi^-1(2^-53) = -8.2095...
    assert abs(NORMAL_MAX_ABS + ndtri(2.0**-53)) < 1e-8
    centre = from_raw("normal", [2**63 - 2**12, 2**63])  # p = 1/2 -+ 2^-53
    assert centre[0] == -centre[1] and 0 < centre[1] < 1e-15


@given(xs=st.lists(raws, max_size=50), a=st.sampled_from([1e-300, 1e-12, 1e-3, 0.25, 0.5, 0.999]))
def test_hyperbolic_matches_the_formula_and_its_range(xs, a):
    xs = xs + EXTREME_RAWS
    got = from_raw(f"hyperbolic({a!r})", xs)
    # a^v = exp(v ln a): a relative error of a few ulps times |v ln a| <= |ln a| (690 at a = 1e-300) in each
    rtol = 2.0**-50 * max(100.0, abs(math.log(a)))  # 8.9e-14 up to |ln a| = 100
    np.testing.assert_allclose(got, [naive_hyperbolic(x, a) for x in xs], rtol=rtol, atol=0)
    assert np.all((np.abs(got) >= a) & (np.abs(got) <= 1.0))
    assert np.array_equal(np.signbit(got), np.array([x >> 63 == 1 for x in xs]))
    assert np.array_equal(from_raw(f"hyperbolic({a!r})", [x ^ 2**63 for x in xs]), -got)  # the sign bit alone


def test_hyperbolic_ends():
    spec = "hyperbolic(0.001)"
    assert from_raw(spec, [0])[0] == 1.0 and from_raw(spec, [2**63])[0] == -1.0  # v = 0: a^0 = 1
    top = from_raw(spec, [2**63 - 1])[0]  # v = 1 - 2^-52: just above a
    assert 0.001 <= top < 0.001 * (1 + 1e-14)


def test_ieee_log_and_exp_agree_with_numpy_to_a_few_ulps():
    x = np.concatenate((np.logspace(-300, 300, 20_001), np.linspace(0.5, 2.0, 20_001), [1.0, 2.0, np.nextafter(1.0, 0)]))
    ours, ref = ieee_log(x), np.log(x)
    assert np.all(np.abs(ours - ref) <= 4 * np.spacing(np.abs(ref)) + 4 * np.spacing(1.0) * (np.abs(ref) < 1))
    assert ieee_log(np.array([1.0]))[0] == 0.0
    y = np.linspace(-708, 709, 40_001)
    ours, ref = ieee_exp(y), np.exp(y)
    assert np.all(np.abs(ours - ref) <= 2 * np.spacing(ref))
    assert ieee_exp(np.array([0.0]))[0] == 1.0


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("uniform", "uniform"),
        ("normal", "normal"),
        ("hyperbolic(1e-3)", "hyperbolic(0.001)"),
        ("hyperbolic( 0.5 )", "hyperbolic(0.5)"),
    ],
)
def test_canonical_specs(spec, expected):
    assert canonical(spec) == expected
    assert canonical(expected) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        ("Uniform", "unknown distribution 'Uniform'"),
        ("hyperbolic", "unknown distribution"),
        ("hyperbolic(0)", "needs 1e-300 <= a < 1"),
        ("hyperbolic(1)", "needs 1e-300 <= a < 1"),
        ("hyperbolic(-0.5)", "needs"),
        ("hyperbolic(nan)", "needs"),
        ("hyperbolic(inf)", "needs"),
        ("hyperbolic(0x1p-3)", "not a number"),
        ("hyperbolic(1_0e-3)", "needs"),
        ("hyperbolic(a)", "not a number"),
        ("normal(0, 1)", "unknown distribution"),
        (None, "must be a spec string"),
        (0.5, "must be a spec string"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(spec)


def test_per_matrix():
    assert per_matrix(None, 3, "distributions", optional=False) == ("uniform",) * 3
    assert per_matrix(None, 2, "biases", optional=True) == (None, None)
    assert per_matrix(["normal", None], 2, "biases", optional=True) == ("normal", None)
    with pytest.raises(ShapeError, match="distributions has 1 entries, G has 2 matrices"):
        per_matrix(["normal"], 2, "distributions", optional=False)
    with pytest.raises(InvalidInputError, match=r"distributions\[1\] \(M_2\) must be a spec string"):
        per_matrix(["normal", None], 2, "distributions", optional=False)
    with pytest.raises(InvalidInputError, match="must be None or a list"):
        per_matrix("normal", 2, "distributions", optional=False)
