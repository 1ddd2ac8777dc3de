"""The certified bound of the depth l + 1 construction (docs/theory.md §14.4; §14.6 for the leaky ReLU)
is an upper bound for *any* kept weights in its layout: random masks over a small G, against random
targets (not only admissible ones), measured densely on the sphere. Oracle: dense evaluation of the
masked G (written out here for the leaky ReLU)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dense_masked_forward, unit_sphere

from stronglth import RandomNetwork, TargetNetwork, Ticket
from stronglth.constructions.burkholz.certified import copy_error_trace, recomputed_certified_error

RELU = st.just(0.0)
LEAKY = st.sampled_from([0.01, 0.1, 0.5]) | st.floats(0.0, 0.99)


@st.composite
def layout_tickets(draw, slopes=RELU):
    """A random-mask ticket of a G laid out for a random target: M_1 univariate (at most one kept
    entry per unit, in its block), later matrices masked at random; G and the target share the
    activation's slope (the ReLU unless ``slopes`` draws a leaky one)."""
    a = draw(slopes)
    depth = draw(st.integers(1, 3))
    dims = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    ks = [draw(st.integers(1, 3)) for _ in range(depth)]
    copies = ks[1:] + [1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = [rng.normal(size=(dims[i], dims[i - 1])) * draw(st.sampled_from([0.1, 0.5, 1.0])) for i in range(1, depth + 1)]
    shapes = [(dims[0] * ks[0], dims[0])] + [(dims[i] * copies[i - 1], dims[i - 1] * ks[i - 1]) for i in range(1, depth + 1)]
    network = RandomNetwork(shapes, seed=draw(st.integers(0, 2**32)), negative_slope=a)
    units = np.flatnonzero(rng.random(shapes[0][0]) < 0.8)
    positions = [(units, units // ks[0])]
    for rows, cols in shapes[1:]:
        keep = rng.random((rows, cols)) < draw(st.floats(0.2, 1.0))
        positions.append(np.nonzero(keep))
    return Ticket.from_positions(network, positions, target=TargetNetwork(weights, negative_slope=a))


@settings(deadline=None)
@given(layout_tickets())
def test_the_bound_is_above_the_measured_error_of_any_ticket_in_the_layout(ticket):
    bound = recomputed_certified_error(ticket)
    assert bound is not None
    x = unit_sphere(ticket.target.d, 400, 0)
    measured = np.linalg.norm(dense_masked_forward(ticket, x) - ticket.target.forward(x), axis=1).max()
    assert measured <= bound * (1 + 1e-9) + 1e-12


def test_exact_copies_give_a_zero_bound():
    # D = 0 and V = E-like blocks: no error anywhere
    d_first = np.zeros((4, 2))
    v = np.eye(4)
    assert copy_error_trace(d_first, [(v, np.zeros((4, 2)))], [1.0, 1.0]) == (0.0, 0.0)


def test_other_layouts_get_no_bound():
    g = RandomNetwork([(4, 2), (3, 4), (2, 3), (1, 2)], seed=0)  # depth 4 for a depth 2 target: not l + 1
    ticket = Ticket.from_positions(g, [([], [])] * 4, target=TargetNetwork([np.eye(3, 2) * 0.1, np.ones((1, 3)) * 0.1]))
    assert recomputed_certified_error(ticket) is None


def leaky_dense_target(target: TargetNetwork, x: np.ndarray) -> np.ndarray:
    a, h = target.negative_slope, np.asarray(x, dtype=np.float64)
    for i, w in enumerate(target.weights):
        h = h @ w.T
        if i < target.depth - 1:
            h = np.where(h >= 0, h, a * h)
    return h


@settings(deadline=None, max_examples=60)
@given(layout_tickets(slopes=LEAKY))
def test_the_leaky_bound_is_above_the_measured_error_of_any_ticket_in_the_layout(ticket):
    # docs/theory.md §14.6: err_1 = sqrt(1 + a^2) ||D_1||, first-layer targets W_1 / (1 + a), the copy
    # recursion unchanged; the oracle is the dense leaky evaluation on the sphere (homogeneity, §1.5)
    bound = recomputed_certified_error(ticket)
    assert bound is not None
    x = unit_sphere(ticket.target.d, 400, 0)
    ticket_out = dense_masked_forward(ticket, x)
    assert np.allclose(ticket.forward(x), ticket_out, atol=1e-12)  # the ticket's activation is G's
    measured = np.linalg.norm(ticket_out - leaky_dense_target(ticket.target, x), axis=1).max()
    assert measured <= bound * (1 + 1e-9) + 1e-12


def test_a_ticket_and_a_target_of_different_activations_get_no_bound():
    weights = [np.eye(3, 2) * 0.3, np.ones((1, 3)) * 0.2]
    shapes = [(4, 2), (3 * 2, 4), (1, 3 * 2)]  # k = (2, 2), copies (2, 1)
    positions = [(np.arange(4), np.arange(4) // 2), np.nonzero(np.ones((6, 4))), np.nonzero(np.ones((1, 6)))]
    for g_slope, target_slope in ((0.1, 0.0), (0.0, 0.1), (0.1, 0.5)):
        ticket = Ticket.from_positions(
            RandomNetwork(shapes, seed=0, negative_slope=g_slope),
            positions,
            target=TargetNetwork(weights, negative_slope=target_slope),
        )
        assert recomputed_certified_error(ticket) is None
        assert recomputed_certified_error(ticket, TargetNetwork(weights, negative_slope=g_slope)) is not None
    leaky_g, leaky_target = RandomNetwork(shapes, seed=0, negative_slope=0.1), TargetNetwork(weights, negative_slope=0.1)
    same = Ticket.from_positions(leaky_g, positions, target=leaky_target)
    relu = Ticket.from_positions(RandomNetwork(shapes, seed=0), positions, target=TargetNetwork(weights))
    assert recomputed_certified_error(same) != recomputed_certified_error(relu)  # the slope enters the bound
