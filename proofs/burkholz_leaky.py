"""The first layer and the copies with a leaky ReLU - docs/theory.md §14.6 (derived here).

Paper: Burkholz, NeurIPS 2022 ("most activation functions"): the depth ``l + 1`` construction is not
limited to the ReLU; its first layer splits the products by the sign of the first weight, as for the
ReLU, and its copy layers only need ``s(E z) = E s(z)``. The constants for ``s_a(t) = max(t, a t)``,
``0 <= a < 1``, are ours.

Statement. For ``0 <= a < 1``:

1. ``s_a(u t) = u s_a(t)`` for ``u > 0`` and ``|u| s_a(-t)`` for ``u < 0`` (positive homogeneity);
2. ``s_a(t) - s_a(-t) = (1 + a) t`` and ``s_a(t)^2 + s_a(-t)^2 = (1 + a^2) t^2``;
3. ``A s_a(t) + B s_a(-t) = w t`` for every ``t`` exactly when ``A = -B = w / (1 + a)``;
4. a row of ``M_2`` over univariate units ``h`` (input ``j(h)``, weight ``u_h``) computes
   ``sum_h v_h s_a(u_h x_j(h)) = w x + D+ s_a(x) + D- s_a(-x)`` with ``A = sum_{u > 0} v u``,
   ``B = sum_{u < 0} v |u|`` (per input), ``D+ = A - w / (1 + a)``, ``D- = B + w / (1 + a)``; so
   ``|err| <= ||[D+, D-]|| sqrt(1 + a^2) ||x||`` (a row) and ``err_1 = sqrt(1 + a^2) ||D_1||_2``;
5. ``|s_a(p) - s_a(q)| <= |p - q|`` and ``|s_a(t)| <= |t|``: the copy recursion of
   :mod:`proofs.burkholz_copies` (``V y' - E W y = D y + V e``, no sign of ``y`` used, and
   ``s_a(E z) = E s_a(z)``) and ``||y_i|| <= R_i = prod_{j<=i} s_j`` hold unchanged.

Derivation. (1) ``max(u t, a u t) = u max(t, a t)`` for ``u > 0``; for ``u < 0`` write ``u t = |u| (-t)``.
(2) For ``t >= 0``: ``t - (-a t)`` and ``t^2 + a^2 t^2``; for ``t < 0`` the same with the roles swapped.
(3) ``t = 1`` and ``t = -1`` give ``A - a B = w`` and ``B - a A = -w``, a system of determinant
``1 - a^2 > 0``; its solution satisfies the identity for every ``t`` by (1). (4) By (1) the row is
``A s_a(x) + B s_a(-x)``; subtract (3). Cauchy-Schwarz and (2) give the norm. (5) Cases of the signs
of ``p`` and ``q``: both ``>= 0`` (equality), both ``< 0`` (factor ``a <= 1``), mixed (``p - a q <= p - q``).

Check. Symbolic with ``a = b / (1 + b)``, ``b > 0`` (so that sympy knows ``0 < a < 1``), and ``a = 0``:
each identity on both signs of ``t``; the unique solution of (3); the row identity (4) for four units
of both signs; the Lipschitz cases (5). Numeric: the package's ``first_layer_errors`` against the
dense leaky evaluation of random kept layers, and ``copy_error_trace`` with a slope against the ReLU
trace times ``sqrt(1 + a^2)`` in its first layer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp_sparse
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, assert_nonnegative

LEMMA = Lemma(
    name="burkholz leaky first layer",
    statement="sum v s_a(u x) = W x + [A - W/(1+a), B + W/(1+a)][s_a(x); s_a(-x)]; ||[s_a(x); s_a(-x)]|| = sqrt(1+a^2) ||x||",
    implemented_by="stronglth.constructions.burkholz.certified.first_layer_errors",
    property_test="tests/constructions/burkholz/test_first.py::test_leaky_first_layer_computes_w_x_up_to_its_errors",
    reference="docs/theory.md §14.6",
)

b = sp.Symbol("b", positive=True)
SLOPES = (sp.Integer(0), b / (1 + b))  # the ReLU, and a symbolic slope 0 < a < 1


def leaky(expr, a):
    """``s_a(t) = max(t, a t)`` as a sympy expression."""
    return sp.Max(expr, a * expr)


def check_identities() -> None:
    t, u = sp.symbols("t u", positive=True)
    for a in SLOPES:
        for x in (t, -t):  # both signs of the argument
            assert_identity(leaky(u * x, a), u * leaky(x, a), "s_a(u x) = u s_a(x), u > 0")
            assert_identity(leaky(-u * x, a), u * leaky(-x, a), "s_a(u x) = |u| s_a(-x), u < 0")
            assert_identity(leaky(x, a) - leaky(-x, a), (1 + a) * x, "s_a(x) - s_a(-x) = (1 + a) x")
            assert_identity(leaky(x, a) ** 2 + leaky(-x, a) ** 2, (1 + a**2) * x**2, "s_a(x)^2 + s_a(-x)^2 = (1 + a^2) x^2")


def check_unique_targets() -> None:
    big_a, big_b, w = sp.symbols("A B w", real=True)
    for a in SLOPES:
        equations = [big_a * leaky(sp.Integer(s), a) + big_b * leaky(sp.Integer(-s), a) - w * s for s in (1, -1)]
        solution = sp.solve(equations, [big_a, big_b], dict=True)
        assert len(solution) == 1, f"a = {a}: not a unique solution: {solution}"
        assert_identity(solution[0][big_a], w / (1 + a), "A = w / (1 + a)")
        assert_identity(solution[0][big_b], -w / (1 + a), "B = -w / (1 + a)")
        assert_identity(sp.Matrix([[1, -a], [-a, 1]]).det(), 1 - a**2, "determinant 1 - a^2")


def check_row_identity() -> None:
    t = sp.Symbol("t", positive=True)
    v = sp.symbols("v1:5", real=True)
    p1, p2, n1, n2 = sp.symbols("p1 p2 n1 n2", positive=True)  # u = p1, p2 > 0 and u = -n1, -n2 < 0
    w = sp.Symbol("w", real=True)
    for a in SLOPES:
        big_a = v[0] * p1 + v[1] * p2
        big_b = v[2] * n1 + v[3] * n2
        d_plus, d_minus = big_a - w / (1 + a), big_b + w / (1 + a)
        for x in (t, -t):
            row = v[0] * leaky(p1 * x, a) + v[1] * leaky(p2 * x, a) + v[2] * leaky(-n1 * x, a) + v[3] * leaky(-n2 * x, a)
            assert_identity(row, w * x + d_plus * leaky(x, a) + d_minus * leaky(-x, a), "row = w x + D+ s_a(x) + D- s_a(-x)")


def check_lipschitz() -> None:
    p, q = sp.symbols("p q", positive=True)
    for a in SLOPES:
        assert_nonnegative(1 - a, "a <= 1")
        assert_identity(leaky(p, a) - leaky(q, a), p - q, "both >= 0: s_a is the identity")
        assert_identity(leaky(-p, a) - leaky(-q, a), a * (q - p), "both < 0: s_a is a t")
        mixed = leaky(p, a) - leaky(-q, a)  # p >= 0 > -q: s_a(p) - s_a(-q) = p + a q, in [0, p + q]
        assert_nonnegative(mixed, "s_a(p) - s_a(-q) >= 0")
        assert_nonnegative((p + q) - mixed, "s_a(p) - s_a(-q) <= p + q")
        assert_nonnegative(p - leaky(p, a), "|s_a(t)| <= |t|, t >= 0")
        assert_nonnegative(p - sp.Abs(leaky(-p, a)), "|s_a(t)| <= |t|, t < 0")


def _dense_first_layer(rng, n_out: int, d: int, k: int, copies: int):
    """Kept entries of a random univariate M_1 and a random M_2, as the certified module reads them."""
    from types import SimpleNamespace

    units = np.flatnonzero(rng.random(d * k) < 0.8)
    m1 = SimpleNamespace(rows=units, cols=units // k, vals=rng.uniform(-1, 1, units.size))
    rows, cols = np.nonzero(rng.random((n_out * copies, d * k)) < 0.7)
    m2 = SimpleNamespace(rows=rows, cols=cols, vals=rng.uniform(-1, 1, rows.size))
    return m1, m2


def check_against_package() -> None:
    from stronglth.constructions.burkholz.certified import copy_error_trace, first_layer_errors

    rng = np.random.default_rng(0)
    for a in (0.0, 0.01, 0.1, 0.5, 0.9):
        for _ in range(10):
            n_out, d, k, copies = 3, 2, 4, 2
            m1, m2 = _dense_first_layer(rng, n_out, d, k, copies)
            weights = rng.uniform(-1, 1, (n_out, d)) / np.sqrt(d)
            d_first = first_layer_errors(m1, m2, weights, copies, negative_slope=a)
            dense1 = np.zeros((d * k, d))
            dense1[m1.rows, m1.cols] = m1.vals
            dense2 = np.zeros((n_out * copies, d * k))
            dense2[m2.rows, m2.cols] = m2.vals
            x = rng.standard_normal((50, d))
            hidden = x @ dense1.T
            ticket = np.maximum(hidden, a * hidden) @ dense2.T
            z = np.hstack((np.maximum(x, a * x), np.maximum(-x, -a * x)))
            target = x @ np.repeat(weights, copies, axis=0).T
            assert_close(ticket - target, z @ d_first.T, f"a = {a}: row - W x = D_1 [s_a(x); s_a(-x)]", abs_=1e-12)
            assert_close(np.linalg.norm(z, axis=1), np.sqrt(1 + a * a) * np.linalg.norm(x, axis=1), "||z||", rel=1e-12)
            later = [(sp_sparse.csr_matrix(rng.normal(size=(2, n_out * copies))), rng.normal(size=(2, n_out)) * 0.01)]
            relu_trace = copy_error_trace(d_first * np.sqrt(1 + a * a), later, [0.9, 0.8])
            leaky_trace = copy_error_trace(d_first, later, [0.9, 0.8], negative_slope=a)
            assert_close(leaky_trace, relu_trace, f"a = {a}: err_1, b_1 carry sqrt(1 + a^2)", rel=1e-12)


def check() -> None:
    check_identities()
    check_unique_targets()
    check_row_identity()
    check_lipschitz()
    check_against_package()
