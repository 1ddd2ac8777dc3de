"""Exact 1-D error of the gadget (the weight lemma, second half) - docs/theory.md §2.

Paper: Malach et al., ICML 2020 (the per-weight approximation step); Pensia et al., NeurIPS 2020.

Statement. With ``e(x) = g(x) - w x = (A - w) s(x) + (B + w) s(-x)`` (see :mod:`proofs.gadget`)::

    sup_{|x| <= r} |e(x)| = r max(|A - w|, |B + w|)          (exact, r > 0)

and, with the ``N`` half left out (inputs ``x >= 0`` after a ReLU), ``sup_{0 <= x <= r} |e| = r |A - w|``.

Derivation. ``e`` is piecewise linear with its only kink at 0: ``e(t) = (A - w) t`` and
``e(-t) = (B + w) t`` for ``t >= 0``. On each half ``|e|`` is ``t`` times a constant, non-decreasing
in ``t``, so its sup on ``[0, r]`` is at ``t = r``. Hence the sup is ``max(|e(r)|, |e(-r)|)``, and
``r > 0`` factors out of the max.

Check. Symbolic: ``e(±t)`` for ``t > 0``, ``d|e(±t)|/dt >= 0``, the values at ``x = ±r``, and
``max(r a, r b) = r max(a, b)`` by the two cases ``a >= b``, ``b >= a``. Numeric: a dense grid of
``x`` in ``[-r, r]`` including both endpoints and 0, for several ``(A - w, B + w)`` including zeros
and ties, against ``gadget_sup_error``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, assert_nonnegative, relu

LEMMA = Lemma(
    name="gadget sup error",
    statement="sup_{|x|<=r} |g(x) - w x| = r max(|A - w|, |B + w|), exactly",
    implemented_by="stronglth.constructions.malach.gadget.gadget_sup_error",
    property_test="tests/constructions/malach/test_gadget.py::test_error_formula_equals_measured_sup_error",
    reference="docs/theory.md §2",
)


def check_symbolic() -> None:
    alpha, beta = sp.symbols("alpha beta", real=True)  # alpha = A - w, beta = B + w
    t, r = sp.symbols("t r", positive=True)
    x = sp.Symbol("x", real=True)
    e = alpha * relu(x) + beta * relu(-x)
    # piecewise linear: e(t) = alpha t, e(-t) = beta t for t > 0
    assert_identity(e.subs(x, t), alpha * t, "e(t) = (A - w) t for t > 0")
    assert_identity(e.subs(x, -t), beta * t, "e(-t) = (B + w) t for t > 0")
    # |e| is non-decreasing in t on each half: its derivative is |alpha| (or |beta|) >= 0
    for half, coefficient in ((e.subs(x, t), alpha), (e.subs(x, -t), beta)):
        slope = sp.diff(sp.Abs(half), t)
        assert_identity(slope, sp.Abs(coefficient), "d|e(±t)|/dt = |coefficient|")
        assert_nonnegative(slope, "d|e(±t)|/dt >= 0")
    # so the sup over [-r, r] is taken at x = r and x = -r
    assert_identity(sp.Abs(e.subs(x, r)), r * sp.Abs(alpha), "|e(r)| = r |A - w|")
    assert_identity(sp.Abs(e.subs(x, -r)), r * sp.Abs(beta), "|e(-r)| = r |B + w|")
    # max(r a, r b) = r max(a, b), a, b >= 0: by the cases a = b + h and b = a + h, h >= 0
    a, h = sp.symbols("a h", nonnegative=True)
    for big, small in ((a + h, a), (a, a + h)):
        assert_identity(sp.Max(r * big, r * small), r * sp.Max(big, small), "max(r a, r b) = r max(a, b)")


def check_grid() -> None:
    from stronglth.constructions.malach.gadget import gadget_sup_error

    rng = np.random.default_rng(7)
    pairs = [(0.0, 0.0), (0.3, 0.0), (0.0, -0.3), (0.5, 0.5), (-0.5, 0.5), (1.0, -2.0)]
    pairs += [tuple(rng.uniform(-1.5, 1.5, 2)) for _ in range(20)]
    for r in (0.25, 1.0, 3.0):
        x = np.concatenate([np.linspace(-r, r, 4001), [0.0]])  # both endpoints and the kink
        for alpha, beta in pairs:
            e = alpha * np.maximum(x, 0) + beta * np.maximum(-x, 0)
            formula = r * max(abs(alpha), abs(beta))
            assert_close(np.max(np.abs(e)), formula, f"grid sup at r = {r}, (A-w, B+w) = ({alpha}, {beta})", rel=1e-15)
            assert_close(gadget_sup_error(alpha, beta, r), formula, "gadget_sup_error", rel=1e-15)
            half = x[x >= 0]
            assert_close(np.max(np.abs(alpha * half)), r * abs(alpha), "sup over [0, r] without the N half", rel=1e-15)
            assert_close(gadget_sup_error(alpha, None, r), r * abs(alpha), "gadget_sup_error without the N half", rel=1e-15)


def check() -> None:
    check_symbolic()
    check_grid()
