"""The theorem (Malach et al. 2020; docs/theory.md §3-4): construct/network.py and construct()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import admissible_targets, unit_sphere

from stronglth import InvalidInputError, TargetNetwork, Ticket, TicketNotFound, bounds, random_target
from stronglth.constructions import construct
from stronglth.testing import assert_sup_error_at_most, assert_true_subnetwork


@given(
    target=admissible_targets(max_d=3, max_width=3),
    eps=st.floats(0.1, 1.0),
    seed=st.integers(0, 2**32),
    negative_half_everywhere=st.booleans(),
)
def test_theorem_width_ticket_properties(target, eps, seed, negative_half_everywhere):
    """(a) a true subnetwork, (b) nnz <= 4 sum n_i n_(i-1), (c) sampled <= certified <= eps.

    The theorem holds with probability 1 - delta over G; delta = 1e-9 makes a failing seed too
    rare to meet (the block sizes grow only like log(1/delta)); failures have their own test.
    """
    ticket = construct(
        target,
        eps=eps,
        delta=1e-9,
        seed=seed,
        block_sizes="theorem",
        rule="best",
        negative_half_everywhere=negative_half_everywhere,
    )
    assert_true_subnetwork(ticket)
    assert ticket.nnz <= bounds.nnz_bound(target.dims)
    assert_sup_error_at_most(ticket, target, ticket.certified_error, method="adversarial", n=2_000, seed=seed)
    assert ticket.certified_error <= eps
    assert ticket.meta["block_sizes"] == list(
        bounds.theorem_block_sizes(target.dims, eps, 1e-9, rule="best", negative_half_everywhere=negative_half_everywhere)
    )


@given(seed=st.integers(0, 2**32), w=st.sampled_from([-1.0, -0.6, 0.3, 1.0]))
def test_matching_rule_at_theorem_width(seed, w):
    target = TargetNetwork([np.array([[w]])])
    ticket = construct(target, eps=0.8, delta=1e-9, seed=seed, rule="matching")
    ticket.audit()
    x = np.array([[1.0], [-1.0]])
    assert np.abs(ticket.forward(x) - target.forward(x)).max() <= ticket.certified_error * (1 + 1e-12)
    assert ticket.certified_error <= 0.8


def test_failure_frequency_is_consistent_with_delta():
    """(f) Block sizes for delta = 0.2 fail in at most ~20% of seeds: a one-sided binomial test.

    The target is one weight w = 1 with eps = 0.5; there p(w, eta) is exact and the union bound
    over the two sides is nearly tight, so the true failure rate is close to 0.2 (about 0.19) and a
    block size even 20% too small would push it to about 0.3, which this test detects.
    """
    target = TargetNetwork([np.array([[1.0]])])
    eps, delta, trials = 0.5, 0.2, 300
    failures = 0
    for seed in range(trials):
        try:
            construct(target, eps=eps, delta=delta, seed=seed, block_sizes="theorem", rule="best")
        except TicketNotFound:
            failures += 1
    assert stats.binomtest(failures, trials, delta, alternative="greater").pvalue > 1e-3
    # and the rate is not absurdly low either: the bound is nearly tight for this target
    eta = bounds.per_weight_tolerance(target.dims, eps)[0]
    k = bounds.theorem_block_sizes(target.dims, eps, delta)[0]
    miss = (1 - bounds.hit_probability(1.0, eta)) ** k
    predicted = 1 - (1 - miss) ** 2
    assert stats.binomtest(failures, trials, predicted).pvalue > 1e-3


def test_ticket_not_found_names_the_event_and_best_effort_returns_a_ticket():
    target = random_target(2, [3, 1], seed=0)
    with pytest.raises(
        TicketNotFound, match=r"layer \d, output \d, input \d, side [PN].*best error .* the bounds suggest block size \d+"
    ):
        construct(target, eps=0.01, seed=0, block_sizes=[3, 3])
    ticket = construct(target, eps=0.01, seed=0, block_sizes=[3, 3], on_failure="best_effort")
    assert ticket.meta["failures"] > 0
    ticket.audit()
    x = unit_sphere(2, 500, 0)
    assert np.abs(ticket.forward(x) - target.forward(x)).max() <= ticket.certified_error * (1 + 1e-9)


def test_jobs_do_not_change_the_ticket():
    target = random_target(3, [4, 2], seed=1)
    one = construct(target, eps=0.2, seed=5, block_sizes="instance")
    two = construct(target, eps=0.2, seed=5, block_sizes="instance", jobs=2)
    for a, b in zip(one.entries, two.entries, strict=False):
        assert np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols) and np.array_equal(a.vals, b.vals)
    assert one.certified_error == two.certified_error


def test_instance_block_sizes_are_not_larger_than_theorem():
    target = random_target(4, [6, 3], seed=2)
    ticket = construct(target, eps=0.2, seed=0, block_sizes="instance")
    theorem = bounds.theorem_block_sizes(target.dims, 0.2, 0.05)
    assert all(i <= t for i, t in zip(ticket.meta["block_sizes"], theorem, strict=False))
    assert ticket.certified_error <= 0.2


def test_ticket_file_round_trip(tmp_path):
    target = random_target(2, [3, 1], seed=4)
    ticket = construct(target, eps=0.3, seed=2)
    loaded = Ticket.load(ticket.save(tmp_path / "t.npz"))
    assert loaded.certified_error == ticket.certified_error
    assert loaded.meta["method"] == "malach" and loaded.meta["rule"] == "best"
    x = unit_sphere(2, 100, 1)
    assert np.array_equal(loaded.forward(x), ticket.forward(x))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(eps=0), "eps"),
        (dict(eps=float("nan")), "eps"),
        (dict(delta=1.5), "delta"),
        (dict(seed=-1), "seed"),
        (dict(rule="closest"), "rule"),
        (dict(block_sizes="huge"), "block_sizes"),
        (dict(block_sizes=[10]), "block_sizes"),
        (dict(block_sizes=[10, 0]), "block size of layer 2"),
        (dict(block_sizes="instance", rule="matching"), "instance"),
        (dict(on_failure="ignore"), "on_failure"),
        (dict(jobs=0), "jobs"),
        (dict(method="magic"), "method"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"eps": 0.3, "seed": 0, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        construct(random_target(2, [3, 1], seed=0), **kwargs)


def test_inadmissible_target_is_refused():
    from stronglth import AssumptionError

    with pytest.raises(AssumptionError, match="layer 1"):
        construct(TargetNetwork([np.array([[2.0]])]), eps=0.3, seed=0)
