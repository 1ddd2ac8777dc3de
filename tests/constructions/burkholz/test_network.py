"""The depth l + 1 construction end to end (Burkholz 2022; docs/theory.md §14): admissible targets of
depth 1-3, measured error <= certified <= eps, true subnetworks, G within the a-priori width."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import dense_masked_forward, unit_sphere

from stronglth import InvalidInputError, Ticket, TicketNotFound, TooLargeError, bounds, random_target
from stronglth.constructions import METHODS, PLANNERS, construct, plan
from stronglth.constructions.burkholz.certified import recomputed_certified_error
from stronglth.verification import adversarial_error, exact_error, sampled_error

CASES = [(2, (3,), 0.2, 0), (3, (4, 2), 0.3, 1), (3, (3, 2, 1), 0.4, 2), (4, (8, 1), 0.1, 3)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1]))}-eps{c[2]}")
def built(request):
    d, widths, eps, seed = request.param
    target = random_target(d, widths, seed=seed)
    return target, eps, construct(target, method="burkholz", eps=eps, seed=seed)


def test_depth_is_l_plus_one_and_widths_are_the_layout(built):
    target, _, ticket = built
    ks = ticket.meta["block_sizes"]
    assert ticket.network.depth == target.depth + 1
    assert ticket.network.dims == bounds.burkholz_dims(target.dims, ks)
    assert ticket.meta["copies"] == ks[1:] + [1] and ticket.meta["depth"] == target.depth + 1


def test_measured_error_is_below_certified_below_eps(built):
    target, eps, ticket = built
    sampled, _ = sampled_error(ticket, target, n=3000, seed=0)
    adversarial, _ = adversarial_error(ticket, target, n=2000, starts=8, steps=100, seed=0)
    assert sampled <= ticket.certified_error and adversarial <= ticket.certified_error * (1 + 1e-9)
    assert ticket.certified_error <= eps
    x = unit_sphere(target.d, 500, 1)  # the ticket's own forward against the dense masked G
    assert np.allclose(ticket.forward(x), dense_masked_forward(ticket, x), atol=1e-12)


def test_ticket_audits_and_its_bound_is_recomputed_from_the_kept_weights(built, tmp_path):
    target, _, ticket = built
    ticket.audit()
    assert recomputed_certified_error(ticket) <= ticket.certified_error
    loaded = Ticket.load(ticket.save(tmp_path / "t.npz"))  # load audits bit for bit
    assert loaded.meta["method"] == "burkholz" and loaded.certified_error == ticket.certified_error


def test_g_stays_within_the_a_priori_width(built):
    target, eps, ticket = built
    theorem = bounds.burkholz_theorem_block_sizes(target.dims, eps, 0.05)
    found = ticket.network.dims
    paper = bounds.burkholz_dims(target.dims, theorem)
    assert all(a <= b for a, b in zip(found, paper, strict=True))
    assert ticket.network.parameter_count <= bounds.burkholz_parameter_count(target.dims, theorem)


def test_exact_verification_on_a_small_target():
    target = random_target(2, (3, 2), seed=5)
    ticket = construct(target, method="burkholz", eps=0.3, seed=1)
    circle = exact_error(ticket, target, method="circle")
    assert circle.status == "exact" and circle.upper <= ticket.certified_error <= 0.3
    small = random_target(2, (2, 1), seed=5)
    tiny = construct(small, method="burkholz", eps=0.4, seed=1)
    milp = exact_error(tiny, small, method="milp", time_limit=30)
    assert milp.lower <= tiny.certified_error  # a true lower bound of the sup is below the certified upper bound


def test_theorem_block_sizes_build_a_ticket():
    target = random_target(2, (3, 2), seed=5)
    ticket = construct(target, method="burkholz", eps=0.3, seed=1, block_sizes="theorem")
    assert ticket.meta["block_sizes"] == list(bounds.burkholz_theorem_block_sizes(target.dims, 0.3, 0.05))
    assert ticket.meta["block_sizes_rule"] == "theorem" and ticket.meta["failures"] == 0
    assert ticket.certified_error <= 0.3
    ticket.audit()


def test_too_small_blocks_name_the_failed_event_and_best_effort_returns_a_ticket():
    target = random_target(3, (4, 2), seed=1)
    with pytest.raises(TicketNotFound, match=r"layer \d, output \d.*input \d"):
        construct(target, method="burkholz", eps=0.01, seed=0, block_sizes=[2, 2])
    ticket = construct(target, method="burkholz", eps=0.01, seed=0, block_sizes=[2, 2], on_failure="best_effort")
    assert ticket.meta["failures"] > 0
    ticket.audit()
    x = unit_sphere(3, 2000, 2)
    assert np.linalg.norm(ticket.forward(x) - target.forward(x), axis=1).max() <= ticket.certified_error


def test_registry_plan_and_refusals():
    assert "burkholz" in METHODS and "burkholz" in PLANNERS
    target = random_target(3, (4, 2), seed=1)
    p = plan(target, method="burkholz", eps=0.2, seed=0, block_sizes=[5, 3])
    assert p.widths == bounds.burkholz_dims(target.dims, [5, 3]) and p.final
    assert p.parameter_count == bounds.burkholz_parameter_count(target.dims, [5, 3])
    with pytest.raises(TooLargeError):
        construct(target, method="burkholz", eps=0.2, seed=0, max_values=10)
    with pytest.raises(InvalidInputError, match="block_sizes"):
        construct(target, method="burkholz", eps=0.2, seed=0, block_sizes=[3])
    with pytest.raises(InvalidInputError, match="biases"):
        construct(random_target(3, (4, 2), seed=1, biases=True), method="burkholz", eps=0.2, seed=0)
    with pytest.raises(InvalidInputError, match="objective"):
        construct(target, method="burkholz", eps=0.2, seed=0, objective="densest")


def test_same_inputs_same_ticket():
    target = random_target(3, (4, 2), seed=1)
    a = construct(target, method="burkholz", eps=0.3, seed=4)
    b = construct(target, method="burkholz", eps=0.3, seed=4)
    assert a.meta == b.meta and all(np.array_equal(x.vals, y.vals) for x, y in zip(a.entries, b.entries, strict=True))


def test_an_eps_below_float64_resolution_is_refused_with_a_package_error():
    with pytest.raises(InvalidInputError, match="below float64's resolution"):
        construct(random_target(2, [3, 2], seed=1), method="burkholz", eps=1e-300, seed=1)
