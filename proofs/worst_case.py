"""The worst admissible weight: p_i = min(p(0, eta), p(w_max, eta)) - docs/theory.md §4 (derived here).

Paper: Malach et al., ICML 2020 (a bound uniform over the admissible weights ``|w| <= 1/sqrt(n)``,
the max-norm assumption); the unimodality argument is ours.

Statement. For ``eta > 0`` the map ``a = |w| -> p(a, eta)`` (:mod:`proofs.hit_probability`) is
non-decreasing on ``[0, eta]`` and non-increasing on ``[eta, inf)``; so over ``[0, w_max]`` it is
smallest at an endpoint: ``p_i = min(p(0, eta), p(w_max, eta))``. The same holds for the matching
probability, proportional to ``len([a - eta/2, a + eta/2] ∩ [0, 1])``, a concave trapezoid in ``a``.

Derivation. In the four regimes of the clamps, ``4 p`` is ``Phi(a + eta)`` (``a <= eta``,
``a + eta <= 1``), ``1`` (``a <= eta``, ``a + eta >= 1``), ``Phi(a + eta) - Phi(a - eta)``
(``a >= eta``, ``a + eta <= 1``) or ``1 - Phi(a - eta)`` (``a >= eta``, ``a + eta >= 1``). With
``Phi' = -ln`` the derivatives are ``-ln(a + eta) >= 0``, ``0``, ``ln(a - eta) - ln(a + eta) < 0``
and ``ln(a - eta) <= 0``.

Check. Symbolic: each derivative, its sign from positive symbols (``a + eta = exp(-y)``, ``a = eta
+ b``, ``ln`` increasing). Numeric: ``worst_case_probability`` against the minimum over a dense grid
of ``[0, w_max]`` including both endpoints, for both rules.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="worst admissible weight",
    statement="|w| -> p(w, eta) rises on [0, eta], falls after: min over |w| <= w_max is min(p(0), p(w_max))",
    implemented_by="stronglth.bounds.worst_case_probability",
    property_test="tests/test_bounds.py::test_worst_case_is_grid_minimum",
    reference="docs/theory.md §4",
)


def phi(x):
    return x - x * sp.log(x)


def check_symbolic() -> None:
    a, eta, b, y = sp.symbols("a eta b y", positive=True)
    # a <= eta, a + eta <= 1: d/da Phi(a + eta) = -ln(a + eta) >= 0; write a + eta = exp(-y), y >= 0
    rising = sp.diff(phi(a + eta), a)
    assert_identity(rising, -sp.log(a + eta), "d/da Phi(a + eta)")
    assert (-sp.log(sp.exp(-y))).is_nonnegative is True, "-ln(a + eta) >= 0 for a + eta <= 1"
    # a >= eta, a + eta <= 1 (a = eta + b): the derivative ln(a - eta) - ln(a + eta) < 0
    falling = sp.diff(phi(a + eta) - phi(a - eta), a).subs(a, eta + b)
    assert_identity(falling, sp.log(b) - sp.log(b + 2 * eta), "d/da [Phi(a + eta) - Phi(a - eta)]")
    assert (b + 2 * eta - b).is_positive is True, "a - eta < a + eta, and ln is increasing"
    # a >= eta, a + eta >= 1: d/da [1 - Phi(a - eta)] = ln(a - eta) <= 0 while a - eta <= 1
    tail = sp.diff(1 - phi(a - eta), a)
    assert_identity(tail, sp.log(a - eta), "d/da [1 - Phi(a - eta)]")
    assert (sp.log(sp.exp(-y))).is_nonpositive is True, "ln(a - eta) <= 0 for a - eta <= 1"


def check_grid() -> None:
    from stronglth.bounds import hit_probability, matching_probability, worst_case_probability

    for rule, p in (("best", hit_probability), ("matching", matching_probability)):
        for eta in (1e-4, 0.003, 0.05, 0.3, 0.7, 1.0, 1.7):
            for w_max in (0.0, 0.01, eta / 2, eta, 0.35, 1 / np.sqrt(2), 1 - eta / 2, 1.0):
                if not 0 <= w_max <= 1:
                    continue
                grid = np.linspace(0.0, w_max, 4001)  # both endpoints
                worst = worst_case_probability(eta, w_max, rule)
                label = f"{rule}, eta {eta}, w_max {w_max}"
                assert worst <= np.min(p(grid, eta)) * (1 + 1e-12), f"p_i above the grid minimum, {label}"
                assert_close(worst, np.min(p(grid, eta)), f"p_i = grid minimum, {label}", rel=1e-12)
                assert_close(worst, min(p(0.0, eta), p(w_max, eta)), f"p_i = min(p(0), p(w_max)), {label}", rel=0.0)
                values = p(np.linspace(0.0, 1.0, 2001), eta)
                peak = int(np.argmax(values))
                assert np.all(np.diff(values[: peak + 1]) >= -1e-15) and np.all(np.diff(values[peak:]) <= 1e-15), (
                    f"{rule}: p(., eta = {eta}) is not unimodal on [0, 1]"
                )


def check() -> None:
    check_symbolic()
    check_grid()
