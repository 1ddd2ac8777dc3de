"""The Orseau et al. construction end to end (docs/theory.md §13): constructions/orseau/network.py.

Oracles: G materialised densely (its matrices as :class:`RandomNetwork` generates them), the gadget
sums recomputed from the dense matrices and the masks, the theorem's bounds of
:mod:`stronglth.bounds.orseau`, and every verification method (sampled, adversarial, exact).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import admissible_targets, unit_sphere

from stronglth import InvalidInputError, TargetNetwork, Ticket, TicketNotFound, TooLargeError, bounds, random_target
from stronglth.constructions import METHODS, PLANNERS, construct, plan
from stronglth.gadget_form import recomputed_certified_error
from stronglth.verification import certified_bound, sup_error, verify


def dense_gadgets(ticket: Ticket) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(A_i, B_i)`` from the dense G and the masks, units in order."""
    out = []
    for i, (w, k) in enumerate(zip(ticket.target.weights, ticket.meta["block_sizes"], strict=True), start=1):
        m1, m2 = ticket.network.dense(2 * i - 1), ticket.network.dense(2 * i)
        first, second = ticket.kept(2 * i - 1), ticket.kept(2 * i)
        assert np.all(first.rows // k == first.cols), "a kept first-layer weight outside its block"
        assert set(second.cols.tolist()) <= set(first.rows.tolist()), "a kept output weight from an unused unit"
        a, b = np.zeros_like(w), np.zeros_like(w)
        for o, h in zip(second.rows.tolist(), second.cols.tolist(), strict=True):
            u = m1[h, h // k]
            if u > 0:
                a[o, h // k] += m2[o, h] * u
            else:
                b[o, h // k] += m2[o, h] * -u
        out.append((a, b))
    return out


@settings(max_examples=10)
@given(target=admissible_targets(max_d=3, max_width=3, max_depth=3), eps=st.floats(0.1, 0.5), seed=st.integers(0, 2**32))
def test_theorem_ticket_is_a_subnetwork_within_its_bounds(target, eps, seed):
    """Audit bit for bit; per-weight errors within eta_i (or the ticket is refused); sampled error <=
    certified <= eps; G hyperbolic as recorded; width = the theorem's; units per weight within the bound."""
    try:
        ticket = construct(target, method="orseau", eps=eps, seed=seed)
    except TicketNotFound:  # allowed with probability <= delta; the message names the event
        return
    ticket.audit()
    etas = bounds.per_weight_tolerance(target.dims, eps)
    for i, ((a, b), w, eta) in enumerate(zip(dense_gadgets(ticket), target.weights, etas, strict=True), start=1):
        assert np.abs(a - w).max() <= eta
        assert np.abs(b + w).max() <= eta if i == 1 else not np.any(b)
    x = unit_sphere(target.d, 1_000, seed)
    sampled = np.linalg.norm(ticket.forward(x) - target.forward(x), axis=1).max()
    assert sampled <= ticket.certified_error * (1 + 1e-9) + 1e-15
    assert ticket.certified_error <= eps
    assert certified_bound(ticket) == pytest.approx(ticket.certified_error, rel=1e-12, abs=1e-300)
    widths = bounds.orseau_widths(target.dims, eps, 0.05)
    assert ticket.network.dims == widths and ticket.network.depth == bounds.orseau_depth(target.dims)
    assert ticket.network.distributions == tuple(f"hyperbolic({a!r})" for pair in ticket.meta["hyperbolic_a"] for a in pair)
    assert ticket.meta["method"] == "orseau" and ticket.meta["failures"] == 0
    for got, bound in zip(ticket.meta["units_per_weight_max"], ticket.meta["units_per_weight_bound"], strict=True):
        assert got <= bound


@pytest.mark.parametrize("dims, seed", [((1, 1), 3), ((2, 3, 1), 0), ((2, 2, 2, 1), 5)])
def test_depth_one_to_three_every_verification_method(dims, seed):
    """Depth 1-3, d <= 2: sampled <= adversarial <= exact upper <= certified <= eps, exact being the
    endpoints (d = 1) or the activation arcs / MILP (d = 2)."""
    target = random_target(dims[0], list(dims[1:]), seed=seed)
    ticket = construct(target, method="orseau", eps=0.4, seed=seed)
    ticket.audit()
    report = verify(ticket, exact=True, samples=2_000, time_limit=30)
    assert report.exact_status == "exact"
    assert report.sampled <= report.adversarial * (1 + 1e-9) + 1e-12
    assert report.adversarial <= report.exact_upper * (1 + 1e-6) + 1e-9
    assert report.exact_upper <= report.certified * (1 + 1e-9) + 1e-12
    assert report.certified == pytest.approx(ticket.certified_error, rel=1e-12) and ticket.certified_error <= 0.4


def test_milp_on_a_small_three_dimensional_target():
    target = random_target(3, [2, 1], seed=2)
    ticket = construct(target, method="orseau", eps=0.4, seed=1)
    report = verify(ticket, exact=True, samples=2_000, method="milp", time_limit=60)
    assert report.exact_method == "milp" and report.exact_upper is not None
    assert report.adversarial <= report.exact_upper * (1 + 1e-6) + 1e-9
    assert report.exact_lower <= report.certified * (1 + 1e-9) and ticket.certified_error <= 0.4
    assert sup_error(ticket, target, method="bounds") >= report.adversarial * (1 - 1e-9)  # the differential upper bound


def test_instance_and_explicit_block_sizes_and_the_plan():
    target = random_target(3, [4, 2], seed=1)
    theorem = plan(target, method="orseau", eps=0.2, seed=0)
    instance = plan(target, method="orseau", eps=0.2, seed=0, block_sizes="instance")
    assert theorem.block_sizes == bounds.orseau_block_sizes(target.dims, 0.2, 0.05)
    assert all(k_i <= k_t for k_i, k_t in zip(instance.block_sizes, theorem.block_sizes, strict=True))  # |w| <= bound
    ticket = construct(target, method="orseau", eps=0.2, seed=0, block_sizes="instance")
    assert tuple(ticket.meta["block_sizes"]) == instance.block_sizes and ticket.meta["block_sizes_rule"] == "instance"
    assert ticket.network.parameter_count == instance.parameter_count and ticket.network.dims == instance.widths
    again = construct(target, method="orseau", eps=0.2, seed=0, block_sizes=list(instance.block_sizes))
    assert again.meta["block_sizes_rule"] == "explicit"
    ticket.audit()
    assert "orseau" in METHODS and "orseau" in PLANNERS


def test_too_narrow_raises_naming_the_event_and_best_effort_is_honest():
    target = random_target(2, [3, 2], seed=0)
    with pytest.raises(TicketNotFound, match=r"layer 1, output \d+, input \d+, side (P|N)"):
        construct(target, method="orseau", eps=0.1, seed=0, block_sizes=[2, 2])
    ticket = construct(target, method="orseau", eps=0.1, seed=0, block_sizes=[2, 2], on_failure="best_effort")
    ticket.audit()
    assert ticket.meta["failures"] > 0 and ticket.meta["on_failure"] == "best_effort"
    recomputed = recomputed_certified_error(ticket)
    assert recomputed is not None and ticket.certified_error == pytest.approx(recomputed, rel=1e-12)
    x = unit_sphere(2, 1_000, 0)
    assert np.linalg.norm(ticket.forward(x) - target.forward(x), axis=1).max() <= ticket.certified_error * (1 + 1e-9)


def test_bad_arguments_are_package_errors():
    target = random_target(2, [2], seed=0)
    with pytest.raises(InvalidInputError, match="block_sizes"):
        construct(target, method="orseau", eps=0.1, seed=0, block_sizes="largest")
    with pytest.raises(InvalidInputError, match="block_sizes"):
        construct(target, method="orseau", eps=0.1, seed=0, block_sizes=[3, 3])
    with pytest.raises(InvalidInputError, match="eps"):
        construct(target, method="orseau", eps=-1, seed=0)
    with pytest.raises(InvalidInputError, match="on_failure"):
        construct(target, method="orseau", eps=0.1, seed=0, on_failure="maybe")
    with pytest.raises(InvalidInputError, match="TargetNetwork"):
        construct(np.eye(2), method="orseau", eps=0.1, seed=0)  # type: ignore[arg-type]
    with pytest.raises(TooLargeError, match="max_values"):
        construct(target, method="orseau", eps=0.1, seed=0, max_values=10)


def test_the_ticket_is_deterministic():
    target = TargetNetwork([np.array([[0.5, -0.25]]) / math.sqrt(2)])
    a = construct(target, method="orseau", eps=0.2, seed=7)
    b = construct(target, method="orseau", eps=0.2, seed=7)
    assert all(
        np.array_equal(x.vals, y.vals) and np.array_equal(x.rows, y.rows) for x, y in zip(a.entries, b.entries, strict=True)
    )
    assert a.certified_error == b.certified_error and a.meta == b.meta


def test_the_ticket_saves_and_loads_with_its_distributions(tmp_path):
    """Format "stronglth-ticket/2" keeps G's distributions, so the loaded ticket audits."""
    target = TargetNetwork([np.array([[0.5, -0.25]]) / math.sqrt(2)])
    a = construct(target, method="orseau", eps=0.2, seed=7)
    loaded = Ticket.load(a.save(tmp_path / "orseau.npz"))
    assert loaded.meta["method"] == "orseau" and loaded.certified_error == a.certified_error
    assert loaded.network.distributions == a.network.distributions


@settings(max_examples=5)
@given(target=admissible_targets(max_d=3, max_width=3, max_depth=2), eps=st.floats(0.1, 0.5), seed=st.integers(0, 2**32))
def test_auto_block_sizes_succeed_and_one_less_fails(target, eps, seed):
    ticket = construct(target, method="orseau", eps=eps, seed=seed, block_sizes="auto")
    ticket.audit()
    assert ticket.meta["failures"] == 0 and ticket.certified_error <= eps and ticket.meta["block_sizes_rule"] == "auto"
    ks = ticket.meta["block_sizes"]
    for i, k in enumerate(ks):
        assert ticket.meta["auto_tried"][i][-1] == k or k in ticket.meta["auto_tried"][i]
        if k > 1:
            fewer = [*ks[:i], k - 1, *ks[i + 1 :]]
            smaller = construct(target, method="orseau", eps=eps, seed=seed, block_sizes=fewer, on_failure="best_effort")
            assert smaller.meta["failures"] > 0  # layer i depends on k_i alone: k_i - 1 fails there
