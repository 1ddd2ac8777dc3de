"""The matching rule: probability >= eta^2/16 and error <= eta - docs/theory.md §4 (derived here).

Paper: Malach et al., ICML 2020 (the sufficient event in their proof: ``u`` close to the weight,
``v`` close to 1); the constants are ours.

Statement. A candidate (``u, v`` i.i.d. ``U[-1, 1]``) is *matched* to ``w`` (``a = |w| <= 1``)
when ``u > 0``, ``|u - a| <= eta/2``, ``sign v = sign w`` and ``|v| >= 1 - eta/2``. Then::

    p_match = (1/2) len([a - eta/2, a + eta/2] ∩ [0, 1]) * (1/2) min(eta/2, 1) >= eta^2 / 16  (0 < eta <= 2),
    | |v| u - a | <= eta   (so |v u - w| <= eta, and p_match <= p(w, eta)).

Derivation. ``u`` has density ``1/2`` on ``(0, 1]`` and ``|v|`` with the right sign has density
``1/2`` on ``[1 - eta/2, 1]``. The window's length is ``min(eta/2, 1 - a) + min(eta/2, a)``: in each
of the four cases of the two minima it is at least ``eta/2`` (both terms ``eta/2``: ``eta``; one
of them: ``eta/2 + ...``; neither: the window covers ``[0, 1]``, length ``1 >= eta/2``), so
``p_match >= (1/2)(eta/2)(1/2)(eta/2)``. For the error, ``f(m, u) = m u - a`` is affine in each of
``m = |v|`` and ``u`` on the box ``[1 - eta/2, 1] x [a - eta/2, a + eta/2]``, which contains every
matched pair, so ``|f|`` is largest at a corner; at the corners ``f`` is ``±eta/2``,
``eta/2 - a eta/2 - eta^2/4`` and ``-eta/2 - a eta/2 + eta^2/4``, all in ``[-eta, eta]`` for
``0 <= a <= 1``, ``0 < eta <= 2``.

Check. Symbolic: each case of the length bound, each corner (``eta = 2/(1 + m)`` covers
``(0, 2]``; ``a >= 0`` or ``a = 1 - b <= 1``). Numeric: ``matching_probability`` on a dense grid of
``(w, eta)`` in ``[-1, 1] x (0, 1]`` including the endpoints, against the product formula computed
independently, ``>= eta^2/16`` with equality at ``w = 0`` and ``|w| = 1``, ``<= hit_probability``;
``| |v| u - a | <= eta`` on a dense grid of matched ``(u, |v|)`` including the box edges.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, assert_nonnegative

LEMMA = Lemma(
    name="matching rule",
    statement="P(u>0, |u-|w|| <= eta/2, sign v = sign w, |v| >= 1-eta/2) >= eta^2/16; then ||v|u - |w|| <= eta",
    implemented_by="stronglth.bounds.matching_probability",
    property_test="tests/test_bounds.py::test_matching_properties",
    reference="docs/theory.md §4",
)


def check_probability_bound() -> None:
    a, b, eta, m = sp.symbols("a b eta m", nonnegative=True)
    half = eta / 2
    v_side = sp.Rational(1, 2) * half  # (1/2) min(eta/2, 1) for eta <= 2
    # the four cases of min(eta/2, a) and min(eta/2, 1 - a)
    cases = {
        "both minima eta/2": half + half,
        "a < eta/2 <= 1 - a": a + half,
        "1 - a < eta/2 <= a": (1 - a) + half,
        "window covers [0, 1]": sp.Integer(1),
    }
    for case, length in cases.items():
        gap = sp.Rational(1, 2) * length * v_side - eta**2 / 16
        if case == "window covers [0, 1]":
            gap = gap.subs(eta, 2 / (1 + m))  # eta in (0, 2]
        gap = gap.subs(a, 1 - b) if case.startswith("1 - a") else gap  # a = 1 - b <= 1
        assert_nonnegative(sp.factor(sp.together(gap)), f"p_match >= eta^2/16 when {case}")
    assert_identity(sp.Rational(1, 2) * half * v_side, eta**2 / 16, "the bound is attained when the window keeps eta/2")


def check_error_bound() -> None:
    a, b, eta, m = sp.symbols("a b eta m", nonnegative=True)
    corners = [(1, a + eta / 2), (1, a - eta / 2), (1 - eta / 2, a + eta / 2), (1 - eta / 2, a - eta / 2)]
    eta_range = {eta: 2 / (1 + m)}  # eta in (0, 2]
    for v_abs, u in corners:
        f = v_abs * u - a
        for side, gap in (("f <= eta", eta - f), ("f >= -eta", eta + f)):
            # a >= 0 (a a non-negative symbol) or a <= 1 (a = 1 - b): either covers [0, 1]
            tries = [sp.factor(sp.together(gap.subs(eta_range))), sp.factor(sp.together(gap.subs(eta_range).subs(a, 1 - b)))]
            assert any(t.is_nonnegative for t in tries), f"{side} at the corner (|v|, u) = ({v_abs}, {u}): {gap}"


def check_grid() -> None:
    from stronglth.bounds import hit_probability, matching_probability

    w = np.linspace(-1.0, 1.0, 401)
    eta = np.concatenate([[1e-9, 1e-4], np.linspace(0.0, 1.0, 401)[1:]])
    W, E = np.meshgrid(w, eta, indexing="ij")
    p = matching_probability(W, E)
    a = np.abs(W)
    length = np.clip(np.minimum(a + E / 2, 1.0) - np.maximum(a - E / 2, 0.0), 0.0, None)
    v_side = 0.5 * np.minimum(E / 2, 1.0)
    rounding = 4 * np.finfo(float).eps * (a + 1) * 0.5 * v_side  # the naive length cancels for tiny eta
    assert_close(p, 0.5 * length * v_side, "matching_probability = product formula", rel=1e-12, abs_=rounding)
    assert np.all(p >= E**2 / 16 * (1 - 1e-12)), "matching_probability >= eta^2/16 on the grid"
    for edge in (0, 200, 400):  # w = -1, 0, 1: the bound is attained
        assert_close(p[edge], eta**2 / 16, f"p_match = eta^2/16 at w = {w[edge]}", rel=1e-12)
    assert np.all(p <= hit_probability(W, E) * (1 + 1e-9)), "the matching event lies inside the hit event"
    # matched candidates are within eta: a grid of the box, edges included
    a_grid, e_grid = np.linspace(0.0, 1.0, 101), np.linspace(0.0, 1.0, 101)[1:]
    s = np.linspace(0.0, 1.0, 11)
    A, Eg, S, T = np.meshgrid(a_grid, e_grid, s, s, indexing="ij")
    u = np.maximum(A - Eg / 2, 0.0) + S * (np.minimum(A + Eg / 2, 1.0) - np.maximum(A - Eg / 2, 0.0))
    v_abs = 1.0 - T * Eg / 2
    assert np.all(np.abs(v_abs * u - A) <= Eg * (1 + 1e-12)), "| |v| u - |w| | <= eta for a matched candidate"


def check() -> None:
    check_probability_bound()
    check_error_bound()
    check_grid()
