"""Subset-sum tickets of targets with biases (docs/theory.md §15): constructions/subsetsum/biases.py.

Oracles: a dense evaluation of the ticket from G's dense matrices and bias vectors and the ticket's
masks; the bias-free construction (the weight blocks read the same values of G); brute force over
the bias block's subsets; the recursion's worst case at the tolerances.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import TargetNetwork, TicketNotFound, bounds, random_target
from stronglth.constructions import construct
from stronglth.constructions.subsetsum.biases import bias_tolerances, biased_network, solve_bias_block
from stronglth.constructions.subsetsum.layer import LayerOptions


def ball_points(d: int, n: int, seed: int) -> np.ndarray:
    """Points of the unit ball: uniform directions, radii with density ~ r^(d-1), plus the centre."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x *= rng.uniform(size=(n, 1)) ** (1.0 / d)
    return np.vstack([x, np.zeros((1, d))])


def dense_forward(ticket, x: np.ndarray) -> np.ndarray:
    """The ticket evaluated densely: ``S_t * M_t`` and the kept biases, from G's dense matrices."""
    g = ticket.network
    h = x.T
    for t in range(1, g.depth + 1):
        mask = np.zeros(g.shapes[t - 1])
        e = ticket.kept(t)
        mask[e.rows, e.cols] = 1.0
        h = (mask * g.dense(t)) @ h
        if g.biases[t - 1] is not None:
            keep = np.zeros(g.shapes[t - 1][0])
            keep[ticket.kept_biases(t).rows] = 1.0
            h = h + (keep * g.bias_vector(t))[:, None]
        if t < g.depth:
            h = np.maximum(h, 0.0)
    return ticket.output_scale * h.T


@pytest.mark.parametrize("widths", [(2,), (3, 1), (3, 2, 1)])
def test_a_ticket_of_a_biased_target_is_a_true_subnetwork_within_its_certified_bound(widths):
    target = random_target(2, list(widths), seed=3, biases=True)
    ticket = construct(target, method="subsetsum", eps=0.1, seed=1)
    ticket.audit()
    x = ball_points(2, 4000, seed=0)
    ours = ticket.forward(x)
    np.testing.assert_allclose(ours, dense_forward(ticket, x), rtol=1e-12, atol=1e-12)
    sampled = float(np.linalg.norm(ours - target.forward(x), axis=1).max())
    assert ticket.meta["failures"] == 0 and ticket.meta["bias_failures"] == 0
    assert sampled <= ticket.certified_error <= 0.1
    assert ticket.bias_nnz > 0  # the target's biases are built from G's biases, not dropped


def test_the_weight_blocks_are_those_of_the_bias_free_construction():
    target = random_target(2, [3, 1], seed=5, biases=True)
    bias_free = TargetNetwork(list(target.weights))
    eta = 0.02
    ticket = construct(target, method="subsetsum", eta=eta, seed=2, block_sizes=[12, 12], on_failure="best_effort")
    plain = construct(bias_free, method="subsetsum", eta=eta, seed=2, block_sizes=[12, 12], on_failure="best_effort")
    for t in (1, 2):  # layer 1's entries; layer 2's weight-block part of M_2 (columns below n_0 k)
        ours, theirs = ticket.kept(t), plain.kept(t)
        keep = ours.cols < 2 * 12 if t == 2 else np.ones(len(ours), dtype=bool)
        assert np.array_equal(ours.rows[keep], theirs.rows) and np.array_equal(ours.cols[keep], theirs.cols)
        assert np.array_equal(ours.vals[keep].view(np.int64), theirs.vals.view(np.int64))


@given(seed=st.integers(0, 2**32 - 1), kb=st.integers(1, 10), n_out=st.integers(1, 3), bias=st.floats(-1, 1))
def test_a_bias_event_is_the_best_subset_of_the_positive_biases(seed, kb, n_out, bias):
    """Least-error objective: the chosen subset's sum is the best over every subset of the bias
    block's units with c_h > 0 (brute force), and the reported error is that sum minus the bias."""
    target_bias = np.full(n_out, bias)
    network = biased_network(TargetNetwork([np.zeros((n_out, 1))], [target_bias]), [1], [kb], seed=seed)
    options = LayerOptions(0.01, False, None, 40, False, "least_error", None)
    block = solve_bias_block(network, 1, 1, kb, target_bias, options)
    c = network.bias_vector(1)[1:]
    v = network.dense(2)[:, 1:]
    positive = np.flatnonzero(c > 0)
    for o in range(n_out):
        products = v[o, positive] * c[positive]
        best = min(
            abs(sum(products[list(s)]) - bias)
            for r in range(len(positive) + 1)
            for s in itertools.combinations(range(len(positive)), r)
        )
        assert abs(block.errors[o]) <= best + 1e-12
        chosen = block.second[2][block.second[0] == o] * network.bias_vector(1)[block.second[1][block.second[0] == o]]
        assert math.isclose(float(np.sum(chosen)) - bias, float(block.errors[o]), abs_tol=1e-12)
    assert np.all(network.bias_values_at(1, block.units) > 0)  # only constant units c_h > 0 are kept


