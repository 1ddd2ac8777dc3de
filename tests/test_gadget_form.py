"""A construction ticket in gadget form (docs/theory.md §2-3): stronglth/gadget_form.py.

The oracle is the dense ticket: with one first-layer unit per coordinate, ``A[o, j]`` and
``B[o, j]`` are sums of ``v_oh u_h`` over the kept units of each sign, read off the dense matrices.
"""

from __future__ import annotations

import numpy as np
import pytest

from stronglth import construct, random_target
from stronglth.gadget_form import recomputed_certified_error, weight_errors


@pytest.mark.parametrize("method, options", [("subsetsum", {"eta": 0.05}), ("malach", {"eps": 0.3})])
def test_weight_errors_against_the_dense_ticket(method, options):
    target = random_target(3, [4, 2], seed=1)
    ticket = construct(target, method=method, seed=3, **options)
    errors = weight_errors(ticket)
    assert errors is not None and len(errors) == target.depth
    for i, (error, w) in enumerate(zip(errors, target.weights, strict=True), start=1):
        first = ticket.kept(2 * i - 1)
        second = ticket.kept(2 * i)
        a, b = np.zeros_like(w), np.zeros_like(w)
        unit = {h: (j, val) for h, j, val in zip(first.rows.tolist(), first.cols.tolist(), first.vals.tolist(), strict=True)}
        for o, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist(), strict=True):
            if h in unit:
                j, val = unit[h]
                (a if val > 0 else b)[o, j] += v * abs(val)
        expected = np.hstack((a - w, b + w)) if i == 1 else a - w
        np.testing.assert_allclose(error, expected, rtol=0, atol=1e-12)
        if method == "subsetsum":  # every event succeeded: each per-weight error within eta
            assert np.abs(error).max() <= options["eta"]
    assert recomputed_certified_error(ticket) == pytest.approx(ticket.certified_error, rel=1e-12)


def test_not_a_gadget_ticket():
    assert weight_errors(object()) is None


def _scaled_pair():
    """A ticket of F' = F / c (F violating the assumptions), and the same ticket with output scale c and target F."""
    from stronglth import RandomNetwork, TargetNetwork, Ticket

    base = random_target(3, [4, 2], seed=1)
    f = TargetNetwork([3.0 * base.weights[0], base.weights[1] * 2.0])
    f_scaled, c = f.scale_to_assumptions()
    assert c > 1
    unscaled = construct(f_scaled, method="subsetsum", seed=3, eta=0.05)
    network: RandomNetwork = unscaled.network
    scaled = Ticket(network, unscaled.entries, target=f, output_scale=c, certified_error=c * unscaled.certified_error)
    return unscaled, scaled, f, c


