"""The fixed-target subset-sum lemma with explicit constants - docs/theory.md §14.3 (derived here).

Paper: Burkholz, NeurIPS 2022 (and Pensia et al. 2020 before it) use Lueker's random subset-sum lemma
(1998) with an unspecified constant; the construction only needs each *fixed* target weight, so we
prove a fixed-target version whose constants are stated.

Statement. Values ``X_1, X_2, ...`` i.i.d. with ``P(X in B) >= rho |B|`` for ``B`` in ``[-2a, 2a]``;
``C_k`` the points of ``I = [-a, a]`` within ``eta`` of a subset sum of the first ``k`` (``C_0 ⊇ [-eta,
eta]``), ``x_k = |C_k| / 2a``, ``kappa = 2 a rho``. Then ``C_{k+1} ⊇ C_k ∪ ((C_k + X_{k+1}) ∩ I)``,
``x_k <= x_{k+1} <= 2 x_k`` and ``E[x_{k+1} | C_k] >= x_k (1 + kappa (1 - x_k))``; the failure bound
``P1 + P2 + P3`` below follows.

Derivation. A point ``c + X`` is within ``eta`` of ``S ∪ {k+1}`` when ``c`` is of ``S``, and for ``z`` in
``I`` minus ``C_k`` the set ``z - C_k`` lies in ``[-2a, 2a]``, so ``P(z - X in C_k) >= rho |C_k|``. Then, with
``R = x_{k+1} / x_k`` in ``[1, 2]`` and the chord ``ln r >= (r - 1) ln 2``, ``E[ln R] >= (kappa/2) ln 2``
while ``x_k < 1/2``, and the Chernoff step (chord of ``e^{-lambda y}`` on ``[0, ln 2]``) gives
``P(x_n1 < 1/2) <= exp(-(m - s) + s ln(m/s))``, ``m = n1 kappa / 2``, ``s = log2(a / (2 eta))``. For
``x >= 1/2``, ``E[1 - x_{k+1}] <= (1 - x_k)(1 - kappa/2)`` (phase 2), and ``r`` fresh values miss a
target ``|z| <= w`` with probability ``<= (1 - q(x))^r``, ``q`` the law's mass on the least likely
part of measure ``2 a x`` of ``z - I``.

Check. Symbolic: the chord inequality (concavity, endpoints); the exponential chord and the
optimal ``theta`` and value of the Chernoff bound; the phase-2 contraction; ``kappa`` of both laws.
Numeric: the package's ``_phase_one`` against the closed form, ``landing`` against sympy integrals
of the laws' densities, and the product density's monotonicity (the worst target is ``|z| = w``).
"""

from __future__ import annotations

import math

import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, assert_nonnegative

LEMMA = Lemma(
    name="burkholz subset-sum lemma",
    statement="fixed target: P(fail) <= exp(-(m-s)+s ln(m/s)) + (1/2)(1-kappa/2)^n2/(1-x) + (1-q(x))^r",
    implemented_by="stronglth.bounds.subset_sum_failure",
    property_test="tests/bounds/test_burkholz.py::test_the_lemma_against_monte_carlo_with_the_exact_solver",
    reference="docs/theory.md §14.3",
)


def check_drift() -> None:
    r = sp.Symbol("r", positive=True)
    chord = sp.log(r) - (r - 1) * sp.log(2)
    assert chord.subs(r, 1) == 0 and sp.simplify(chord.subs(r, 2)) == 0, "the chord meets ln at 1 and 2"
    assert sp.diff(chord, r, 2) == -1 / r**2, "ln r - (r-1) ln 2 is concave: >= 0 between its zeros 1 and 2"
    x, kappa = sp.symbols("x kappa", positive=True)
    growth = 1 + kappa * (1 - x)  # E[R] >= 1 + kappa (1 - x)
    assert_nonnegative(
        (growth - (1 + kappa / 2)).subs(x, sp.Rational(1, 2) - sp.Symbol("t", nonnegative=True)),
        "E[R] >= 1 + kappa/2 for x <= 1/2",
    )
    u = sp.Symbol("u", nonnegative=True)  # phase 2: u = 1 - x <= 1/2, E[u'] <= u (1 - kappa x) <= u (1 - kappa/2)
    gap = u * (1 - kappa / 2) - u * (1 - kappa * (1 - u))
    assert_identity(gap, u * kappa * (sp.Rational(1, 2) - u), "contraction gap")
    p, q = sp.symbols("p q", positive=True)  # u = p / (2 (p + q)) runs over (0, 1/2)
    assert_nonnegative(sp.factor(gap.subs(u, p / (2 * (p + q)))), "phase 2 contraction: u (1 - kappa x) <= u (1 - kappa/2)")


