"""The budget and the a-priori width with a leaky ReLU - docs/theory.md §14.6 (derived here).

Paper: Burkholz, NeurIPS 2022 covers activations other than the ReLU with constants left implicit;
this is our explicit budget of docs/theory.md §14.4-14.5 for ``s_a(t) = max(t, a t)``, ``0 <= a < 1``.

Statement. With ``|D_1| <= eta_1`` entrywise, ``b_1 = sqrt(1 + a^2) rows(D_1) <= sqrt(2 (1 + a^2) n_0)
eta_1``, and the rest of the recursion of :mod:`proofs.burkholz_budget` is unchanged, so

    err_l <= sum_i gamma_i eta_i,   gamma_i = sqrt(h_i n_{i-1} n_l) R_{i-1} prod_{m=i+1}^{l} n_{m-1} k_m,
    h_1 = 2 (1 + a^2),  h_i = 1  (i >= 2),

and ``eta_i = eps / (l gamma_i)`` gives ``err_l <= eps``. The first layer's subset sums approximate
``W_1 / (1 + a)``, whose entries are at most ``w_max,1 / (1 + a)``, ``w_max,1 = min(1, 1/sqrt(n_0))``;
the a-priori block sizes are the fixed point of docs/theory.md §14.5 with these ``eta_i`` and that
``w_max,1``. For ``a = 0`` everything is the ReLU's (``h_1 = 2``).

Derivation. ``rows(D_1) <= sqrt(2 n_0) eta_1`` (``2 n_0`` entries per row) and the factor
``sqrt(1 + a^2)`` of :mod:`proofs.burkholz_leaky`; then the unrolling of :mod:`proofs.burkholz_budget`
with ``beta_1`` replaced (for ``l = 1``: ``err_1 <= sqrt(1 + a^2) ||D_1||_F <= sqrt(2 (1 + a^2) n_0 n_1)
eta_1``). The landing bound of the subset-sum lemma is evaluated at the worst target ``|z| = w_max``
(docs/theory.md §14.3), so a smaller ``w_max`` is covered by the same lemma.

Check. Symbolic: the unrolled recursion for ``l = 3`` and ``l = 1`` with the leaky ``beta_1`` equals
``sum_i gamma_i eta_i`` with ``h_1 = 2 (1 + a^2)``. Numeric: ``burkholz_amplification`` and
``burkholz_tolerances`` with ``negative_slope`` against those expressions (and equal to the ReLU's at
``a = 0``); ``first_layer_max_weight``; ``burkholz_theorem_block_sizes(negative_slope=a)`` is a fixed
point of the map of §14.5 with the leaky tolerances and ``w_max,1 / (1 + a)``.
"""

from __future__ import annotations

import math

import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="burkholz leaky budget",
    statement="h_1 = 2 (1 + a^2) in gamma_1; first-layer targets |W_1 / (1 + a)| <= w_max,1 / (1 + a)",
    implemented_by="stronglth.bounds.burkholz_tolerances",
    property_test="tests/bounds/test_burkholz.py::test_leaky_tolerances_spend_exactly_eps",
    reference="docs/theory.md §14.6",
)

n = sp.symbols("n0:4", positive=True)
k = sp.symbols("k1:4", positive=True)
eta = sp.symbols("eta1:4", positive=True)
s = sp.symbols("s1:4", positive=True)
a = sp.Symbol("a", nonnegative=True)


def _gamma(i: int, depth: int):
    radius = sp.prod(s[: i - 1]) if i > 1 else 1
    gain = sp.prod([n[m - 1] * k[m - 1] for m in range(i + 1, depth + 1)]) if i < depth else 1
    return sp.sqrt((2 * (1 + a**2) if i == 1 else 1) * n[i - 1] * n[depth]) * radius * gain


