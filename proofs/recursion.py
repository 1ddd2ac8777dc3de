"""Error recursion and the exp bound - docs/theory.md §3 (derived here).

Paper: Malach et al., ICML 2020 (error propagation through the layers); the certified
a-posteriori form and its constants are our derivation.

Statement. With ``E_0 = 0``, ``R_0 = 1``, ``s_i = ||W_i||_2``, ``R_i = s_i R_{i-1}``::

    E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})   bounds   sup_{x in B} ||ticket_i(x) - F_i(x)||,
    R_i + E_i = (s_i + c_i)(R_{i-1} + E_{i-1}),   so   E_l = prod (s_i + c_i) - prod s_i,

and when every ``s_i <= 1``: ``1 + E_l <= prod (1 + c_i) <= exp(sum c_i)``, so
``sum c_i <= ln(1 + eps)`` gives ``E_l <= eps``.

Derivation. With ``y, y'`` the target's and the ticket's layer inputs (``||y|| <= R_{i-1}``,
``||y' - y|| <= E_{i-1}``): ``||z(y') - W y|| <= ||W (y' - y)|| + ||z(y') - W y'||
<= s_i E_{i-1} + c_i ||y'||`` (:mod:`proofs.layer`) and ``||y'|| <= R_{i-1} + E_{i-1}``; the ReLU
is 1-Lipschitz, so the bound survives it. One step of the product bound:
``(1 + c)(1 + E) - (1 + s E + c (R + E)) = (1 - s) E + c (1 - R) >= 0`` for ``s, R <= 1``, and
``R_i <= 1`` by induction. Finally ``1 + c <= exp(c)``: ``f(c) = exp(c) - 1 - c`` has
``f(0) = f'(0) = 0`` and ``f'' = exp(c) > 0``.

Check. Symbolic: ``|s(a) - s(b)| <= |a - b|`` by sign cases; the product identity unrolled for
``depth = 3``; the one-step inequality with ``s = 1 - a``, ``R = 1 - b``, ``a, b, E, c >= 0``; the
convexity argument; ``exp(ln(1 + eps)) - 1 = eps``. Numeric: ``certified_error_trace`` against
the closed form on exact rationals, and ``E_l <= eps`` on a grid with ``sum c_i = ln(1 + eps)``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, assert_nonnegative, relu

LEMMA = Lemma(
    name="error recursion, exp bound",
    statement="R_i+E_i = (s_i+c_i)(R_{i-1}+E_{i-1}); s_i<=1 => 1+E_l <= prod(1+c_i) <= exp(sum c_i) <= 1+eps",
    implemented_by="stronglth.bounds.certified_error_trace",
    property_test="tests/test_bounds.py::test_certified_error_exp_bound_and_closed_form",
    reference="docs/theory.md §3",
)


def check_relu_lipschitz() -> None:
    p, q = sp.symbols("p q", positive=True)
    h = sp.Symbol("h", nonnegative=True)
    # |s(a) - s(b)| <= |a - b| in every sign pattern (a >= b w.l.o.g. by symmetry)
    for a, b in ((p + h, p), (p, -q), (-q, -q - h), (sp.Integer(0), -q), (p, sp.Integer(0))):
        assert_nonnegative(sp.Abs(a - b) - sp.Abs(relu(a) - relu(b)), f"|s(a) - s(b)| <= |a - b| at a = {a}, b = {b}")


def check_product_identity() -> None:
    depth = 3
    s = sp.symbols(f"s1:{depth + 1}", nonnegative=True)
    c = sp.symbols(f"c1:{depth + 1}", nonnegative=True)
    E, R = sp.Integer(0), sp.Integer(1)
    for i in range(depth):
        E, R = s[i] * E + c[i] * (R + E), s[i] * R
        assert_identity(R + E, sp.Mul(*[s[j] + c[j] for j in range(i + 1)]), f"R_{i + 1} + E_{i + 1} = prod (s_j + c_j)")
    assert_identity(E, sp.Mul(*[si + ci for si, ci in zip(s, c, strict=False)]) - sp.Mul(*s), "E_l = prod(s + c) - prod s")


def check_exp_bound() -> None:
    a, b, E, c = sp.symbols("a b E c", nonnegative=True)  # s = 1 - a <= 1, R = 1 - b <= 1
    s, R = 1 - a, 1 - b
    step = (1 + c) * (1 + E) - (1 + s * E + c * (R + E))
    assert_identity(step, (1 - s) * E + c * (1 - R), "(1+c)(1+E) - (1 + E_i) = (1 - s) E + c (1 - R)")
    assert_nonnegative(step, "1 + E_i <= (1 + c_i)(1 + E_{i-1}) when s_i, R_{i-1} <= 1")
    # 1 + c <= exp(c): f(0) = f'(0) = 0 and f'' > 0
    f = sp.exp(c) - 1 - c
    assert f.subs(c, 0) == 0 and sp.diff(f, c).subs(c, 0) == 0, "f(0) = f'(0) = 0"
    assert sp.diff(f, c, 2).is_positive is True, "f'' = exp(c) > 0"
    eps = sp.Symbol("epsilon", positive=True)
    assert_identity(sp.exp(sp.log(1 + eps)) - 1, eps, "exp(ln(1 + eps)) - 1 = eps")
    grid = np.linspace(0.0, 5.0, 5001)
    assert np.all(1 + grid <= np.exp(grid)), "1 + c <= exp(c) on the grid"


def check_against_package() -> None:
    from stronglth.bounds import certified_error, certified_error_trace

    rng = np.random.default_rng(11)
    for depth in (1, 2, 5):
        s = [sp.Rational(int(k), 8) for k in rng.integers(0, 9, depth)]  # s_i in [0, 1], exact
        c = [sp.Rational(int(k), 16) for k in rng.integers(0, 33, depth)]
        trace = certified_error_trace([float(x) for x in s], [float(x) for x in c])
        for i in range(depth):
            closed = sp.Mul(*[s[j] + c[j] for j in range(i + 1)]) - sp.Mul(*s[: i + 1])
            assert_close(trace[i], float(closed), f"certified_error_trace[{i}] = closed form", rel=1e-14, abs_=1e-15)
        assert 1 + trace[-1] <= math.prod(1 + float(x) for x in c) * (1 + 1e-14), "1 + E_l <= prod(1 + c_i)"
    for eps in (1e-6, 0.01, 0.5, 1.0, 10.0):
        for depth in (1, 2, 4):
            shares = rng.uniform(0.0, 1.0, depth)
            c = shares / shares.sum() * math.log1p(eps)  # sum c_i = ln(1 + eps) exactly (up to rounding)
            for s in (np.ones(depth), rng.uniform(0.0, 1.0, depth)):
                assert certified_error(s, c) <= eps * (1 + 1e-12), f"E_l <= eps at eps = {eps}, l = {depth}"


def check() -> None:
    check_relu_lipschitz()
    check_product_identity()
    check_exp_bound()
    check_against_package()
