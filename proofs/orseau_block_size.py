"""Width and units per weight of the Orseau construction - docs/theory.md §13 (derived here).

Paper: Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need", NeurIPS 2020
(``O(log(1/eps))`` intermediate units per target weight; a union bound over all weights and levels,
as Malach et al. 2020 do over weights, docs/theory.md §4).

Statement. Layer ``i`` has ``N_i = h_i n_i n_{i-1}`` events, each needing ``L_i = K_i - s_i + 1``
levels, each covered by one unit with probability ``>= q_min``. If
``k_i >= ln(l N_i L_i / delta) / (-ln(1 - q_min))`` then ``sum_i N_i L_i (1 - q_min)^{k_i} <= delta``:
with probability ``>= 1 - delta`` every level of every event is covered, every per-weight error is
``<= eta_i`` (the decomposition lemma) and the certified error is ``<= eps`` (docs/theory.md §3.4).
The decomposition keeps at most one unit per level and side, and none of a level above ``|w|``, so a
weight keeps at most ``h_i K_i <= h_i (2 + ln(1/eta_i) / ln(3/2))`` units.

Derivation. ``(1 - q)^k = exp(-k (-ln(1 - q)))`` is decreasing in ``k`` and equals ``delta / (l N L)``
at the threshold; the union bound adds ``l`` layers of ``N_i L_i`` terms. ``K = 1 + ceil(ln(1/eta)/lam)
<= 2 + ln(1/eta)/lam``.

Check. Symbolic: the threshold identity and the union-bound sum. Numeric: ``orseau_block_sizes`` is
the least integer meeting the bound (exact rationals), and ``orseau_failure_probability`` at those
sizes is ``<= delta``, for a grid of dims, ``eps``, ``delta``; ``orseau_units_per_weight_bound``
against ``h K`` and ``h (2 + ln(1/eta)/lam)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_identity

LEMMA = Lemma(
    name="Orseau: block size and units per weight",
    statement="k_i = ceil(ln(l N_i L_i / delta) / -ln(1 - q_min)); units per weight <= h_i K_i <= h_i (2 + ln(1/eta_i)/ln 1.5)",
    implemented_by="stronglth.bounds.orseau.orseau_block_sizes",
    property_test="tests/bounds/test_orseau.py::test_block_sizes_are_the_least_the_union_bound_allows",
    reference="docs/theory.md §13",
)


def _union(layers: int, events: int, count: int, q: Fraction, k: int) -> Fraction:
    """``l N L (1 - q)^k``, exactly."""
    return layers * events * count * (1 - q) ** k


def check_symbolic() -> None:
    N, Lc, l, delta, q = sp.symbols("N L l delta q", positive=True)
    threshold = sp.log(l * N * Lc / delta) / -sp.log(q)  # q stands for 1 - q_min in (0, 1)
    assert_identity(sp.powsimp(l * N * Lc * q**threshold, force=True), delta, "l N L (1 - q_min)^k0 = delta")
    i = sp.Symbol("i", integer=True, positive=True)
    assert sp.summation(delta / l, (i, 1, l)) == delta, "l layers of delta / l"


def check_numeric() -> None:
    from stronglth.bounds import (
        orseau_block_sizes,
        orseau_failure_probability,
        orseau_layer_parameters,
        orseau_levels,
        orseau_units_per_weight_bound,
    )

    for dims in ((1, 1), (3, 4, 2), (2, 2, 2, 1), (784, 500, 10)):
        for eps in (0.4, 0.1, 0.01):
            for delta in (0.05, 0.5):
                ks = orseau_block_sizes(dims, eps, delta)
                l = len(dims) - 1
                for k, row in zip(ks, orseau_layer_parameters(dims, eps), strict=True):
                    count = row["levels"] - row["start_level"] + 1
                    q = Fraction(row["q_min"])
                    if k <= 4096:
                        assert _union(l, row["events"], count, q, k) <= Fraction(delta) * (1 + Fraction(1, 10**9)), (
                            f"{dims}, eps {eps}: k = {k} too small"
                        )
                        assert k == 1 or _union(l, row["events"], count, q, k - 1) > Fraction(delta) * (1 - Fraction(1, 10**9)), (
                            f"{dims}: k - 1 suffices"
                        )
                assert orseau_failure_probability(dims, eps, ks) <= delta, f"failure bound > delta for {dims}, eps {eps}"
    for eta in (0.5, 0.1, 1e-3, 1e-6):
        K = orseau_levels(eta)
        assert K <= 2 + math.log(1 / eta) / math.log(1.5), f"K = {K} for eta = {eta}"
        for sides in (1, 2):
            assert orseau_units_per_weight_bound(eta, 1.0, sides) == sides * K, f"h K for eta = {eta}, m = 1"
            assert orseau_units_per_weight_bound(eta, 0.01, sides) <= sides * K


def check() -> None:
    check_symbolic()
    check_numeric()
