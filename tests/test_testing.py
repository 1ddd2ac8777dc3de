"""stronglth.testing: strategies generate only valid objects; assertions fail usefully on broken input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork, ReLUNetwork, TargetNetwork, Ticket, random_target
from stronglth.testing import (
    admissible_targets,
    assert_homogeneous,
    assert_sup_error_at_most,
    assert_true_subnetwork,
    gadget_blocks,
    random_networks,
    tickets,
    unit_ball_points,
    unit_sphere_points,
)


@given(admissible_targets())
@settings(max_examples=100)
def test_admissible_targets_pass_the_package_check(target):
    target.check(tolerance=1e-12)


@given(admissible_targets(d=3, widths=[2, 1], families=["rank1"]))
def test_admissible_targets_respect_fixed_arguments(target):
    assert target.dims == (3, 2, 1)
    assert all(np.linalg.matrix_rank(w) == 1 for w in target.weights)


def test_admissible_targets_refuse_unknown_families():
    with pytest.raises(ValueError, match="unknown target families"):
        admissible_targets(families=["cauchy"])


@given(st.integers(1, 5).flatmap(lambda d: st.tuples(st.just(d), unit_sphere_points(d), unit_ball_points(d))))
@settings(max_examples=100)
def test_sphere_and_ball_points(args):
    d, x, y = args
    assert x.shape == (d,) and y.shape == (d,)
    assert abs(np.linalg.norm(x) - 1.0) < 1e-12
    assert np.linalg.norm(y) <= 1.0 + 1e-12


@given(random_networks())
@settings(max_examples=50)
def test_random_networks_are_valid(network):
    rebuilt = RandomNetwork(network.shapes, seed=network.seed)  # the package's own validation
    assert rebuilt == network and network.depth % 2 == 0


@given(tickets())
@settings(max_examples=10)
def test_constructed_tickets_are_valid(ticket):
    assert isinstance(ticket, Ticket) and ticket.target is not None
    assert_true_subnetwork(ticket)
    assert ticket.certified_error <= ticket.meta["eps"]


@given(gadget_blocks(st.integers(1, 10)))
def test_gadget_blocks(block):
    u, v = block
    assert u.shape == v.shape and 1 <= u.size <= 10
    assert np.all(np.abs(u) <= 1) and np.all(np.abs(v) <= 1)


# -- assertions fail, with useful messages, on broken input --------------------------------------


def test_assert_true_subnetwork_catches_a_changed_value():
    network = RandomNetwork([(6, 2), (1, 6)], seed=3)
    ticket = Ticket.from_positions(network, [([0, 4], [0, 1]), ([0], [4])])
    assert_true_subnetwork(ticket)
    first = ticket.kept(1)
    broken = Ticket(network, [(first.rows, first.cols, first.vals * 1.5), ticket.kept(2)])
    with pytest.raises(AssertionError, match=r"not a true subnetwork.*M_1\["):
        assert_true_subnetwork(broken)
    with pytest.raises(AssertionError, match="expected a stronglth.Ticket"):
        assert_true_subnetwork(network)


def test_assert_sup_error_reports_the_point_and_both_outputs():
    target = TargetNetwork([np.array([[0.5]])])
    net = TargetNetwork([np.array([[0.8]])])  # error 0.3 at x = +-1
    assert_sup_error_at_most(net, target, 0.3, method="exact")
    for method in ("sampled", "adversarial"):
        with pytest.raises(
            AssertionError, match=r"sup l2 error 0\.3 exceeds the bound 0\.25 .* at x = \[-?1\.\].*net\(x\) = .*target\(x\) = "
        ):
            assert_sup_error_at_most(net, target, 0.25, method=method)
    with pytest.raises(
        AssertionError, match=r"cannot show sup l2 error <= 0\.25: 0\.3 <= sup <= 0\.3;.* at x = \[-?1\.\].*net\(x\) = .*target"
    ):
        assert_sup_error_at_most(net, target, 0.25, method="exact")


def test_assert_homogeneous_catches_a_bias():
    assert_homogeneous(random_target(3, [4, 2], seed=0))

    class Biased:
        def forward(self, x):
            return x.sum(axis=1, keepdims=True) + 0.1

    with pytest.raises(AssertionError, match="not positively homogeneous"):
        assert_homogeneous(Biased(), points=np.eye(2))
    with pytest.raises(AssertionError, match="not positively homogeneous"):
        assert_homogeneous(lambda x: np.tanh(x), points=np.eye(2))
    with pytest.raises(ValueError, match="points="):
        assert_homogeneous(lambda x: x)
    assert_homogeneous(ReLUNetwork([np.eye(2)]))
