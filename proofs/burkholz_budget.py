"""The a-priori budget of the depth l + 1 construction - docs/theory.md §14.4-14.5 (derived here).

Paper: Burkholz, NeurIPS 2022 splits the error budget over the layers with constants left implicit; this
is our explicit split, as docs/theory.md §3.4 does for Malach et al. and Pensia et al.

Statement. If every event of layer ``i`` is within ``eta_i`` (so ``|D_i| <= eta_i`` entrywise) and G's
weights lie in ``[-1, 1]`` (a row of ``V_i`` has at most ``n_{i-1} k_i`` entries), the entrywise bound
``beta_i`` on the copies' errors and the output error satisfy

    beta_1 <= sqrt(2 n_0) eta_1,   beta_i <= sqrt(n_{i-1}) eta_i R_{i-1} + n_{i-1} k_i beta_{i-1},
    err_l  <= sqrt(n_l n_{l-1}) eta_l R_{l-1} + sqrt(n_l) n_{l-1} k_l beta_{l-1}  =  sum_i gamma_i eta_i,

``gamma_i = sqrt(h_i n_{i-1} n_l) R_{i-1} prod_{m=i+1}^{l} n_{m-1} k_m`` (``h_1 = 2``); so
``eta_i = eps / (l gamma_i)`` gives ``err_l <= eps``.

Derivation. The entrywise recursion of :mod:`proofs.burkholz_copies` with ``rows(D_i) <= sqrt(n_{i-1})
eta_i`` (``sqrt(2 n_0) eta_1`` for ``[D+, D-]``), ``|V_i| b <= n_{i-1} k_i max b`` and, at the output,
``||D_l||_2 <= ||D_l||_F <= sqrt(n_l n_{l-1}) eta_l`` and ``|| |V_l| b || <= sqrt(n_l) n_{l-1} k_l max b``;
unrolled, each ``eta_i`` is multiplied by ``gamma_i``.

Check. Symbolic: unrolling the recursion for ``l = 3`` gives ``sum_i gamma_i eta_i`` exactly (and for
``l = 1``, ``sqrt(2 n_0 n_1) eta_1``); numerically ``burkholz_amplification`` and
``burkholz_tolerances`` against those expressions.
"""

from __future__ import annotations

import math

import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="burkholz budget",
    statement="err_l <= sum gamma_i eta_i; gamma_i = sqrt(h_i n_{i-1} n_l) R_{i-1} prod_{m>i} n_{m-1} k_m; eta = eps/(l gamma_i)",
    implemented_by="stronglth.bounds.burkholz_tolerances",
    property_test="tests/bounds/test_burkholz.py::test_tolerances_spend_exactly_eps",
    reference="docs/theory.md §14.4",
)

n = sp.symbols("n0:4", positive=True)
k = sp.symbols("k1:4", positive=True)
eta = sp.symbols("eta1:4", positive=True)
s = sp.symbols("s1:4", positive=True)


def _gamma(i: int, depth: int):
    radius = sp.prod(s[: i - 1]) if i > 1 else 1
    gain = sp.prod([n[m - 1] * k[m - 1] for m in range(i + 1, depth + 1)]) if i < depth else 1
    return sp.sqrt((2 if i == 1 else 1) * n[i - 1] * n[depth]) * radius * gain


def check_unrolled() -> None:
    depth = 3
    beta = sp.sqrt(2 * n[0]) * eta[0]
    beta = sp.sqrt(n[1]) * eta[1] * s[0] + n[1] * k[1] * beta  # layer 2 (hidden)
    err = sp.sqrt(n[3] * n[2]) * eta[2] * s[0] * s[1] + sp.sqrt(n[3]) * n[2] * k[2] * beta  # output layer 3
    assert_identity(err, sum(_gamma(i, depth) * eta[i - 1] for i in range(1, depth + 1)), "err_3 = sum gamma_i eta_i")
    assert_identity(_gamma(1, 1) * eta[0], sp.sqrt(2 * n[0] * n[1]) * eta[0], "l = 1: sqrt(2 n_0 n_1) eta_1")


def check_against_package() -> None:
    from stronglth.bounds import burkholz_amplification, burkholz_tolerances

    dims, ks, spectral = (3, 5, 4, 2), (7, 6, 4), (0.9, 0.8, 0.7)
    values = {**dict(zip(n, dims, strict=True)), **dict(zip(k, ks, strict=True)), **dict(zip(s, spectral, strict=True))}
    expected = [float(_gamma(i, 3).subs(values)) for i in range(1, 4)]
    assert_close(burkholz_amplification(dims, ks, spectral), expected, "gamma_i", rel=1e-13)
    assert_close(burkholz_tolerances(dims, 0.1, ks, spectral), [0.1 / (3 * g) for g in expected], "eta_i", rel=1e-13)
    assert math.isclose(sum(g * e for g, e in zip(expected, burkholz_tolerances(dims, 0.1, ks, spectral), strict=True)), 0.1)


def check() -> None:
    check_unrolled()
    check_against_package()
