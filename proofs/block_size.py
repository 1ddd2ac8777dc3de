"""Block size from the union bound - docs/theory.md §4 (derived here).

Paper: Malach et al., ICML 2020 (a union bound over all target weights fixes the width); the
explicit constant is ours.

Statement. If one candidate hits an event with probability ``p in (0, 1)``, ``k`` independent
candidates all miss with probability ``(1 - p)^k``, and::

    k >= ln(N_ev / delta) / (-ln(1 - p))   implies   (1 - p)^k <= delta / N_ev,

so a union bound over the ``N_ev = 2 n_1 n_0 + sum_{i >= 2} n_i n_{i-1}`` (output, input, sign)
events fails with probability at most ``N_ev delta / N_ev = delta``. ``block_size_for`` returns
the least such integer ``k >= 1`` (``k = 1`` when ``p = 1``).

Derivation. Write ``1 - p = exp(-L)`` with ``L = -ln(1 - p) > 0``. Then ``N_ev (1 - p)^k =
N_ev exp(-k L)`` is decreasing in ``k`` and equals ``delta`` at ``k_0 = ln(N_ev / delta) / L``.
Since ``L >= p``, ``k >= ln(N_ev / delta) / p`` also suffices.

Check. Symbolic: ``N (1 - p)^(k_0) = delta``, the sign of the ``k``-derivative, ``-ln(1 - p) >= p``
(``g(p) = -ln(1 - p) - p`` has ``g(0) = 0``, ``g' = p / (1 - p) >= 0``), the union-bound sum and
``N_ev``. Numeric: on a grid of ``p`` (including ``1``, ``1 - 2^-53``, exact ties such as
``N (1 - p)^k = delta`` and tiny ``p``), ``N_ev`` and ``delta``: ``block_size_for`` is the
least ``k`` with ``N (1 - p)^k <= delta`` (exact rationals for moderate ``k``, 60-digit mpmath
otherwise) and equals ``max(1, ceil(k_0))``; ``event_count`` against the formula.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_identity

LEMMA = Lemma(
    name="block size (union bound)",
    statement="k >= ln(N_ev/delta) / (-ln(1-p)) => N_ev (1-p)^k <= delta; k_i is the least such integer",
    implemented_by="stronglth.bounds.block_size_for",
    property_test="tests/test_bounds.py::test_block_size_is_smallest_satisfying",
    reference="docs/theory.md §4",
)


def check_symbolic() -> None:
    N, delta, L, k = sp.symbols("N delta L k", positive=True)
    p = sp.Symbol("p", positive=True)
    miss = N * sp.exp(-k * L)  # N (1 - p)^k with 1 - p = exp(-L)
    k0 = sp.log(N / delta) / L
    assert_identity(sp.simplify(miss.subs(k, k0)), delta, "N (1 - p)^(k_0) = delta")
    assert sp.diff(miss, k).is_negative is True, "N (1 - p)^k is decreasing in k"
    # the same in the variable q = 1 - p in (0, 1): q^k0 with k0 = ln(N/delta) / (-ln q)
    q = sp.Symbol("q", positive=True)
    assert_identity(sp.powsimp(N * q ** (sp.log(N / delta) / -sp.log(q)), force=True), delta, "N q^(ln(N/delta)/(-ln q))")
    # -ln(1 - p) >= p on [0, 1): g(0) = 0 and g'(p) = p / (1 - p) >= 0 (p = 1 - q)
    g = -sp.log(1 - p) - p
    assert g.subs(p, 0) == 0, "g(0) = 0"
    assert_identity(sp.diff(g, p).subs(p, 1 - q), (1 - q) / q, "g'(p) = p / (1 - p)")
    # union bound: N_ev events, each missed with probability <= delta / N_ev
    n = sp.Symbol("n", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    assert sp.summation(delta / n, (j, 1, n)) == delta, "sum of N_ev terms delta / N_ev = delta"


def _satisfies(n_events: int, p: float, k: int, delta: float) -> bool:
    if k <= 2048:
        return n_events * (1 - Fraction(p)) ** k <= Fraction(delta)
    with mpmath.workdps(60):
        return mpmath.mpf(n_events) * (1 - mpmath.mpf(p)) ** k <= mpmath.mpf(delta)


def check_grid() -> None:
    from stronglth.bounds import block_size_for, event_count

    probabilities = (1.0, 1 - 2.0**-53, 0.75, 0.5, 0.1, 1e-3, 2.0**-10, 1e-6)
    for p in probabilities:
        for n_events in (1, 3, 4, 1000, 2**20):
            for delta in (1e-9, 3 / 64, 0.05, 0.25, 0.5, 0.999):
                k = block_size_for(p, n_events, delta)
                label = f"p = {p}, N_ev = {n_events}, delta = {delta}: k = {k}"
                assert isinstance(k, int) and k >= 1, label
                assert _satisfies(n_events, p, k, delta), f"N (1 - p)^k > delta, {label}"
                assert k == 1 or not _satisfies(n_events, p, k - 1, delta), f"k - 1 also suffices, {label}"
                if p < 1:
                    with mpmath.workdps(60):
                        k0 = mpmath.log(mpmath.mpf(n_events) / mpmath.mpf(delta)) / -mpmath.log1p(-mpmath.mpf(p))
                        k_formula = max(1, int(mpmath.ceil(k0 - mpmath.mpf(10) ** -40)))
                    assert k == k_formula, f"k != max(1, ceil(ln(N/delta) / -ln(1-p))) = {k_formula}, {label}"
                    assert math.ceil(math.log(n_events / delta) / p) >= k, f"ln(N/delta)/p < k: it would not suffice, {label}"
    # boundary cases where N (1 - p)^k = delta exactly
    for p, n_events, delta, expected in ((0.5, 1, 0.5, 1), (0.5, 1, 0.25, 2), (0.5, 4, 0.25, 4), (0.75, 3, 3 / 64, 3)):
        assert block_size_for(p, n_events, delta) == expected, f"exact tie p = {p}, N = {n_events}, delta = {delta}"
    for dims in ((1, 1), (4, 8, 8, 1), (2, 3, 2), (5, 1, 7)):
        pairs = [dims[i] * dims[i - 1] for i in range(1, len(dims))]
        assert event_count(dims) == 2 * pairs[0] + sum(pairs[1:]), f"N_ev = 2 n_1 n_0 + sum_(i>=2) n_i n_(i-1), {dims}"
        assert event_count(dims, negative_half_everywhere=True) == 2 * sum(pairs), f"N_ev with both halves, {dims}"


def check() -> None:
    check_symbolic()
    check_grid()
