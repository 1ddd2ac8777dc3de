"""p(w, eta): one candidate hits a weight (best-product rule) - docs/theory.md §4 (derived here).

Paper: Malach et al., ICML 2020 (one random unit approximates a weight with probability
``Omega(eta)`` or ``Omega(eta^2)``); the exact form is our derivation.

Statement. For ``u, v`` i.i.d. ``U[-1, 1]``, ``a = |w|``::

    P(u > 0, sign v = sign w, ||v| u - a| <= eta) = p(w, eta)
        = (1/4) [Phi(min(a + eta, 1)) - Phi(max(a - eta, 0))],

``{||v| u - a| <= eta}`` implies ``|v u - w| <= eta``, so ``p <= P(u > 0, |v u - w| <= eta)``, with
equality when ``a >= eta``; in general the gap is the wrong-sign term ``(1/4) Phi(min(eta - a, 1))``
(``0`` when ``a >= eta``).

Derivation. ``u > 0`` and ``sign v = sign w`` have probability ``1/2`` each and, given them,
``u`` and ``|v|`` are i.i.d. ``U[0, 1]``: ``|v| u`` has density ``-ln t`` on ``(0, 1]``
(:mod:`proofs.product`); integrate it over ``[a - eta, a + eta] ∩ [0, 1]``. With the wrong sign,
``|v u - w| = |v| u + a``, within ``eta`` iff ``|v| u <= eta - a``: impossible (up to a null set)
when ``a >= eta``.

Check. Symbolic: ``int_lo^hi -ln t dt = Phi(hi) - Phi(lo)`` for ``0 < lo < hi`` and at ``lo = 0``;
the regime ``a >= eta``, ``a + eta <= 1`` written as ``a = eta + b``; the wrong-sign distance
``|(-m) u - a| = m u + a``. Numeric, 30 digits (mpmath), on a grid of ``(w, eta)`` including
``|w| = 0, eta, 1 - eta, 1, 1 + eta`` and ``eta > 1``: the closed form (evaluated at 60 digits, as it
cancels near ``|w| = 1``) against ``hit_probability``,
against the density integrated over the window, and ``P(u > 0, |v u - w| <= eta)`` computed
independently as ``int_0^1 (1/4) len([(w - eta)/u, (w + eta)/u] ∩ [-1, 1]) du``.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="p(w, eta)",
    statement="p(w, eta) = (1/4)[Phi(min(|w|+eta, 1)) - Phi(max(|w|-eta, 0))] <= P(u>0, |vu - w| <= eta), = if |w| >= eta",
    implemented_by="stronglth.bounds.hit_probability",
    property_test="tests/test_bounds.py::test_hit_probability_against_monte_carlo",
    reference="docs/theory.md §4",
)


def phi(x):
    return x - x * sp.log(x)


def check_symbolic() -> None:
    t, lo, hi = sp.symbols("t lo hi", positive=True)
    assert_identity(sp.integrate(-sp.log(t), (t, lo, hi)), phi(hi) - phi(lo), "int_lo^hi -ln t = Phi(hi) - Phi(lo)")
    assert_identity(sp.integrate(-sp.log(t), (t, 0, hi)), phi(hi), "int_0^hi -ln t = Phi(hi)")
    # the regime |w| >= eta, |w| + eta <= 1: a = eta + b, window [b, b + 2 eta] inside [0, 1]
    eta, b = sp.symbols("eta b", positive=True)
    a = eta + b
    window = sp.Rational(1, 4) * sp.integrate(-sp.log(t), (t, a - eta, a + eta))
    assert_identity(window, sp.Rational(1, 4) * (phi(a + eta) - phi(a - eta)), "p(w, eta) for eta <= |w| <= 1 - eta")
    # the factor 1/4: P(u > 0) P(sign v = sign w), u, v ~ U[-1, 1] with density 1/2
    u = sp.Symbol("u", real=True)
    assert sp.integrate(sp.Rational(1, 2), (u, 0, 1)) ** 2 == sp.Rational(1, 4), "P(u > 0) P(sign v = sign w) = 1/4"
    # wrong sign of v: |v u - w| = |v| u + |w| >= |w| (shown for w = a > 0, v = -m < 0, u > 0)
    m, u_pos, a_pos = sp.symbols("m u a", positive=True)
    assert_identity(sp.Abs(-m * u_pos - a_pos), m * u_pos + a_pos, "|v u - w| = |v| u + |w| for sign v != sign w")


def _phi_mp(x):
    if x <= 0:
        return mpmath.mpf(0)
    return mpmath.mpf(1) if x >= 1 else x - x * mpmath.log(x)


def _closed_form(w, eta):
    """The displayed formula at 60 digits: near |w| = 1 it is a difference of two numbers close to 1."""
    with mpmath.workdps(60):
        a = abs(w)
        return (_phi_mp(min(a + eta, 1)) - _phi_mp(max(a - eta, 0))) / 4


def _window_integral(w, eta):
    a = abs(w)
    lo, hi = max(a - eta, mpmath.mpf(0)), min(a + eta, mpmath.mpf(1))
    return mpmath.quad(lambda x: -mpmath.log(x), [lo, hi]) / 4 if hi > lo else mpmath.mpf(0)


def _full_probability(w, eta):
    """P(u > 0, |v u - w| <= eta) for u, v ~ U[-1, 1], integrating over u the chance of v's interval."""

    def integrand(u):
        top, bottom = min((w + eta) / u, mpmath.mpf(1)), max((w - eta) / u, mpmath.mpf(-1))
        return max(top - bottom, mpmath.mpf(0)) / 4

    kinks = sorted({x for x in (abs(w + eta), abs(w - eta)) if 0 < x < 1})  # where v's interval meets ±1
    return mpmath.quad(integrand, [mpmath.mpf(0), *kinks, mpmath.mpf(1)])


def check_grid() -> None:
    from stronglth.bounds import hit_probability

    with mpmath.workdps(30):
        for eta_float in (1e-3, 0.05, 0.3, 0.5, 1.0, 1.5):
            eta = mpmath.mpf(eta_float)
            ws = {0.0, eta_float / 2, eta_float, 0.5, 1 - eta_float, 1.0, 1 + eta_float / 2, 1 + eta_float}
            for w_float in sorted(x for w in ws for x in (w, -w) if abs(w) <= 1 + eta_float):
                w = mpmath.mpf(w_float)
                p = _closed_form(w, eta)
                label = f"w = {w_float}, eta = {eta_float}"
                assert_close(
                    hit_probability(w_float, eta_float),
                    float(p),
                    f"hit_probability vs closed form, {label}",
                    rel=1e-13,
                    abs_=1e-300,
                )
                assert abs(_window_integral(w, eta) - p) <= mpmath.mpf(10) ** -25 * max(p, 1), f"density over the window, {label}"
                wrong_sign = _phi_mp(min(max(eta - abs(w), 0), 1)) / 4
                full = _full_probability(w, eta)
                assert abs(full - (p + wrong_sign)) <= mpmath.mpf(10) ** -20, (
                    f"P(u > 0, |vu - w| <= eta) = {full} but p + wrong-sign term = {p + wrong_sign}, {label}"
                )
                if abs(w) >= eta:
                    assert wrong_sign == 0, f"exact for |w| >= eta, {label}"


def check() -> None:
    check_symbolic()
    check_grid()