def test_a_scaled_ticket_is_read_against_f_prime_and_its_bound_is_c_times():
    from stronglth import Ticket, TicketAuditError
    from stronglth.gadget_form import gadget_network, reference_target

    unscaled, scaled, f, c = _scaled_pair()
    assert all(np.array_equal(a, b) for a, b in zip(reference_target(scaled).weights, unscaled.target.weights, strict=True))
    assert recomputed_certified_error(scaled) == c * recomputed_certified_error(unscaled)
    scaled.audit()
    x = np.random.default_rng(0).uniform(-1, 1, (9, 3)) / 2
    ticket_net, target_net = gadget_network(scaled)
    assert ticket_net.output_scale == c
    np.testing.assert_allclose(ticket_net.forward(x), scaled.forward(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(target_net.forward(x), f.forward(x), rtol=1e-12, atol=1e-12)
    errors = np.linalg.norm(scaled.forward(x) - f.forward(x), axis=1)
    assert errors.max() <= recomputed_certified_error(scaled)
    low = Ticket(scaled.network, scaled.entries, target=f, output_scale=c, certified_error=recomputed_certified_error(unscaled))
    with pytest.raises(TicketAuditError, match="smaller than the bound recomputed"):
        low.audit()
    other = Ticket(scaled.network, scaled.entries, target=f, output_scale=c * 1.5)  # not scale_to_assumptions' c
    bound = recomputed_certified_error(other)  # against F with its last layer / c: valid for any scale, if loose
    assert bound >= np.linalg.norm(other.forward(x) - f.forward(x), axis=1).max()
    forged = Ticket(scaled.network, scaled.entries, target=f, output_scale=c * 1.5, certified_error=scaled.certified_error)
    with pytest.raises(TicketAuditError, match="smaller than the bound recomputed"):
        forged.audit()  # a stale bound does not survive a changed scale


def test_biases_are_not_of_the_gadget_form():
    from stronglth import RandomNetwork, Ticket
    from stronglth.gadget_form import gadget_matrices

    target = random_target(2, [2], seed=0)
    plain = construct(target, method="subsetsum", seed=3, eta=0.1)
    biased_g = RandomNetwork(plain.network.shapes, seed=plain.network.seed, biases=[None, "uniform"])
    kept = Ticket.from_positions(biased_g, [(e.rows, e.cols) for e in plain.entries], bias_positions=[None, [0]], target=target)
    assert gadget_matrices(kept) is None  # the bias-free gadget form; the biased one (§15) bounds it:
    bound = recomputed_certified_error(kept)
    x = np.random.default_rng(1).normal(size=(500, 2))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert bound >= np.linalg.norm(kept.forward(x) - target.forward(x), axis=1).max()
    assert bound >= recomputed_certified_error(plain) + abs(kept.kept_biases(2).vals[0]) * (1 - 1e-12)
    unkept = Ticket.from_positions(biased_g, [(e.rows, e.cols) for e in plain.entries], target=target)  # bias lines, none kept
    assert recomputed_certified_error(unkept) == recomputed_certified_error(plain)
    with_bias = Ticket(plain.network, plain.entries, target=random_target(2, [2], seed=0, biases=True))
    assert gadget_matrices(with_bias) is None


def _leaky_variants(widths):
    """A subset-sum ticket of a ReLU target, and tickets keeping the same positions of a G of equal
    values with a leaky ReLU, or against the same target with one (docs/theory.md §14.6)."""
    from stronglth import RandomNetwork, Ticket

    target = random_target(2, widths, seed=0)
    plain = construct(target, method="subsetsum", seed=3, eta=0.1)
    net = plain.network
    positions = [(e.rows, e.cols) for e in plain.entries]
    leaky_g = RandomNetwork(net.shapes, seed=net.seed, distributions=net.distributions, negative_slope=0.3)
    leaky_target = random_target(2, widths, seed=0, negative_slope=0.3)
    return plain, {
        "leaky G": Ticket.from_positions(leaky_g, positions, target=target),
        "leaky target": Ticket.from_positions(net, positions, target=leaky_target),
        "both leaky": Ticket.from_positions(leaky_g, positions, target=leaky_target),
    }


def test_a_leaky_ticket_is_not_of_the_gadget_form():
    """The gadget identity is the ReLU's: every gadget-form reader returns None for a leaky G or target
    (also the form with biases), and the certified bound falls through to Burkholz's hook, which has
    none for this layout (depth 2l, not l + 1)."""
    from stronglth import RandomNetwork, Ticket
    from stronglth.gadget_form import biased_gadget, gadget_matrices, gadget_network

    plain, variants = _leaky_variants([3, 2])
    assert gadget_matrices(plain) is not None and recomputed_certified_error(plain) is not None
    for name, ticket in variants.items():
        for reader in (gadget_matrices, weight_errors, gadget_network, biased_gadget, recomputed_certified_error):
            assert reader(ticket) is None, (name, reader.__name__)
    net = plain.network
    biased_leaky = RandomNetwork(net.shapes, seed=net.seed, biases=[None, "uniform", None, None], negative_slope=0.3)
    positions = [(e.rows, e.cols) for e in plain.entries]
    kept_bias = Ticket.from_positions(biased_leaky, positions, bias_positions=[None, [0], None, None], target=plain.target)
    assert biased_gadget(kept_bias) is None and recomputed_certified_error(kept_bias) is None


def test_a_depth_one_leaky_ticket_falls_through_to_the_burkholz_hook():
    """Depth 1 (G of depth 2 = l + 1): the layout Burkholz's hook reads; with G's slope equal to the
    target's it supplies a bound, which is above the sampled error; with other slopes it has none."""
    from stronglth import RandomNetwork, Ticket

    plain, variants = _leaky_variants([3])
    ticket = variants["both leaky"]
    bound = recomputed_certified_error(ticket)
    x = np.random.default_rng(2).normal(size=(2000, 2))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if bound is not None:  # (Burkholz's hook decides; any value it gives must bound the error)
        assert bound >= np.linalg.norm(ticket.forward(x) - ticket.target.forward(x), axis=1).max()
    net = plain.network
    other = RandomNetwork(net.shapes, seed=net.seed, negative_slope=0.5)
    mismatched = Ticket.from_positions(other, [(e.rows, e.cols) for e in plain.entries], target=ticket.target)
    assert recomputed_certified_error(mismatched) is None  # the hook compares networks of one activation
    assert recomputed_certified_error(variants["leaky G"]) is None


def test_the_reference_target_keeps_the_targets_slope():
    from stronglth import TargetNetwork, Ticket
    from stronglth.gadget_form import reference_target

    unscaled, scaled, f, c = _scaled_pair()
    leaky_f = TargetNetwork(f.weights, negative_slope=0.3)
    for scale in (c, 1.5 * c):  # scale_to_assumptions' F', and F with its last layer divided by the scale
        ticket = Ticket(scaled.network, scaled.entries, target=leaky_f, output_scale=scale)
        reference = reference_target(ticket)
        assert reference.negative_slope == 0.3
        x = np.random.default_rng(0).normal(size=(20, 3))
        np.testing.assert_allclose(scale * reference.forward(x), leaky_f.forward(x), rtol=1e-12, atol=1e-12)
