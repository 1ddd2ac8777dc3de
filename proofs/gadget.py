"""Gadget identity (the weight lemma, first half) - docs/theory.md §2.

Paper: Malach, Yehudai, Shalev-Shwartz, Shamir, "Proving the lottery ticket hypothesis: pruning is
all you need", ICML 2020 (two hidden units per target weight); Pensia et al., "Optimal lottery
tickets via SubsetSum", NeurIPS 2020 (``P``, ``N`` as subsets).

Statement. With ``s(t) = max(t, 0)`` and ``a != 0``::

    s(a x) = a s(x)      (a > 0),        s(a x) = |a| s(-x)   (a < 0),        x = s(x) - s(-x).

A block of hidden units ``h`` reading one coordinate ``x`` with first-layer weights ``u_h`` and
second-layer weights ``v_h``, restricted to ``P`` in ``{u_h > 0}`` and ``N`` in ``{u_h < 0}``,
computes::

    g(x) = sum_{P u N} v_h s(u_h x) = A s(x) + B s(-x),   A = sum_P v_h u_h,  B = sum_N v_h |u_h|,
    g(x) - w x = (A - w) s(x) + (B + w) s(-x).

Derivation. ``s`` is positively homogeneous: ``max(a x, 0) = a max(x, 0)`` for ``a > 0``; for
``a < 0``, ``a x = |a| (-x)``. Summing over ``P`` and ``N`` gives ``g``; subtracting
``w x = w s(x) - w s(-x)`` gives the error.

Check. By cases ``x = t > 0``, ``x = -t < 0``, ``x = 0`` with sympy positive symbols (``Max``
then evaluates), for a symbolic block of two units on each side; numerically,
``gadget_output`` (the package's direct evaluation of a block) against ``A s(x) + B s(-x)``, and
the errors ``weight_gadget`` reports against ``g(1) - w`` and ``g(-1) + w``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, relu

LEMMA = Lemma(
    name="gadget identity",
    statement="s(ax) = a s(x) (a>0), |a| s(-x) (a<0); g(x) - w x = (A - w) s(x) + (B + w) s(-x)",
    implemented_by="stronglth.constructions.malach.gadget.weight_gadget",
    property_test="tests/constructions/malach/test_gadget.py::test_error_formula_equals_measured_sup_error",
    reference="docs/theory.md §2",
)

t = sp.Symbol("t", positive=True)
CASES = (t, -t, sp.Integer(0))  # x > 0, x < 0, x = 0


def check_homogeneity() -> None:
    a = sp.Symbol("a", positive=True)
    x = sp.Symbol("x", real=True)
    for value in CASES:
        assert_identity(relu(a * x).subs(x, value), (a * relu(x)).subs(x, value), f"s(a x) = a s(x), a > 0, x = {value}")
        # a < 0 written as -a with a > 0, |a| = a
        assert_identity(relu(-a * x).subs(x, value), (a * relu(-x)).subs(x, value), f"s(a x) = |a| s(-x), a < 0, x = {value}")
        assert_identity(value, relu(value) - relu(-value), f"x = s(x) - s(-x), x = {value}")


def check_block() -> None:
    x, w = sp.symbols("x w", real=True)
    u_pos = sp.symbols("p1 p2", positive=True)  # u_h > 0
    u_neg_abs = sp.symbols("q1 q2", positive=True)  # u_h = -q < 0
    v = sp.symbols("v1:5", real=True)
    units = list(zip(v, [*u_pos, *(-q for q in u_neg_abs)], strict=False))
    g = sum(v_h * relu(u_h * x) for v_h, u_h in units)
    A = v[0] * u_pos[0] + v[1] * u_pos[1]
    B = v[2] * u_neg_abs[0] + v[3] * u_neg_abs[1]
    for value in CASES:
        g_x = g.subs(x, value)
        assert_identity(g_x, (A * relu(x) + B * relu(-x)).subs(x, value), f"g(x) = A s(x) + B s(-x) at x = {value}")
        assert_identity(g_x - w * value, ((A - w) * relu(x) + (B + w) * relu(-x)).subs(x, value), f"g(x) - w x at x = {value}")


def check_against_package() -> None:
    from stronglth.constructions.malach.gadget import gadget_output, weight_gadget

    rng = np.random.default_rng(20200)
    x = np.linspace(-1.0, 1.0, 201)
    for k in (1, 2, 7, 40):
        u, v = rng.uniform(-1.0, 1.0, k), rng.uniform(-1.0, 1.0, k)
        P, N = np.flatnonzero(u > 0), np.flatnonzero(u < 0)
        A, B = float(np.sum(v[P] * u[P])), float(np.sum(v[N] * np.abs(u[N])))
        g = gadget_output(u, v, [*P.tolist(), *N.tolist()], x)
        assert_close(g, A * np.maximum(x, 0) + B * np.maximum(-x, 0), f"gadget_output = A s(x) + B s(-x), k = {k}", abs_=1e-15)
        for w in (-1.0, -0.3, 0.0, 0.45, 1.0):
            for rule in ("best", "matching"):
                choice = weight_gadget(u, v, w, rule=rule, eta=0.5)
                units = [h for h in (choice.positive, choice.negative) if h is not None]
                g_pm = gadget_output(u, v, units, np.array([1.0, -1.0]))
                assert_close(g_pm[0] - w, choice.error_positive, f"A - w = g(1) - w ({rule}, w = {w})", abs_=1e-15)
                assert_close(g_pm[1] + w, choice.error_negative, f"B + w = g(-1) + w ({rule}, w = {w})", abs_=1e-15)


def check() -> None:
    check_homogeneity()
    check_block()
    check_against_package()