def check_unrolled() -> None:
    beta = sp.sqrt(1 + a**2) * sp.sqrt(2 * n[0]) * eta[0]  # b_1 = sqrt(1 + a^2) rows(D_1)
    beta = sp.sqrt(n[1]) * eta[1] * s[0] + n[1] * k[1] * beta  # layer 2 (hidden)
    err = sp.sqrt(n[3] * n[2]) * eta[2] * s[0] * s[1] + sp.sqrt(n[3]) * n[2] * k[2] * beta  # output layer 3
    expected = sum(_gamma(i, 3) * eta[i - 1] for i in range(1, 4))
    flat = lambda expr: sp.expand(sp.powsimp(expr, force=True))  # noqa: E731 - sqrt(x) sqrt(y) = sqrt(x y), all positive
    assert_identity(flat(err), flat(expected), "err_3 = sum gamma_i eta_i")
    one = sp.sqrt(1 + a**2) * sp.sqrt(2 * n[0] * n[1]) * eta[0]  # l = 1: sqrt(1 + a^2) ||D_1||_F
    assert_identity(sp.powsimp(one, force=True), sp.powsimp(_gamma(1, 1) * eta[0], force=True), "l = 1")
    assert _gamma(1, 2).subs(a, 0) == sp.sqrt(2 * n[0] * n[2]) * n[1] * k[1], "a = 0: the ReLU's gamma_1"


def check_against_package() -> None:
    from stronglth.bounds import burkholz_amplification, burkholz_tolerances

    dims, ks, spectral = (3, 5, 4, 2), (7, 6, 4), (0.9, 0.8, 0.7)
    for slope in (0.0, 0.01, 0.1, 0.5):
        values = {
            **dict(zip(n, dims, strict=True)),
            **dict(zip(k, ks, strict=True)),
            **dict(zip(s, spectral, strict=True)),
            a: sp.Float(slope, 30),
        }
        expected = [float(_gamma(i, 3).subs(values)) for i in range(1, 4)]
        got = burkholz_amplification(dims, ks, spectral, negative_slope=slope)
        assert_close(got, expected, f"gamma_i, a = {slope}", rel=1e-13)
        etas = burkholz_tolerances(dims, 0.1, ks, spectral, negative_slope=slope)
        assert_close(etas, [0.1 / (3 * g) for g in expected], "eta_i", rel=1e-13)
        assert math.isclose(sum(g * e for g, e in zip(got, etas, strict=True)), 0.1)
    relu = burkholz_amplification(dims, ks, spectral)
    assert burkholz_amplification(dims, ks, spectral, negative_slope=0.0) == relu, "a = 0 is the ReLU bit for bit"


def check_a_priori_width() -> None:
    from stronglth.bounds import burkholz_event_counts, burkholz_theorem_block_sizes, burkholz_tolerances, subset_sum_block_size
    from stronglth.bounds.burkholz import first_layer_max_weight

    for n_in, slope in ((1, 0.0), (4, 0.1), (9, 0.5)):
        assert_close(first_layer_max_weight(n_in, slope), min(1.0, 1.0 / math.sqrt(n_in)) / (1 + slope), "w_max,1", rel=1e-15)
    for dims, slope in (((2, 3), 0.1), ((4, 8, 1), 0.5), ((3, 4, 2), 0.01)):
        ks = burkholz_theorem_block_sizes(dims, 0.3, 0.05, negative_slope=slope)
        etas = burkholz_tolerances(dims, 0.3, ks, negative_slope=slope)
        tau = 0.05 / sum(burkholz_event_counts(dims, ks))
        for i, (size, tolerance) in enumerate(zip(ks, etas, strict=True)):
            w_max = min(1.0, 1.0 / math.sqrt(dims[i])) / (1 + slope if i == 0 else 1)
            law = "product" if i == 0 else "uniform"
            fixed = max(1, subset_sum_block_size(tolerance, w_max, tau, law=law)[0])
            assert size == fixed, f"{dims}, a = {slope}: layer {i + 1} has k = {size}, the map gives {fixed}"


def check() -> None:
    check_unrolled()
    check_against_package()
    check_a_priori_width()
