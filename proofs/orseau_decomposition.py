"""The base-3/2 decomposition of one weight - docs/theory.md §13 (constants derived here).

Paper: Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need", NeurIPS 2020 (a "binary"
decomposition of each target weight, in base 3/2, one intermediate unit per digit), on the two-half
gadget of Malach et al. 2020 (docs/theory.md §2).

Statement. Let ``beta = 2/3``, level ``k`` the range ``[beta^k, beta^(k-1)]``, ``0 <= tau <= (3/2)
beta^(s-1)`` and ``a_k`` in level ``k`` for every ``k = s..K``. The greedy rule (take ``a_k`` iff
``a_k <= r``, then ``r <- r - a_k``; ``r = tau`` at first) keeps ``0 <= r`` and ends with
``r <= (3/2) beta^K = beta^(K-1)``. ``K = 1 + ceil(ln(1/eta)/ln(3/2))`` is the least ``K`` with
``beta^(K-1) <= eta``; ``s(m) = 2 + floor(ln(1/m)/ln(3/2))`` the largest ``s`` with
``m <= (3/2) beta^(s-1)``.

Derivation. Invariant ``r <= (3/2) beta^(k-1)`` before level ``k >= s``. Taken:
``r - a_k <= (3/2) beta^(k-1) - beta^k = (5/4) beta^k <= (3/2) beta^k``. Not taken: ``r < a_k <=
beta^(k-1) = (3/2) beta^k``. Both are the invariant before level ``k + 1``.

Check. Symbolic (sympy, ``k`` a positive integer symbol): the two identities
``(3/2) beta^(k-1) - beta^k = (5/4) beta^k`` and ``beta^(k-1) = (3/2) beta^k``, the slack
``(3/2 - 5/4) beta^k >= 0``, ``(3/2) beta^K = beta^(K-1)``; the closed forms of ``K`` and ``s``
against their defining inequalities for exact rationals. Numeric: ``greedy_decomposition`` on a
grid of ``tau`` and level values at the ends of their levels (the worst cases of the invariant)
stays within ``(3/2) beta^K``; ``orseau_levels`` and ``orseau_start_level`` against the closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_identity, assert_nonnegative

LEMMA = Lemma(
    name="Orseau: base-3/2 decomposition",
    statement="a_k in [b^k, b^(k-1)] for k = s..K, tau <= (3/2) b^(s-1), b = 2/3 => greedy residual in [0, b^(K-1)]",
    implemented_by="stronglth.constructions.orseau.decomposition.greedy_decomposition",
    property_test="tests/constructions/orseau/test_decomposition.py::test_greedy_error_is_within_the_lemma_bound_when_every_level_is_covered",
    reference="docs/theory.md §13",
)

BETA = sp.Rational(2, 3)


def check_symbolic() -> None:
    k = sp.Symbol("k", integer=True, positive=True)
    taken = sp.Rational(3, 2) * BETA ** (k - 1) - BETA**k
    assert_identity(sp.simplify(taken / BETA**k), sp.Rational(5, 4), "(3/2) b^(k-1) - b^k = (5/4) b^k")
    assert_identity(sp.simplify(BETA ** (k - 1) / BETA**k), sp.Rational(3, 2), "b^(k-1) = (3/2) b^k")
    assert_nonnegative((sp.Rational(3, 2) - sp.Rational(5, 4)) * BETA**k, "(3/2 - 5/4) b^k >= 0")
    assert_identity(sp.simplify(sp.Rational(3, 2) * BETA**k / BETA ** (k - 1)), 1, "(3/2) b^K = b^(K-1)")
    for eta in (sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(1, 1000), sp.Rational(4, 9), sp.Rational(8, 27)):
        K = 1 + sp.ceiling(sp.log(1 / eta) / sp.log(sp.Rational(3, 2)))
        assert BETA ** (K - 1) <= eta and BETA ** (K - 2) > eta, f"K = {K} is the least with b^(K-1) <= eta = {eta}"
    for m in (sp.Integer(1), sp.Rational(2, 3), sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(4, 9)):
        s = 2 + sp.floor(sp.log(1 / m) / sp.log(sp.Rational(3, 2)))
        assert m <= sp.Rational(3, 2) * BETA ** (s - 1) and m > sp.Rational(3, 2) * BETA**s, f"s = {s} for m = {m}"


def check_numeric() -> None:
    from stronglth.bounds import orseau_levels, orseau_start_level
    from stronglth.constructions.orseau.decomposition import greedy_decomposition

    beta = 2.0 / 3.0
    for s in (1, 2, 3, 6):
        for K in (s, s + 1, s + 5, s + 20):
            for tau in np.linspace(0.0, 1.5 * beta ** (s - 1), 41):
                for end in (0.0, 0.5, 1.0):  # every digit at the bottom, the middle or the top of its level
                    values = [np.nan] * (s - 1) + [beta**k * (1.0 + 0.5 * end) for k in range(s, K + 1)]
                    _, residual = greedy_decomposition([tau], [values])
                    assert 0.0 <= residual[0] <= 1.5 * beta**K + 1e-14, f"s = {s}, K = {K}, tau = {tau}, digits at {end}"
    for eta in (0.9, 0.5, 0.1, 1e-3, 1e-6, 4.0 / 9.0):
        assert orseau_levels(eta) == 1 + math.ceil(math.log(1 / eta) / math.log(1.5)) or beta ** (orseau_levels(eta) - 1) <= eta
        K = orseau_levels(eta)
        assert beta ** (K - 1) <= eta < beta ** (K - 2) if K > 1 else beta ** (K - 1) <= eta, f"orseau_levels({eta}) = {K}"
    for m in (1.0, 0.7, 0.5, 0.1, 1e-3):
        s = orseau_start_level(m)
        assert m <= 1.5 * beta ** (s - 1) and m > 1.5 * beta**s, f"orseau_start_level({m}) = {s}"


def check() -> None:
    check_symbolic()
    check_numeric()
