"""The nnz count of a Malach-style ticket - docs/theory.md §3 (Sparsity).

Paper: Malach et al., ICML 2020, Thm 2.1 (a ticket with ``O(dn + n^2 l)`` non-zero weights).

Statement. A Malach-style ticket keeps at most ``4 sum_i n_i n_{i-1}`` weights; more precisely at
most ``2 h_i n_i n_{i-1}`` in layer ``i``, with ``h_i = 2`` when the ``N`` half is kept and 1
otherwise. With ``n_i <= n`` this is ``<= 4 (d n + (l - 1) n^2) = O(dn + n^2 l)``.

Derivation. Each target weight ``(o, j)`` uses at most one unit per side (``|P|, |N| <= 1``),
so at most ``h_i`` kept entries in row ``o`` of ``M_{2i}`` within block ``j``; each used unit
keeps exactly one entry of ``M_{2i-1}`` (its own input ``j``) and is used by some ``(o, j)``, so
``M_{2i-1}`` keeps at most as many entries as ``M_{2i}`` (fewer when outputs share units).
Summing, ``nnz <= sum_i 2 h_i n_i n_{i-1} <= 4 sum_i n_i n_{i-1}``.

Check. Symbolic: the count for ``l = 3`` with symbolic widths and its ``O(dn + n^2 l)`` form
(``n_i = n - m_i``, ``m_i >= 0``: the gap is a sum of products of non-negative numbers);
``nnz_bound`` against the count. Constructed tickets
(``stronglth.constructions`` on small random targets): the per-block structure above read from the
kept entries, and ``ticket.nnz`` against both bounds.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_identity, assert_nonnegative

LEMMA = Lemma(
    name="nnz count",
    statement="<= 1 unit per side per weight, 2 kept weights per unit: nnz <= 4 sum_i n_i n_{i-1} = O(dn + n^2 l)",
    implemented_by="stronglth.bounds.nnz_bound",
    property_test="tests/constructions/malach/test_network.py::test_theorem_width_ticket_properties",
    reference="docs/theory.md §3",
)


def check_symbolic() -> None:
    d, n = sp.symbols("d n", positive=True)
    widths = sp.symbols("n1:4", positive=True)
    dims = (d, *widths)
    sides, weights_per_unit = 2, 2
    count = sum(sides * weights_per_unit * dims[i] * dims[i - 1] for i in range(1, 4))
    assert_identity(count, 4 * sum(dims[i] * dims[i - 1] for i in range(1, 4)), "2 sides x 2 weights per target weight")
    # O(dn + n^2 l): with n_i = n - m_i, m_i >= 0, the gap 4 (d n + (l - 1) n^2) - count is 4 times
    # d m_1 + n m_2 + n_2 m_1 + n m_3 + n_3 m_2, a sum of products of non-negative numbers
    slack = sp.symbols("m1:4", nonnegative=True)
    m1, m2, m3 = slack
    _, n2, n3 = widths
    gap = 4 * (d * n + 2 * n**2) - count
    decomposition = 4 * (d * m1 + n * m2 + n2 * m1 + n * m3 + n3 * m2)
    assert_identity(gap, decomposition.subs({m: n - w for w, m in zip(widths, slack, strict=False)}), "4 (d n + 2 n^2) - count")
    assert_nonnegative(decomposition, "4 (d n + (l - 1) n^2) - count >= 0")


def check_against_package() -> None:
    import stronglth
    from stronglth.bounds import nnz_bound

    for dims in ((1, 1), (2, 3, 2), (4, 8, 8, 1), (784, 500, 10)):
        assert nnz_bound(dims) == 4 * sum(dims[i] * dims[i - 1] for i in range(1, len(dims))), f"nnz_bound{dims}"
    for seed, (d, widths), everywhere in (
        (0, (2, [3, 2]), False),
        (1, (2, [3, 2]), True),
        (2, (3, [2, 2, 1]), False),
        (3, (1, [1]), False),
    ):
        target = stronglth.random_target(d, widths, seed=seed)
        ticket = stronglth.construct(target, eps=0.5, delta=1e-9, seed=seed, negative_half_everywhere=everywhere)
        dims = target.dims
        sharp = 0
        for i, k in enumerate(ticket.meta["block_sizes"], start=1):
            halves = 2 if (i == 1 or everywhere) else 1
            sharp += 2 * halves * dims[i] * dims[i - 1]
            first, second = ticket.kept(2 * i - 1), ticket.kept(2 * i)
            # M_{2i}: per (output o, block j) at most one unit per side
            per_event = np.unique(np.stack([second.rows, second.cols // k]), axis=1, return_counts=True)[1]
            assert np.all(per_event <= halves), f"layer {i}: a target weight uses more than {halves} units"
            # M_{2i-1}: one entry per used unit, in its own block, and only units used by M_{2i}
            assert np.unique(first.rows).size == len(first), f"layer {i}: a unit keeps two first-layer weights"
            assert np.all(first.cols == first.rows // k), f"layer {i}: a unit reads outside its block"
            assert set(first.rows.tolist()) <= set(second.cols.tolist()), f"layer {i}: a kept unit feeds no output"
            assert len(first) <= len(second) <= halves * dims[i] * dims[i - 1], f"layer {i}: too many entries"
        assert ticket.nnz <= sharp <= nnz_bound(dims), f"nnz {ticket.nnz} > {sharp} (per-layer) or > nnz_bound"


def check() -> None:
    check_symbolic()
    check_against_package()
