"""certified.py: the a-posteriori bound over the ball, sqrt(d) times it over the box (homogeneity,
bias-free only), and a clear refusal for networks with biases whose construction supplies none."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import admissible_targets

from stronglth import InvalidInputError, ReLUNetwork, Ticket, construct, random_target
from stronglth.random_network import RandomNetwork
from stronglth.verification import certified_bound, exact_error, sup_error, verify
from stronglth.verification.certified import certified_or_reason


@given(target=admissible_targets(max_d=4, max_width=3, max_depth=2), seed=st.integers(0, 2**32))
@settings(max_examples=8)
def test_over_the_box_the_bound_is_sqrt_d_times_the_ball_bound_rounded_up(target, seed):
    ticket = construct(target, eps=0.3, delta=1e-9, seed=seed)
    ball, box = certified_bound(ticket), certified_bound(ticket, domain="box")
    # the same recursion from the kept weights: equal to the construction's up to rounding (§3.3),
    # not bit for bit (the construction's errors and the recomputed A - W round differently)
    assert ball == pytest.approx(ticket.certified_error, rel=1e-12)
    assert box >= math.sqrt(target.d) * ball and box == pytest.approx(math.sqrt(target.d) * ball, rel=1e-15)
    assert sup_error(ticket, target, method="certified", domain="box") == box
    value, note = certified_or_reason(ticket, "box")
    assert value == box and "does not bound the box" in note and "homogeneity" in note


def test_the_box_bound_is_above_the_exact_sup_over_the_box():
    target = random_target(3, [4, 1], seed=5)
    ticket = construct(target, eps=0.2, seed=5)
    exact = exact_error(ticket, target, method="bab", domain="box", time_limit=30)
    assert exact.lower <= exact.upper <= certified_bound(ticket, domain="box")


def biased_ticket():
    """A construction ticket, kept again inside a G that has a bias line on its first matrix (same
    weights: bias lines are their own streams), keeping one bias entry of it."""
    target = random_target(2, [3, 1], seed=1)
    ticket = construct(target, eps=0.3, seed=1)
    net = ticket.network
    biased = RandomNetwork(net.shapes, seed=net.seed, biases=["uniform"] + [None] * (net.depth - 1))
    positions = [(ticket.kept(t).rows, ticket.kept(t).cols) for t in range(1, net.depth + 1)]
    bias_positions = [np.array([int(ticket.kept(1).rows[0])])] + [None] * (net.depth - 1)
    return Ticket.from_positions(biased, positions, bias_positions=bias_positions, target=target), target


def test_a_ticket_with_biases_gets_no_certified_bound_and_the_reason():
    ticket, target = biased_ticket()
    assert ticket.compact().has_biases
    value, note = certified_or_reason(ticket)
    assert value is None and "network has biases: not positively homogeneous" in note and "bab" in note
    with pytest.raises(InvalidInputError, match=r"method='certified'.*network has biases"):
        sup_error(ticket, target, method="certified")
    report = verify(ticket, samples=500)
    assert report.certified is None and "network has biases" in report.certified_note
    assert report.nested


def test_the_output_scale_is_measured_as_part_of_the_network():
    """c W against c times W: every method sees the scale (no error, up to the folding's rounding)."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 2)), rng.standard_normal((1, 4))]
    scaled = ReLUNetwork(weights, output_scale=3.0)
    folded = ReLUNetwork([weights[0], 3.0 * weights[1]])
    for method in ("sampled", "adversarial", "exact", "bounds"):
        assert sup_error(scaled, folded, method=method) <= 1e-14
    assert sup_error(scaled, ReLUNetwork(weights), method="exact") > 0.1
