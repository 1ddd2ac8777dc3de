"""The weight lemma (docs/theory.md §2): construct/gadget.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stronglth import InvalidInputError
from stronglth.constructions.malach.gadget import gadget_output, gadget_sup_error, weight_gadget
from stronglth.testing import gadget_blocks

uniform = st.floats(-1.0, 1.0, allow_nan=False)
blocks = gadget_blocks(st.integers(1, 40))


@given(block=blocks, w=uniform, rule=st.sampled_from(["best", "matching"]), eta=st.floats(0.01, 1.0))
def test_error_formula_equals_measured_sup_error(block, w, rule, eta):
    u, v = map(np.array, block)
    choice = weight_gadget(u, v, w, rule=rule, eta=eta)
    units = [h for h in (choice.positive, choice.negative) if h is not None]
    # measured: g(x) - w x at x = +1 and -1, evaluated directly from the units (homogeneity: the
    # sup over [-1, 1] of a positively homogeneous function of one variable is attained there)
    e = gadget_output(u, v, units, np.array([1.0, -1.0])) - w * np.array([1.0, -1.0])
    assert choice.sup_error == pytest.approx(max(abs(e[0]), abs(e[1])), rel=1e-12, abs=1e-15)
    # and the exact errors: e(1) = g(1) - w = A - w, e(-1) = g(-1) + w = B + w
    assert e[0] == pytest.approx(choice.error_positive, abs=1e-15)
    assert e[1] == pytest.approx(choice.error_negative, abs=1e-15)


@given(block=blocks, w=uniform)
def test_best_rule_is_optimal_over_single_units(block, w):
    """Brute force: no single unit (or none) on a side has a smaller error than the chosen one."""
    u, v = map(np.array, block)
    choice = weight_gadget(u, v, w, rule="best")
    for side, error in ((+1, choice.error_positive), (-1, choice.error_negative)):
        options = [abs(w)] + [abs(v[h] * u[h] - w) for h in range(u.size) if np.sign(u[h]) == side]
        assert abs(error) == min(options)


@given(block=blocks, w=uniform, eta=st.floats(0.01, 1.0))
def test_matching_rule_units_are_in_the_event_and_within_eta(block, w, eta):
    u, v = map(np.array, block)
    choice = weight_gadget(u, v, w, rule="matching", eta=eta)
    for side, h, error, accepted in (
        (+1, choice.positive, choice.error_positive, choice.accepted_positive),
        (-1, choice.negative, choice.error_negative, choice.accepted_negative),
    ):
        assert accepted == (h is not None)
        if h is not None:
            assert np.sign(u[h]) == side
            assert abs(abs(u[h]) - abs(w)) <= eta / 2 and abs(v[h]) >= 1 - eta / 2
            assert abs(error) <= eta * (1 + 1e-12)


@given(block=blocks, w=uniform, eta=st.floats(0.01, 1.0))
def test_matching_error_is_never_better_than_best(block, w, eta):
    u, v = map(np.array, block)
    best = weight_gadget(u, v, w, rule="best")
    matching = weight_gadget(u, v, w, rule="matching", eta=eta)
    if matching.positive is not None:
        assert abs(best.error_positive) <= abs(matching.error_positive)


def test_without_negative_half():
    u, v = np.array([0.5, -0.5]), np.array([0.8, 0.8])
    choice = weight_gadget(u, v, 0.4, negative_half=False)
    assert choice.negative is None and choice.error_negative is None
    assert choice.positive == 0 and choice.error_positive == pytest.approx(0.0)
    assert gadget_sup_error(choice.error_positive, None) == pytest.approx(0.0)


def test_keeps_no_unit_when_that_is_better():
    choice = weight_gadget(np.array([0.9, -0.9]), np.array([0.9, 0.9]), 0.0)
    assert choice.positive is None and choice.negative is None and choice.sup_error == 0.0


def test_ties_go_to_the_lowest_index():
    choice = weight_gadget(np.array([0.5, 0.5, 0.5]), np.array([0.2, 0.6, 0.6]), 0.3)
    assert choice.positive == 1


@given(block=blocks)
def test_bad_arguments(block):
    u, v = map(np.array, block)
    assume(u.size > 1)
    with pytest.raises(InvalidInputError):
        weight_gadget(u, v[:-1], 0.1)
    with pytest.raises(InvalidInputError, match="eta"):
        weight_gadget(u, v, 0.1, rule="matching")
    with pytest.raises(InvalidInputError, match="rule"):
        weight_gadget(u, v, 0.1, rule="closest")
