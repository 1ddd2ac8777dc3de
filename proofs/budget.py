"""The eta_i budget - docs/theory.md §3 (derived here).

Paper: Malach et al., ICML 2020 (per-weight accuracy eps / poly); the constants are our derivation.

Statement. With ``h_i = 2`` when layer ``i`` keeps both halves ``D+, D-`` (always for ``i = 1``)
and ``h_i = 1`` otherwise::

    eta_i = ln(1 + eps) / (l sqrt(h_i n_i n_{i-1})),   i.e.   eta_i sqrt(h_i n_i n_{i-1}) l = ln(1 + eps),

and if every per-weight error is at most ``eta_i`` then ``c_i <= ln(1 + eps) / l``, so
``sum_i c_i <= ln(1 + eps)`` and (:mod:`proofs.recursion`) ``E_l <= eps``.

Derivation. ``[D+, D-]`` has ``h_i n_i n_{i-1}`` entries each at most ``eta_i`` in absolute
value, so ``c_i = ||[D+, D-]||_2 <= ||[D+, D-]||_F <= sqrt(h_i n_i n_{i-1} eta_i^2)``
``= eta_i sqrt(h_i n_i n_{i-1}) = ln(1 + eps) / l``. The spectral norm is at most the Frobenius
norm because ``||M||_F^2`` is the sum of all squared singular values.

Check. Symbolic: the defining identity with positive symbols; the Frobenius step; the sum over
``l = 3`` layers. Numeric: ``per_weight_tolerance`` against the sympy expression at 30 digits for
several shapes (both settings of ``negative_half_everywhere``), and spectral <= Frobenius norm of
random matrices whose entries are exactly ``±eta_i``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="eta_i budget",
    statement="eta_i sqrt(h n_i n_{i-1}) l = ln(1+eps), h = 2 (layer 1) or 1, so sum_i c_i <= ln(1+eps)",
    implemented_by="stronglth.bounds.per_weight_tolerance",
    property_test="tests/test_bounds.py::test_per_weight_tolerance_spends_exactly_the_budget",
    reference="docs/theory.md §3",
)

eps, depth, n_out, n_in, eta = sp.symbols("epsilon l n_i n_im1 eta", positive=True)


def eta_formula(halves: int):
    return sp.log(1 + eps) / (depth * sp.sqrt(halves * n_out * n_in))


def check_symbolic() -> None:
    for halves in (1, 2):
        entries = halves * n_out * n_in
        assert_identity(eta_formula(halves) * sp.sqrt(entries) * depth, sp.log(1 + eps), f"eta_i sqrt({halves} n_i n_(i-1)) l")
        # every entry at most eta in absolute value: ||.||_F <= sqrt(entries eta^2) = eta sqrt(entries)
        assert_identity(sp.sqrt(entries * eta**2), eta * sp.sqrt(entries), "sqrt(N eta^2) = eta sqrt(N)")
    dims = sp.symbols("n0:4", positive=True)
    total = sum(
        eta_formula(2 if i == 1 else 1).subs({depth: 3, n_out: dims[i], n_in: dims[i - 1]})
        * sp.sqrt((2 if i == 1 else 1) * dims[i] * dims[i - 1])
        for i in range(1, 4)
    )
    assert_identity(total, sp.log(1 + eps), "sum_i eta_i sqrt(#entries_i) = ln(1 + eps), l = 3")


def check_against_package() -> None:
    from stronglth.bounds import per_weight_tolerance

    rng = np.random.default_rng(5)
    for dims in ((1, 1), (4, 8, 8, 1), (2, 3, 2), (784, 500, 10), (5, 1, 7, 3, 2)):
        layers = len(dims) - 1
        for value in (1e-6, 0.1, 1.0, 100.0):
            for everywhere in (False, True):
                etas = per_weight_tolerance(dims, value, negative_half_everywhere=everywhere)
                for i in range(1, layers + 1):
                    halves = 2 if (i == 1 or everywhere) else 1
                    exact = eta_formula(halves).subs({eps: sp.Rational(value), depth: layers, n_out: dims[i], n_in: dims[i - 1]})
                    assert_close(etas[i - 1], float(sp.N(exact, 30)), f"eta_{i} for dims {dims}, eps {value}", rel=1e-14)
                    if dims[i] * dims[i - 1] <= 64:
                        shape = (dims[i], halves * dims[i - 1])
                        worst = etas[i - 1] * rng.choice([-1.0, 1.0], size=shape)  # every entry at the tolerance
                        c = np.linalg.norm(worst, 2)
                        assert c <= np.linalg.norm(worst, "fro") * (1 + 1e-12), "spectral <= Frobenius"
                        assert c * layers <= np.log1p(value) * (1 + 1e-12), "c_i <= ln(1 + eps) / l"


def check() -> None:
    check_symbolic()
    check_against_package()
