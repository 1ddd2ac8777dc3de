"""exact.py and milp.py on the box [-1, 1]^d: the square's boundary enumerated (d = 2), the MILP on its
own box, against a dense grid oracle and a closed form; and the four measures nesting per domain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import admissible_targets

from stronglth import InvalidInputError, ReLUNetwork, construct
from stronglth.verification import exact_error, sup_error, verify
from stronglth.verification.exact import exact_error_circle, exact_error_milp

from ._oracle import SMALL_PAIRS, random_pair, sup_bounds
from .test_adversarial import box_closed_form, split_layer_pair


@given(**SMALL_PAIRS)
@settings(max_examples=12)
def test_enumeration_on_the_box_matches_the_grid_oracle(d, widths, n_out, seed, norm):
    """The grid covers the whole box (interior too): the enumeration of the boundary alone is at
    least its max (bias-free: the sup is on the boundary) and at most the grid's bound."""
    f, g = random_pair(d, widths, n_out, seed)
    lower, upper = sup_bounds(f, g, d, "box", norm=norm)
    result = exact_error(f, g, norm=norm, domain="box")
    assert result.status == "exact" and result.method == ("endpoints" if d == 1 else "circle")
    assert lower <= result.upper * (1 + 1e-12) + 1e-15 and result.upper <= upper
    assert np.abs(result.point).max() == pytest.approx(1.0, rel=1e-12)
    ball = exact_error(f, g, norm=norm)
    assert ball.upper <= result.upper * (1 + 1e-12) + 1e-15  # the ball lies in the box
    assert result.upper <= math.sqrt(d) * ball.upper * (1 + 1e-12) + 1e-15  # homogeneity: sup_box <= sqrt(d) sup_ball


@given(d=st.integers(1, 3), n_out=st.integers(1, 2), seed=st.integers(0, 2**32))
@settings(max_examples=8)
def test_every_exact_method_recovers_the_closed_form_on_the_box(d, n_out, seed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (n_out, d))
    d_plus, d_minus = 0.01 * rng.standard_normal((2, n_out, d))
    f, g = split_layer_pair(d_plus, d_minus, w)
    truth = box_closed_form(d_plus, d_minus)
    milp = exact_error_milp(f, g, norm="linf", rel_gap=1e-3, domain="box")
    assert milp.status == "within_gap"
    assert truth * (1 - 1e-9) - 1e-15 <= milp.upper <= truth * (1 + 1e-3) + 1e-12 and milp.lower <= truth * (1 + 1e-12)
    bab = exact_error(f, g, method="bab", norm="linf", rel_gap=1e-3, domain="box")
    assert bab.lower <= truth * (1 + 1e-12) + 1e-15 and truth <= bab.upper * (1 + 1e-9) + 1e-15
    if d <= 2:
        assert sup_error(f, g, method="exact", norm="linf", domain="box") == pytest.approx(truth, rel=1e-12, abs=1e-15)


@given(seed=st.integers(0, 2**32), widths=st.lists(st.integers(1, 4), min_size=1, max_size=2))
@settings(max_examples=6)
def test_milp_agrees_with_enumeration_on_the_square(seed, widths):
    f, g = random_pair(2, widths, 1, seed)
    circle = exact_error_circle(f, g, norm="linf", domain="box")
    milp = exact_error_milp(f, g, norm="linf", rel_gap=1e-3, domain="box")
    assert milp.status == "within_gap" and np.all(np.abs(milp.point) <= 1.0)
    assert milp.lower <= circle.upper * (1 + 1e-9) + 1e-12
    assert circle.upper <= milp.upper * (1 + 1e-6) + 1e-12 <= circle.upper * (1 + 1.01e-3) + 1e-11


