"""``construct(F, rescale=True)``: a ticket of ``F / c`` at ``eps / c`` with output scale ``c`` approximates
``F`` itself within ``eps`` (docs/theory.md §1.1, §12). Oracle: the target's own dense forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from stronglth import InvalidInputError, TargetNetwork, Ticket, TicketAuditError, construct, plan, random_target


def sphere_and_ball(d: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.vstack([x, x * rng.uniform(size=(n, 1))])


@given(scale=st.floats(1.5, 500.0), seed=st.integers(0, 2**16), method=st.sampled_from(["malach", "subsetsum"]))
def test_a_rescaled_ticket_approximates_the_unscaled_target_within_eps(scale, seed, method):
    admissible = random_target(2, [3, 1], seed=seed)
    F = TargetNetwork([w * scale**0.5 for w in admissible.weights])  # outside the assumptions
    ticket = construct(F, method=method, eps=0.2, seed=seed, rescale=True, on_failure="best_effort")
    ticket.audit()  # G's weights, bit for bit; the certified bound recomputed against F / c, times c
    scaled, c = F.scale_to_assumptions()
    assert ticket.output_scale == c and ticket.target is F
    x = sphere_and_ball(2, 500, seed)
    error = float(np.linalg.norm(ticket.forward(x) - F.forward(x), axis=1).max())
    assert error <= ticket.certified_error  # whether or not an event failed (probability <= delta)
    if not ticket.meta["failures"]:
        assert ticket.certified_error <= 0.2 * (1 + 1e-12)
    assert ticket.meta["eps"] == 0.2 and ticket.meta["eps_of_scaled_target"] == pytest.approx(0.2 / c)
    with torch.no_grad():
        ours = ticket.to_torch()(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, ticket.forward(x), rtol=1e-12, atol=1e-9 * c)


def test_the_output_scale_survives_the_file_and_an_admissible_target_is_left_alone(tmp_path):
    F = TargetNetwork([np.array([[30.0, -10.0]]), np.array([[4.0]])])
    ticket = construct(F, method="subsetsum", eps=0.1, seed=0, rescale=True)
    again = Ticket.load(ticket.save(tmp_path / "t.npz"))
    assert again.output_scale == ticket.output_scale > 1 and again.certified_error == ticket.certified_error
    x = sphere_and_ball(2, 200, 1)
    assert np.array_equal(again.forward(x), ticket.forward(x))
    G = random_target(2, [3, 1], seed=4)
    plain, rescaled = construct(G, eps=0.2, seed=1), construct(G, eps=0.2, seed=1, rescale=True)
    assert rescaled.output_scale == 1.0
    assert all(
        np.array_equal(a.vals, b.vals) and np.array_equal(a.rows, b.rows)
        for a, b in zip(plain.entries, rescaled.entries, strict=True)
    )


def test_rescale_of_a_target_with_biases():
    admissible = random_target(2, [3, 1], seed=2, biases=True)
    F = TargetNetwork([w * 7.0 for w in admissible.weights], [b * 7.0 for b in admissible.biases])
    ticket = construct(F, method="subsetsum", eps=0.2, seed=3, rescale=True)
    ticket.audit()
    x = sphere_and_ball(2, 2000, 2)
    assert float(np.linalg.norm(ticket.forward(x) - F.forward(x), axis=1).max()) <= ticket.certified_error <= 0.2 * (1 + 1e-12)


def test_rescale_needs_eps_and_plans_the_scaled_construction():
    F = TargetNetwork([np.array([[30.0, -10.0]]), np.array([[4.0]])])
    with pytest.raises(InvalidInputError, match="rescale=True needs eps"):
        construct(F, method="subsetsum", eta=0.01, seed=0, rescale=True)
    with pytest.raises(InvalidInputError, match="rescale"):
        construct(F, method="subsetsum", eps=0.1, seed=0, rescale="yes")
    scaled, c = F.scale_to_assumptions()
    assert plan(F, "subsetsum", eps=0.1, seed=0, rescale=True) == plan(scaled, "subsetsum", eps=0.1 / c, seed=0)


def test_a_rescaled_depth_l_plus_1_ticket_is_audited_against_F_over_c():
    F = TargetNetwork([np.array([[1.6, -2.7], [0.1, 0.2]]), np.array([[1.5, -0.5]])])  # outside the assumptions
    ticket = construct(F, method="burkholz", eps=0.1, seed=5, rescale=True)
    ticket.audit()
    claims_less = Ticket(
        ticket.network, ticket.entries, target=F, certified_error=1e-12, meta=ticket.meta, output_scale=ticket.output_scale
    )
    with pytest.raises(TicketAuditError, match="smaller than the bound recomputed"):
        claims_less.audit()
    x = sphere_and_ball(2, 1000, 3)
    assert float(np.linalg.norm(ticket.forward(x) - F.forward(x), axis=1).max()) <= ticket.certified_error <= 0.1


@pytest.mark.parametrize("method", ["malach", "orseau", "burkholz"])
def test_constructions_of_bias_free_targets_refuse_biases_rather_than_drop_them(method):
    F = TargetNetwork([np.array([[1.0]])], [np.array([-1.0])])
    with pytest.raises(InvalidInputError, match="target has biases.*subsetsum"):
        construct(F, method=method, eps=0.1, seed=1)