def check_chernoff() -> None:
    lam, c, y, mu = sp.symbols("lambda c y mu", positive=True)
    # e^{-lambda y} lies below its chord on [0, c]: convex, equal at the ends
    chord = 1 - (1 - sp.exp(-lam * c)) * y / c
    assert sp.simplify(chord.subs(y, 0) - 1) == 0 and sp.simplify(chord.subs(y, c) - sp.exp(-lam * c)) == 0
    assert sp.diff(sp.exp(-lam * y), y, 2).is_positive, "e^{-lambda y} is convex in y"
    theta, s, m = sp.symbols("theta s m", positive=True)
    exponent = theta * s - m * (1 - sp.exp(-theta))
    best = sp.solve(sp.diff(exponent, theta), theta)
    assert best == [sp.log(m / s)], f"the optimal theta is ln(m/s), got {best}"
    assert_identity(
        sp.expand_log(exponent.subs(theta, sp.log(m / s)), force=True), -(m - s) + s * sp.log(m) - s * sp.log(s), "Chernoff value"
    )


def check_laws() -> None:
    from stronglth.bounds.burkholz import LAWS

    assert_close([LAWS["uniform"].kappa, LAWS["product"].kappa], [0.5, 1 / (4 * math.e)], "kappa = 2 a rho", rel=1e-15)
    a = sp.Symbol("a", positive=True)
    kappa = a * sp.log(1 / (2 * a)) / 2  # product law: rho = ln(1/(2a))/4 on [-2a, 2a]
    assert sp.solve(sp.diff(kappa, a), a) == [sp.exp(-1) / 2], "a = 1/(2e) maximises 2 a rho for the product law"


def check_against_package() -> None:
    from stronglth.bounds import burkholz as module

    law = module.LAWS["uniform"]
    for n1, eta in ((50, 1e-3), (300, 1e-3), (1000, 1e-6)):
        s = math.log2(law.a / (2 * eta))
        m = n1 * law.kappa / 2
        expected = 1.0 if m <= s else min(1.0, math.exp(-(m - s) + s * math.log(m / s)))
        assert_close(module._phase_one(n1, law, eta), expected, f"P1 at n1 = {n1}", rel=1e-13)
    t = sp.Symbol("t", positive=True)
    density = -sp.log(t) / 4  # |v u| 1{u > 0}: mass (1/4) int of -ln t on each side of 0
    product = module.LAWS["product"]
    for w, x in ((0.5, 0.5), (0.5, 0.9375), (0.7, 0.75), (0.1, 0.9), (1.0, 0.96875)):
        top = min(1.0, w + product.a)
        low = w + product.a - 2 * product.a * x
        if low >= 0:
            expected = float(sp.integrate(density, (t, min(low, 1.0), top))) if low < 1 else 0.0
            assert_close(product.landing(x, w), expected, f"product landing at w={w}, x={x}", rel=1e-12, abs_=1e-15)
        else:  # the window crosses 0: the part [0, a - w] counts twice
            rest = 2 * product.a * x - 2 * w
            expected = float(
                sp.integrate(density, (t, product.a - w, w + product.a))
                + 2 * sp.integrate(density, (t, product.a - w - rest / 2, product.a - w))
            )
            assert_close(product.landing(x, w), expected, f"product landing at w={w}, x={x}", rel=1e-12)
    assert sp.diff(density, t).is_negative, "the density decreases in |t|: the window's worst target is |z| = w_max"


def check() -> None:
    check_drift()
    check_chernoff()
    check_laws()
    check_against_package()
