"""Error recursion with biases and the split of eps - docs/theory.md §15 (derived here).

Paper: Fischer & Burkholz 2021 ("Lottery tickets with nonzero biases") extend the strong lottery
ticket constructions to biases; the certified form, its constants and the split of ``eps`` here
are our derivation.

Statement. With ``E_0 = 0``, ``R_0 = 1``, ``s_i = ||W_i||_2``, ``R_i = s_i R_{i-1} + ||b_i||`` and a
ticket whose layer ``i`` has weight-error constant ``c_i`` and bias error ``beta_i = ||b'_i - b_i||``::

    E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1}) + beta_i   bounds   sup_{x in B} ||ticket_i(x) - F_i(x)||,
    Q_i = R_i + E_i = (s_i + c_i) Q_{i-1} + ||b_i|| + beta_i,

so ``E_l = [prod(s+c) - prod s] + sum_i [prod_{j>i}(s_j+c_j) - prod_{j>i} s_j] ||b_i|| +
sum_i prod_{j>i}(s_j+c_j) beta_i``. With every ``s_i <= 1``, ``sum c_i <= gamma`` and
``B = sum_{i<l} ||b_i||``: ``E_l <= (e^gamma - 1)(1 + B) + e^gamma sum beta_i``; the split
``gamma = ln(1 + eps / (2 (1 + B)))``, ``sum beta_i <= eps / (2 e^gamma)`` gives ``E_l <= eps``.

Derivation. ``||s(z') - s(z)|| <= ||z' - z||`` and ``z' - z = (W'y' - W y) + (b' - b)``; the first
part is bounded as in :mod:`proofs.recursion`, the second by ``beta_i``; ``||y_i|| <=
||W_i y|| + ||b_i||`` since ``||s(z)|| <= ||z||``. ``prod_{j in S}(s_j + c_j) - prod_{j in S} s_j``
is a sum over non-empty ``T ⊆ S`` of ``prod_T c prod_{S \\ T} s <= prod_T c``, so it is at most
``prod_S (1 + c_j) - 1 <= e^gamma - 1``; and ``prod_{j>i}(s_j + c_j) <= e^gamma``.

Check. Symbolic: the closed form of ``E_l`` unrolled for ``depth = 3``; the split's algebra
``(e^gamma - 1)(1 + B) = eps / 2``. Numeric: ``bounds.certified_error`` with biases against the
closed form on exact rationals, and the package's tolerances
(:func:`stronglth.constructions.subsetsum.biases.bias_tolerances`) at their worst case <= eps.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="error recursion with biases, eps split",
    statement="E_i = s_i E_{i-1} + c_i (R_{i-1}+E_{i-1}) + beta_i, R_i = s_i R_{i-1} + ||b_i||; split => E_l <= eps",
    implemented_by="stronglth.constructions.subsetsum.biases.bias_tolerances",
    property_test="tests/constructions/subsetsum/test_biases.py::test_the_tolerances_give_a_certified_bound_within_eps_in_the_worst_case",
    reference="docs/theory.md §15",
)


def _closed_form(s, c, b, beta):
    depth = len(s)

    def after(i, terms):
        return sp.Mul(*terms[i:])

    a = [s[j] + c[j] for j in range(depth)]
    e = after(0, a) - after(0, s)
    for i in range(depth):  # layer i + 1 (1-based) adds ||b|| and beta; the products run over j > i + 1
        e += (after(i + 1, a) - after(i + 1, s)) * b[i] + after(i + 1, a) * beta[i]
    return e


def check_closed_form() -> None:
    depth = 3
    s = sp.symbols(f"s1:{depth + 1}", nonnegative=True)
    c = sp.symbols(f"c1:{depth + 1}", nonnegative=True)
    b = sp.symbols(f"b1:{depth + 1}", nonnegative=True)
    beta = sp.symbols(f"beta1:{depth + 1}", nonnegative=True)
    E, R = sp.Integer(0), sp.Integer(1)
    for i in range(depth):
        E, R = s[i] * E + c[i] * (R + E) + beta[i], s[i] * R + b[i]
    assert_identity(E, _closed_form(s, c, b, beta), "E_l = closed form with biases (depth 3)")


def check_split() -> None:
    eps, B = sp.symbols("epsilon B", positive=True)
    gamma = sp.log(1 + eps / (2 * (1 + B)))
    assert_identity((sp.exp(gamma) - 1) * (1 + B), eps / 2, "(e^gamma - 1)(1 + B) = eps / 2")
    assert_identity(sp.exp(gamma) * (eps / (2 * sp.exp(gamma))), eps / 2, "e^gamma * eps / (2 e^gamma) = eps / 2")


def check_against_package() -> None:
    from stronglth import bounds, random_target
    from stronglth.constructions.subsetsum.biases import bias_tolerances

    rng = np.random.default_rng(5)
    for depth in (1, 2, 4):
        s = [sp.Rational(int(k), 8) for k in rng.integers(0, 9, depth)]
        c = [sp.Rational(int(k), 16) for k in rng.integers(0, 9, depth)]
        b = [sp.Rational(int(k), 8) for k in rng.integers(0, 9, depth)]
        beta = [sp.Rational(int(k), 32) for k in rng.integers(0, 9, depth)]
        ours = bounds.certified_error(
            [float(x) for x in s], [float(x) for x in c], bias_norms=[float(x) for x in b], bias_errors=[float(x) for x in beta]
        )
        assert_close(
            ours, float(_closed_form(s, c, b, beta)), f"certified_error with biases, depth {depth}", rel=1e-13, abs_=1e-15
        )
    for eps in (1e-4, 0.05, 0.4, 2.0):
        for dims in ((1, 1), (3, 4, 2), (2, 5, 5, 1)):
            target = random_target(dims[0], list(dims[1:]), seed=int(rng.integers(1 << 30)), biases=True)
            etas, bias_etas = bias_tolerances(target, eps)
            d = target.dims
            worst = bounds.certified_error(
                [1.0] * target.depth,
                [eta * math.sqrt((2 if i == 1 else 1) * d[i] * d[i - 1]) for i, eta in enumerate(etas, start=1)],
                bias_norms=[float(np.linalg.norm(x)) for x in target.biases],
                bias_errors=[eta * math.sqrt(d[i]) for i, eta in enumerate(bias_etas, start=1)],
            )
            assert worst <= eps * (1 + 1e-12), f"worst case at the tolerances <= eps = {eps}, dims {dims}"


def check() -> None:
    check_closed_form()
    check_split()
    check_against_package()
