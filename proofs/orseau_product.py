"""Product weights of a hyperbolic G - docs/theory.md §13 (derived here).

Paper: Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need", NeurIPS 2020 (weights with
density proportional to ``1/|w|``; each unit offers the product of its two weights), on the gadget of
Malach et al. 2020 (docs/theory.md §2).

Statement. If ``|u|`` has density ``1 / (x ln(1/a))`` on ``[a, 1]``, then ``X = ln(1/|u|)`` is uniform
on ``[0, A]``, ``A = ln(1/a)``. For independent ``u ~ hyperbolic(a_u)``, ``v ~ hyperbolic(a_v)``,
``T = ln(1/|v u|) = X + Y`` (``X ~ U[0, A]``, ``Y ~ U[0, B]``, ``B <= A``) has the trapezoidal density
``min(t, B, A + B - t) / (A B)`` on ``[0, A + B]``, flat at ``1 / A`` on ``[B, A]``, and CDF
``F(t) = t^2 / (2AB)`` on ``[0, B]``, ``(t - B/2) / A`` on ``[B, A]``, ``1 - (A + B - t)^2 / (2AB)`` on
``[A, A + B]``. With independent symmetric signs, one unit covers level ``k`` of one event (sign of
``u`` the side's, sign of ``v u`` the target's, ``T in [(k-1) lam, k lam]``, ``lam = ln(3/2)``) with
probability ``q_k = (F(k lam) - F((k-1) lam)) / 4``: ``lam / (4A)`` for a level inside ``[B, A]``.

Derivation. Change of variables ``x = e^{-X}``: ``f_X(X) = f(e^{-X}) e^{-X} = 1/A``. The density of
``X + Y`` is ``int f_X(s) f_Y(t - s) ds = |[max(0, t - B), min(t, A)]| / (A B)``. The signs are
independent of the magnitudes (bit 63 against bits 11..62 of one draw, :mod:`stronglth.distributions`)
and each is ``+`` with probability 1/2.

Check. Symbolic: the change of variables, the convolution on the three pieces, ``F`` as the integral
of the density (continuous at ``B`` and ``A``, ``F(A + B) = 1``), and the flat level probability.
Numeric: ``orseau_level_probability`` against ``(F(k lam) - F((k-1) lam))/4`` computed by sympy for a
grid of ``(a_u, a_v)`` (equal ones included: the triangle) and every level, summing to 1/4.
"""

from __future__ import annotations

import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="Orseau: product of two hyperbolic weights",
    statement="ln(1/|u|) ~ U[0, A]; ln(1/|vu|) trapezoidal, flat 1/A on [B, A]; q_k = (F(k lam) - F((k-1) lam)) / 4",
    implemented_by="stronglth.bounds.orseau.orseau_level_probability",
    property_test="tests/bounds/test_orseau.py::test_level_probability_against_monte_carlo",
    reference="docs/theory.md §13",
)

A, B, t, s, x = sp.symbols("A B t s x", positive=True)


def _cdf(value, big, small):
    return sp.Piecewise(
        (0, value <= 0),
        (value**2 / (2 * big * small), value <= small),
        ((value - small / 2) / big, value <= big),
        (1 - (big + small - value) ** 2 / (2 * big * small), value <= big + small),
        (1, True),
    )


def check_symbolic() -> None:
    X = sp.Symbol("X", positive=True)
    assert_identity(sp.simplify((1 / (x * A)).subs(x, sp.exp(-X)) * sp.exp(-X)), 1 / A, "f_X = f(e^-X) e^-X = 1/A")
    assert_identity(sp.integrate(1 / A, (X, 0, A)), 1, "U[0, A] integrates to 1")
    density = 1 / (A * B)
    rising = sp.integrate(density, (s, 0, t))  # t in [0, B]: s in [0, t]
    flat = sp.integrate(density, (s, t - B, t))  # t in [B, A]: s in [t - B, t]
    falling = sp.integrate(density, (s, t - B, A))  # t in [A, A + B]: s in [t - B, A]
    assert_identity(rising, t / (A * B), "density t / (AB) on [0, B]")
    assert_identity(flat, 1 / A, "density 1 / A on [B, A]")
    assert_identity(sp.expand(falling), sp.expand((A + B - t) / (A * B)), "density (A + B - t) / (AB) on [A, A + B]")
    F1 = sp.integrate(s / (A * B), (s, 0, t))
    assert_identity(F1, t**2 / (2 * A * B), "F on [0, B]")
    F2 = F1.subs(t, B) + sp.integrate(1 / A, (s, B, t))
    assert_identity(sp.expand(F2), sp.expand((t - B / 2) / A), "F on [B, A]")
    F3 = F2.subs(t, A) + sp.integrate((A + B - s) / (A * B), (s, A, t))
    assert_identity(sp.expand(F3), sp.expand(1 - (A + B - t) ** 2 / (2 * A * B)), "F on [A, A + B]")
    assert_identity(sp.expand(F3.subs(t, A + B)), 1, "F(A + B) = 1")
    lam, k = sp.symbols("lam k", positive=True)
    level = (((k * lam) - B / 2) / A - (((k - 1) * lam) - B / 2) / A) / 4
    assert_identity(sp.simplify(level), lam / (4 * A), "q_k = lam / (4A) inside [B, A]")


def check_numeric() -> None:
    from stronglth.bounds import orseau_level_probability

    lam = sp.log(sp.Rational(3, 2))
    grid = ((sp.Rational(1, 2), sp.Rational(1, 2)), (sp.Rational(87, 1000), sp.Rational(87, 1000)))
    grid += ((sp.Rational(77, 10000), sp.Rational(45, 100)), (sp.Rational(45, 100), sp.Rational(77, 10000)))
    grid += ((sp.Rational(1, 10**6), sp.Rational(67, 100)),)
    for a_u, a_v in grid:
        first, second = sp.log(1 / a_u), sp.log(1 / a_v)
        big, small = sp.Max(first, second), sp.Min(first, second)
        levels = int(sp.ceiling((big + small) / lam)) + 1
        got, expected = [], []
        for k in range(1, levels + 1):
            got.append(orseau_level_probability(k, float(a_u), float(a_v)))
            expected.append(float((_cdf(k * lam, big, small) - _cdf((k - 1) * lam, big, small)) / 4))
        assert_close(got, expected, f"q_k for a_u = {a_u}, a_v = {a_v}", rel=1e-9, abs_=1e-15)
        assert_close(sum(got), 0.25, f"sum of q_k for a_u = {a_u}, a_v = {a_v}", rel=1e-10)


def check() -> None:
    check_symbolic()
    check_numeric()
