"""The depth l + 1 construction end to end (Burkholz 2022; docs/theory.md §14): admissible targets of
depth 1-3, ReLU and leaky ReLU (§14.6), measured error <= certified <= eps, true subnetworks, G within
the a-priori width; the other methods refuse leaky targets."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import dense_masked_forward, unit_sphere

from stronglth import (
    InvalidInputError,
    RandomNetwork,
    TargetNetwork,
    Ticket,
    TicketNotFound,
    TooLargeError,
    bounds,
    random_target,
)
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


# -- leaky ReLU targets (docs/theory.md §14.6) ------------------------------------------------------

LEAKY_CASES = [(2, (3,), 0.2, 0), (3, (4, 2), 0.3, 1), (3, (3, 2, 1), 0.4, 2)]


def leaky_dense(weights, x, a):
    """Naive leaky evaluation: ``W_l s_a(... s_a(W_1 x))`` with ``s_a(t) = max(t, a t)`` written out."""
    h = np.asarray(x, dtype=np.float64)
    for i, w in enumerate(weights):
        h = h @ w.T
        if i < len(weights) - 1:
            h = np.where(h >= 0, h, a * h)
    return h


@pytest.fixture(
    scope="module", params=[(c, a) for c in LEAKY_CASES for a in (0.01, 0.1, 0.5)], ids=lambda p: f"depth{len(p[0][1])}-a{p[1]}"
)
def leaky_built(request):
    (d, widths, eps, seed), a = request.param
    target = random_target(d, widths, seed=seed, negative_slope=a)
    return target, eps, a, construct(target, method="burkholz", eps=eps, seed=seed)


def test_leaky_tickets_are_true_subnetworks_of_a_leaky_g(leaky_built, tmp_path):
    target, _, a, ticket = leaky_built
    assert ticket.network.negative_slope == a and ticket.network.depth == target.depth + 1
    assert ticket.network.dims == bounds.burkholz_dims(target.dims, ticket.meta["block_sizes"])
    for t in range(1, ticket.network.depth + 1):  # every kept value is G's, bit for bit
        kept = ticket.kept(t)
        assert np.array_equal(kept.vals, ticket.network.dense(t)[kept.rows, kept.cols])
    positions = [(ticket.kept(t).rows, ticket.kept(t).cols) for t in range(1, ticket.network.depth + 1)]
    again = Ticket.from_positions(ticket.network, positions, target=target)
    assert all(np.array_equal(x.vals, y.vals) for x, y in zip(again.entries, ticket.entries, strict=True))
    ticket.audit()
    assert recomputed_certified_error(ticket) <= ticket.certified_error
    loaded = Ticket.load(ticket.save(tmp_path / "leaky.npz"))  # load audits, and recomputes the bound
    assert loaded.network == ticket.network and loaded.target.negative_slope == a
    assert loaded.certified_error == ticket.certified_error


def test_leaky_sampled_error_is_below_certified_below_eps(leaky_built):
    target, eps, a, ticket = leaky_built
    x = unit_sphere(target.d, 4000, 3)  # the sup over the ball is on the sphere (s_a is positively homogeneous)
    dense_ticket = leaky_dense([ticket.network.dense(t) * _mask(ticket, t) for t in range(1, ticket.network.depth + 1)], x, a)
    assert np.allclose(ticket.forward(x), dense_ticket, atol=1e-12)
    assert np.allclose(target.forward(x), leaky_dense(target.weights, x, a), atol=1e-12)
    sampled = np.linalg.norm(dense_ticket - leaky_dense(target.weights, x, a), axis=1).max()
    assert sampled <= ticket.certified_error <= eps
    relu_twin = Ticket.from_positions(
        RandomNetwork(ticket.network.shapes, seed=ticket.network.seed),
        [(ticket.kept(t).rows, ticket.kept(t).cols) for t in range(1, ticket.network.depth + 1)],
        target=TargetNetwork(target.weights),
    )
    assert not np.allclose(relu_twin.forward(x), ticket.forward(x))  # the activation is really leaky


def _mask(ticket, t):
    kept = ticket.kept(t)
    mask = np.zeros(ticket.network.shapes[t - 1])
    mask[kept.rows, kept.cols] = 1.0
    return mask


def test_a_zero_slope_is_the_relu_construction():
    target = random_target(3, (4, 2), seed=1)
    zero = random_target(3, (4, 2), seed=1, negative_slope=0.0)
    a, b = construct(target, method="burkholz", eps=0.3, seed=4), construct(zero, method="burkholz", eps=0.3, seed=4)
    assert a.network == b.network and a.meta == b.meta and a.certified_error == b.certified_error
    assert all(np.array_equal(x.vals, y.vals) for x, y in zip(a.entries, b.entries, strict=True))


def test_leaky_theorem_block_sizes_and_rescale():
    target = random_target(2, (3, 2), seed=5, negative_slope=0.1)
    ticket = construct(target, method="burkholz", eps=0.3, seed=1, block_sizes="theorem")
    assert ticket.meta["block_sizes"] == list(bounds.burkholz_theorem_block_sizes(target.dims, 0.3, 0.05, negative_slope=0.1))
    assert ticket.meta["failures"] == 0 and ticket.certified_error <= 0.3
    ticket.audit()
    big = TargetNetwork([target.weights[0] * 4, target.weights[1]], negative_slope=0.1)  # outside the assumptions
    scaled = construct(big, method="burkholz", eps=0.5, seed=1, rescale=True)
    assert scaled.output_scale > 1 and scaled.network.negative_slope == 0.1 and scaled.target is big
    x = unit_sphere(2, 2000, 4)
    assert np.linalg.norm(scaled.forward(x) - big.forward(x), axis=1).max() <= scaled.certified_error <= 0.5
    scaled.audit()


@pytest.mark.parametrize("method", ["malach", "subsetsum", "orseau"])
def test_other_methods_refuse_a_leaky_target_naming_burkholz(method):
    leaky_target = random_target(3, (4, 2), seed=1, negative_slope=0.1)
    with pytest.raises(InvalidInputError, match=r"negative_slope=0\.1.*method='burkholz'"):
        construct(leaky_target, method=method, eps=0.2, seed=0)
    with pytest.raises(InvalidInputError, match="method='burkholz'"):
        plan(leaky_target, method=method, eps=0.2, seed=0)
    big = TargetNetwork([leaky_target.weights[0] * 4, leaky_target.weights[1]], negative_slope=0.1)
    with pytest.raises(InvalidInputError, match="method='burkholz'"):
        construct(big, method=method, eps=0.2, seed=0, rescale=True)
    with_biases = random_target(3, (4, 2), seed=1, biases=True, negative_slope=0.1)
    with pytest.raises(InvalidInputError, match="method='burkholz' .bias-free"):
        construct(with_biases, method=method, eps=0.2, seed=0)
    assert plan(leaky_target, method="burkholz", eps=0.2, seed=0).method == "burkholz"


def test_leaky_exact_error_is_below_the_certified_bound():
    # an independent oracle: the exact sup over the disc (docs/theory.md §6, through the ReLU form of §14.6)
    target = random_target(2, (3, 2), seed=5, negative_slope=0.5)
    ticket = construct(target, method="burkholz", eps=0.3, seed=1)
    circle = exact_error(ticket, target, method="circle")
    assert circle.status == "exact" and circle.upper <= ticket.certified_error <= 0.3
    x = unit_sphere(2, 4000, 5)
    assert np.linalg.norm(ticket.forward(x) - target.forward(x), axis=1).max() <= circle.upper * (1 + 1e-9)