@given(target=admissible_targets(max_d=3, max_width=3, max_depth=2), seed=st.integers(0, 2**32))
@settings(max_examples=8)
def test_the_four_measures_nest_on_the_box_with_the_sqrt_d_certified_bound(target, seed):
    """sampled <= adversarial <= exact <= certified on the box, certified = sqrt(d) E_l (homogeneity;
    the ball bound alone does not bound the box), and the ball's sup at most the box's."""
    ticket = construct(target, eps=0.2, delta=1e-9, seed=seed)
    box = verify(ticket, exact=True, samples=2000, domain="box", time_limit=30)
    ball = verify(ticket, exact=True, samples=2000, time_limit=30)
    assert box.domain == "box" and ball.domain == "ball" and box.nested and ball.nested
    assert box.certified == pytest.approx(math.sqrt(target.d) * ticket.certified_error, rel=1e-12)
    assert box.certified >= math.sqrt(target.d) * ball.certified and "sqrt" in box.certified_note
    assert ball.exact_lower <= box.exact_upper * (1 + 1e-9) + 1e-15
    assert box.exact_lower <= math.sqrt(target.d) * ball.exact_upper * (1 + 1e-9) + 1e-15
    assert np.abs(box.adversarial_point).max() == pytest.approx(1.0)
    assert box.to_dict()["domain"] == "box"


# -- networks with biases (issue 15): not homogeneous, the sup over the whole domain ----------------


@given(
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    n_out=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
)
@settings(max_examples=15)
def test_with_biases_the_breakpoints_give_the_sup_of_the_dense_grid_in_one_dimension(widths, n_out, seed, norm):
    f, g = random_pair(1, widths, n_out, seed, biases=True)
    lower, upper = sup_bounds(f, g, 1, "ball", norm=norm)
    for domain in ("ball", "box"):  # [-1, 1] is both
        result = exact_error(f, g, norm=norm, domain=domain)
        assert result.method == "breakpoints" and result.status == "exact"
        assert lower <= result.upper * (1 + 1e-12) + 1e-15 and result.upper <= upper
        assert abs(result.point[0]) <= 1.0


@given(seed=st.integers(0, 2**32), domain=st.sampled_from(["ball", "box"]), d=st.integers(1, 2))
@settings(max_examples=8)
def test_with_biases_the_milp_brackets_the_dense_grid(seed, domain, d):
    """Biases enter the encoding as constants: one output, so the MILP's bounds meet within the gap."""
    f, g = random_pair(d, [4, 3], 1, seed, biases=True)
    lower, upper = sup_bounds(f, g, d, domain, norm="linf")
    milp = exact_error_milp(f, g, norm="linf", rel_gap=1e-3, domain=domain, time_limit=30)
    assert milp.lower <= upper and lower <= milp.upper * (1 + 1e-6) + 1e-12
    if milp.status == "within_gap":
        assert milp.upper <= milp.lower * (1 + 1e-3) + 1e-12
    inside = np.linalg.norm(milp.point) <= 1 + 1e-12 if domain == "ball" else np.all(np.abs(milp.point) <= 1.0)
    assert inside


def test_with_biases_the_circle_refuses_and_auto_takes_a_method_that_does_not_assume_homogeneity():
    f, g = random_pair(2, [4], 1, 3, biases=True)
    with pytest.raises(InvalidInputError, match=r"'circle': network has biases: not positively homogeneous.*milp"):
        exact_error(f, g, method="circle")
    result = exact_error(f, g, time_limit=30)
    assert result.method in ("milp", "bab")
    lower, upper = sup_bounds(f, g, 2, "ball")
    assert result.lower <= upper and lower <= result.upper * (1 + 1e-9)
    assert exact_error(*random_pair(2, [4], 1, 3), time_limit=30).method == "circle"  # bias-free: still the circle


def test_with_biases_an_interior_maximum_is_the_exact_value():
    """e(x) = 1 - |x|, largest at 0: the endpoints (homogeneity) would say 0, the breakpoints say 1."""
    one = np.array([[1.0], [-1.0]])
    f = ReLUNetwork([one, np.array([[-1.0, -1.0]])], [None, np.array([1.0])])
    g = ReLUNetwork([one, np.zeros((1, 2))])
    result = exact_error(f, g)
    assert result.upper == 1.0 and result.point[0] == 0.0 and result.method == "breakpoints"
    assert verify(f, g, exact=True, samples=100).exact == 1.0
