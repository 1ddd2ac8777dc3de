"""Small helpers shared by the checks: the ReLU in sympy, identities, signs, numeric comparisons."""

from __future__ import annotations

import numpy as np
import sympy as sp


def relu(expr):
    """``s(t) = max(t, 0)`` as a sympy expression (evaluates when the sign of ``t`` is known)."""
    return sp.Max(expr, 0)


def assert_identity(lhs, rhs, what: str) -> None:
    """``lhs == rhs`` as expressions: the difference expands (or, failing that, simplifies) to 0."""
    difference = sp.expand(lhs - rhs)
    if difference != 0:
        difference = sp.simplify(difference)
    assert difference == 0, f"{what}: {lhs} != {rhs} (difference {difference})"


def assert_nonnegative(expr, what: str) -> None:
    """sympy's assumptions must decide ``expr >= 0`` (after expansion) from the symbols' signs."""
    expanded = sp.expand(expr)
    assert expanded.is_nonnegative is True or sp.factor(expanded).is_nonnegative is True, (
        f"{what}: cannot show {expr} >= 0 (expanded: {expanded})"
    )


def assert_close(actual, expected, what: str, *, rel: float = 1e-12, abs_: float = 0.0) -> None:
    """Elementwise ``|actual - expected| <= rel |expected| + abs_`` with the worst point in the message."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    gap = np.abs(actual - expected)
    allowed = rel * np.abs(expected) + abs_
    bad = np.flatnonzero(~(gap <= allowed))
    if bad.size:
        worst = bad[np.argmax(gap.flat[bad])]
        raise AssertionError(
            f"{what}: {bad.size} of {gap.size} points differ; worst at flat index {worst}: "
            f"got {actual.flat[worst]!r}, expected {expected.flat[worst]!r}"
        )