@given(
    eps=st.floats(1e-4, 1.0),
    dims=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_tolerances_give_a_certified_bound_within_eps_in_the_worst_case(eps, dims, seed):
    """Every weight error at eta_i and every bias error at eta_b_i, with ||W_i|| = 1 and the target's
    bias norms: the recursion's E_l (its worst case over matrices with those entry bounds) is <= eps."""
    target = random_target(dims[0], dims[1:], seed=seed, biases=True)
    etas, bias_etas = bias_tolerances(target, eps)
    d = target.dims
    constants = [eta * math.sqrt((2 if i == 1 else 1) * d[i] * d[i - 1]) for i, eta in enumerate(etas, start=1)]
    bias_errors = [eta * math.sqrt(d[i]) for i, eta in enumerate(bias_etas, start=1)]
    bias_norms = [float(np.linalg.norm(b)) for b in target.biases]
    worst = bounds.certified_error([1.0] * target.depth, constants, bias_norms=bias_norms, bias_errors=bias_errors)
    assert worst <= eps * (1 + 1e-12)


def test_a_failed_bias_event_is_named_and_best_effort_returns_the_ticket():
    target = TargetNetwork([np.array([[0.0]])], [np.array([0.3])])  # the weight is exact (empty subsets), the bias is not
    with pytest.raises(TicketNotFound, match="bias of output 0"):
        construct(target, method="subsetsum", eta=1e-9, seed=0, block_sizes=[3])
    ticket = construct(target, method="subsetsum", eta=1e-9, seed=0, block_sizes=[3], on_failure="best_effort")
    ticket.audit()
    assert ticket.meta["bias_failures"] >= 1
    x = np.linspace(-1, 1, 2001)[:, None]
    assert float(np.abs(ticket.forward(x) - target.forward(x)).max()) <= ticket.certified_error


def test_the_audit_recomputes_the_biased_bound_and_refuses_a_smaller_claim():
    from stronglth import Ticket, TicketAuditError
    from stronglth.gadget_form import biased_gadget, recomputed_certified_error

    target = random_target(2, [3, 2, 1], seed=7, biases=True)
    ticket = construct(target, method="subsetsum", eps=0.2, seed=4)
    assert recomputed_certified_error(ticket) == pytest.approx(ticket.certified_error, rel=1e-12)
    layers = biased_gadget(ticket)
    for (a, b, bias), w, target_bias in zip(layers, target.weights, target.biases, strict=True):
        assert a.shape == b.shape == w.shape and bias.shape == target_bias.shape
    x = ball_points(2, 2000, seed=3)  # the gadget form computes what the ticket computes
    y = x
    for i, (a, b, bias) in enumerate(biased_gadget(ticket), start=1):
        y = np.maximum(y, 0) @ a.T + np.maximum(-y, 0) @ b.T + bias
        if i < target.depth:
            y = np.maximum(y, 0)
    np.testing.assert_allclose(y, ticket.forward(x), rtol=1e-10, atol=1e-12)
    claims_less = Ticket(
        ticket.network, ticket.entries, biases=ticket.bias_entries, target=target,
        certified_error=ticket.certified_error / 2, meta=ticket.meta,
    )  # fmt: skip
    with pytest.raises(TicketAuditError, match="certified_error"):
        claims_less.audit()


@pytest.mark.parametrize("d, widths", [(1, (3, 1)), (2, (2, 1))])
def test_every_verification_method_handles_a_biased_ticket_and_the_measures_nest(d, widths):
    """Over the whole ball (biases break homogeneity): sampled <= adversarial <= exact <= certified <= eps,
    exact by breakpoints (d = 1) or the MILP (d = 2)."""
    from stronglth import verify

    target = random_target(d, list(widths), seed=11, biases=True)
    ticket = construct(target, method="subsetsum", eps=0.2, seed=5)
    report = verify(ticket, exact=True, samples=3000)
    assert report.exact_status == "exact" or report.exact_lower <= report.exact_upper
    assert report.sampled <= report.adversarial <= report.exact_upper * (1 + 1e-9) + 1e-12
    assert report.exact_upper <= report.certified * (1 + 1e-9) <= 0.2 * (1 + 1e-9)
    if d == 1:
        x = np.linspace(-1.0, 1.0, 20001)[:, None]  # a dense grid: never above the exact sup
        assert np.abs(ticket.forward(x) - target.forward(x)).max() <= report.exact_upper * (1 + 1e-12)
