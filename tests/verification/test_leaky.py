"""Every verification method on networks with a leaky ReLU ``max(t, a t)`` (docs/theory.md §14.6):
against the dense grid oracle of ``_oracle.py`` (each network with its own slope), nesting, the ReLU
forms the encoding methods receive, leaky tickets, and the refusals where ReLU pieces are encoded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import InvalidInputError, RandomNetwork, ReLUNetwork, Ticket, construct, random_target
from stronglth.verification import (
    adversarial_error,
    data_errors,
    differential_bound,
    exact_error,
    sampled_error,
    sup_error,
    verify,
)
from stronglth.verification._common import network_pair, relu_forms, relu_pair, without_output_scale
from stronglth.verification.adversarial import input_vjp
from stronglth.verification.encoding import PairEncoding

from ._oracle import LEAKY_PAIRS, errors, random_pair, sup_bounds


def _at_most(a: float, b: float) -> bool:
    """``a <= b`` up to rounding (a leaky network and its ReLU form differ by one rounding per ``a W``)."""
    return a <= b * (1 + 1e-9) + 1e-12


def _methods(d: int, homogeneous: bool) -> list[str]:
    enumeration = ["endpoints"] if d == 1 else (["circle"] if d == 2 and homogeneous else [])
    return [*enumeration, "milp", "bab", "bounds"]


@given(**LEAKY_PAIRS)
@settings(max_examples=12, deadline=None)
def test_every_measure_of_a_leaky_pair_brackets_the_grid_oracle(d, widths, n_out, seed, norm, slopes, biases, domain):
    """Each lower bound is the error at a point (at most the oracle's upper bound), each upper bound
    at least the grid's max, whatever a method's status (time limits only widen the bounds), and
    sampled <= adversarial <= every upper bound; the enumerations (d = 1, 2) are exact."""
    f, g = random_pair(d, widths, n_out, seed, biases=biases, slopes=slopes)
    lower, upper = sup_bounds(f, g, d, domain, norm=norm, m={1: 4001, 2: 201, 3: 41}[d])
    sampled = sampled_error(f, g, n=2000, seed=1, norm=norm, domain=domain)[0]
    adversarial = adversarial_error(f, g, n=2000, starts=4, steps=40, seed=1, norm=norm, domain=domain)[0]
    assert sampled <= adversarial <= upper
    results = {}
    for method in _methods(d, not biases):
        result = results[method] = exact_error(f, g, method=method, norm=norm, domain=domain, time_limit=2.0, rel_gap=0.05)
        assert result.lower <= upper, method
        assert _at_most(lower, result.upper) and _at_most(adversarial, result.upper), (method, lower, adversarial, result)
        if method in ("endpoints", "circle"):
            assert result.status == "exact" and result.upper <= upper
            assert result.upper == pytest.approx(errors(f, g, result.point[None, :], norm)[0], rel=1e-12, abs=1e-15)
    for low in results.values():  # every lower bound (an error at a point) <= every upper bound
        assert all(_at_most(low.lower, high.upper) for high in results.values()), results


@given(
    widths=st.lists(st.integers(2, 6), min_size=2, max_size=3),
    n_out=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    slopes=st.one_of(st.tuples(st.floats(0.05, 0.95), st.just(0.0)), st.tuples(st.floats(0.05, 0.95), st.floats(0.05, 0.95))),
    norm=st.sampled_from(["l2", "linf"]),
)
@settings(max_examples=12, deadline=None)
def test_the_breakpoints_of_deep_leaky_networks_with_biases(widths, n_out, seed, slopes, norm):
    """d = 1 with biases: the pieces of a later layer follow the slopes of the layers before it (an
    inactive unit passes ``a (p x + q)``); the max over the pieces' ends is the sup of a fine grid."""
    f, g = random_pair(1, widths, n_out, seed, biases=True, slopes=slopes)
    lower, upper = sup_bounds(f, g, 1, "ball", norm=norm, m=100_001)
    result = exact_error(f, g, method="endpoints", norm=norm)
    assert result.method == "breakpoints" and result.status == "exact"
    assert lower <= result.upper * (1 + 1e-12) + 1e-15 and result.upper <= upper


@given(
    d=st.integers(1, 3),
    seed=st.integers(0, 2**32),
    slopes=st.tuples(st.sampled_from([0.0, 0.2, 0.6]), st.sampled_from([0.1, 0.2])),
    biases=st.booleans(),
    domain=st.sampled_from(["ball", "box"]),
)
@settings(max_examples=8, deadline=None)
def test_verify_reports_nest_and_bracket_the_oracle(d, seed, slopes, biases, domain):
    f, g = random_pair(d, [3], 2, seed, biases=biases, slopes=slopes)
    lower, upper = sup_bounds(f, g, d, domain, norm="l2", m={1: 4001, 2: 201, 3: 41}[d])
    x = np.random.default_rng(seed % 1000).uniform(-1.5, 1.5, (50, d))
    report = verify(f, g, exact=True, samples=1000, time_limit=3.0, rel_gap=0.05, domain=domain, data=x, labels=np.arange(50) % 2)
    assert report.nested and report.certified is None
    assert report.adversarial <= upper and _at_most(lower, report.exact_upper)
    assert report.data.max_error == pytest.approx(errors(f, g, x).max(), rel=1e-12, abs=1e-15)
    assert report.data.mean_error == pytest.approx(errors(f, g, x).mean(), rel=1e-12, abs=1e-15)


@given(
    d=st.integers(1, 4),
    widths=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    seed=st.integers(0, 2**32),
    slopes=st.tuples(st.sampled_from([0.0, 0.3]), st.floats(0.0, 0.99)),
    biases=st.booleans(),
    scale=st.sampled_from([1.0, 0.3, 2.5]),
)
@settings(max_examples=25, deadline=None)
def test_the_relu_forms_compute_the_same_functions(d, widths, seed, slopes, biases, scale):
    """What the MILP and the differential bound receive: plain ReLU networks, of equal layer shapes
    when the two were, equal to the leaky networks up to rounding; a ReLU pair is passed through."""
    f, g = random_pair(d, widths, 2, seed, biases=biases, slopes=slopes)
    f = ReLUNetwork(f.weights, f.biases if biases else None, output_scale=scale, negative_slope=f.negative_slope)
    rf, rg = relu_pair(f, g)
    assert rf.negative_slope == rg.negative_slope == 0.0 and rf.output_scale == rg.output_scale == 1.0
    assert rf.has_biases == rg.has_biases == biases
    assert [w.shape for w in rf.weights] == [w.shape for w in rg.weights]
    x = np.random.default_rng(1).uniform(-1, 1, (64, d))
    for original, form in ((f, rf), (g, rg)):
        expected = original.forward(x)
        np.testing.assert_allclose(form.forward(x), expected, rtol=1e-12, atol=1e-12 * (1 + np.abs(expected).max()))
    plain = network_pair(*random_pair(d, widths, 2, seed, biases=biases))
    assert all(a is b for a, b in zip(relu_forms(*plain), plain, strict=True))


def test_folding_the_output_scale_keeps_the_slope():
    net = ReLUNetwork([np.eye(2), np.ones((1, 2))], output_scale=3.0, negative_slope=0.25)
    folded = without_output_scale(net)
    assert folded.negative_slope == 0.25 and folded.output_scale == 1.0
    x = np.array([[1.0, -2.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(folded.forward(x), net.forward(x))


@given(seed=st.integers(0, 2**32), slope=st.floats(0.01, 0.99), biases=st.booleans())
@settings(max_examples=10, deadline=None)
def test_the_ascent_gradient_follows_the_leaky_slope(seed, slope, biases):
    """``input_vjp`` against central differences (a ReLU mask would miss the ``a z`` of inactive units)."""
    f, _ = random_pair(3, [5, 4], 2, seed, biases=biases, slopes=(slope, 0.0))
    rng = np.random.default_rng(seed % 997)
    x, cotangent = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    grad = input_vjp(f, x, cotangent)
    h = 1e-6
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        numeric = ((f.forward(x + step) - f.forward(x - step)) * cotangent).sum(axis=1) / (2 * h)
        kink = np.zeros(6, dtype=bool)  # rows whose step crosses a kink: the difference quotient is off there
        for sign in (-1, 1):
            z, zx = x + sign * step, x
            for w, b in zip(f.weights[:-1], f.biases[:-1], strict=True):
                pre_z, pre_x = z @ w.T + (b if biases else 0), zx @ w.T + (b if biases else 0)
                kink |= np.any(np.sign(pre_z) != np.sign(pre_x), axis=1)
                z, zx = np.where(pre_z > 0, pre_z, slope * pre_z), np.where(pre_x > 0, pre_x, slope * pre_x)
        np.testing.assert_allclose(grad[~kink, j], numeric[~kink], rtol=1e-5, atol=1e-6)


def test_the_encoding_refuses_a_leaky_network():
    f, g = random_pair(2, [3], 1, 0, slopes=(0.3, 0.0))
    with pytest.raises(InvalidInputError, match="leaky ReLU.*relu_equivalent"):
        PairEncoding(2).pair(f, g)
    with pytest.raises(InvalidInputError, match="leaky ReLU"):
        PairEncoding(2).single(f)


def _leaky_ticket(g_slope: float, target_slope: float) -> tuple[Ticket, Ticket]:
    """A subset-sum ticket of a ReLU target, and the ticket keeping the same positions of a G with the
    same values and slope ``g_slope``, against the same target with slope ``target_slope``."""
    target = random_target(2, [3, 2], seed=4)
    plain = construct(target, method="subsetsum", seed=3, eta=0.1)
    net = plain.network
    leaky_g = RandomNetwork(net.shapes, seed=net.seed, distributions=net.distributions, negative_slope=g_slope)
    leaky_target = random_target(2, [3, 2], seed=4, negative_slope=target_slope)
    positions = [(e.rows, e.cols) for e in plain.entries]
    return plain, Ticket.from_positions(leaky_g, positions, target=leaky_target)


@pytest.mark.parametrize("slopes", [(0.3, 0.3), (0.3, 0.1), (0.0, 0.2)])
def test_a_leaky_ticket_is_verified_with_its_own_slope_and_the_targets(slopes):
    """The ticket is evaluated with G's slope, the target with its own: every measure brackets the
    grid oracle of the two (dense ticket), the nesting holds, and no gadget-form bound is claimed."""
    plain, ticket = _leaky_ticket(*slopes)
    assert ticket.compact().negative_slope == slopes[0] and ticket.target.negative_slope == slopes[1]
    lower, upper = sup_bounds(ticket, ticket.target, 2, "ball")
    report = verify(ticket, exact=True, samples=2000, time_limit=10.0, method="bab")
    assert report.nested and report.adversarial <= upper and _at_most(lower, report.exact_upper)
    assert report.certified is None and "leaky ReLU" in report.certified_note
    with pytest.raises(InvalidInputError, match="no certified bound.*leaky ReLU"):
        sup_error(ticket, ticket.target, method="certified")
    circle = exact_error(ticket, ticket.target, method="circle")
    assert circle.status == "exact" and lower <= circle.upper * (1 + 1e-12) and circle.upper <= upper
    box = exact_error(ticket, ticket.target, method="milp", domain="box", time_limit=10.0)
    box_lower, box_upper = sup_bounds(ticket, ticket.target, 2, "box")
    assert box.lower <= box_upper and _at_most(box_lower, box.upper)
    relu_report = verify(plain, samples=2000)
    assert relu_report.certified == pytest.approx(plain.certified_error, rel=1e-12)  # ReLU: the gadget-form bound
    bounds = differential_bound(ticket, ticket.target)
    assert _at_most(lower, bounds.upper)


def test_the_same_weights_with_another_slope_are_not_the_own_target():
    from stronglth.verification import certified_bound

    plain, _ = _leaky_ticket(0.0, 0.0)
    other = random_target(2, [3, 2], seed=4, negative_slope=0.2)
    with pytest.raises(InvalidInputError, match="own target"):
        certified_bound(plain, other)
    report = verify(plain, other, samples=500)
    assert report.certified is None and report.sampled > 0  # measured against the leaky target, not the ReLU one


def test_a_torch_module_with_a_leaky_relu_is_verified_as_its_network():
    """``nn.LeakyReLU`` is read with its slope (:meth:`ReLUNetwork.from_torch`): in float64 the module
    is the network exactly, so every measure is the network's, bit for bit (the deterministic ones
    compared; branch-and-bound, which stops at a time limit, only as a true upper bound)."""
    f, g = random_pair(2, [4, 3], 2, 7, slopes=(0.2, 0.05))
    module, target = f.to_torch(dtype="float64"), g.to_torch(dtype="float64")
    for method in ("circle", "bounds"):
        from_module, direct = exact_error(module, target, method=method), exact_error(f, g, method=method)
        assert (from_module.lower, from_module.upper, from_module.status) == (direct.lower, direct.upper, direct.status)
    circle = exact_error(f, g, method="circle")
    assert _at_most(circle.upper, exact_error(module, target, method="bab", time_limit=5.0).upper)
    assert sampled_error(module, g, n=500)[0] == sampled_error(f, g, n=500)[0]
    assert adversarial_error(module, g, n=500, steps=20)[0] == adversarial_error(f, g, n=500, steps=20)[0]
    x = np.random.default_rng(0).normal(size=(30, 2))
    assert data_errors(module, g, x).max_error == pytest.approx(errors(f, g, x).max(), rel=1e-12)
