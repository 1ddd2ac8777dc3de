"""The certified bound of the depth l + 1 construction (docs/theory.md §14.4) is an upper bound for
*any* kept weights in its layout: random masks over a small G, against random targets (not only
admissible ones), measured densely on the sphere. Oracle: dense evaluation of the masked G."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dense_masked_forward, unit_sphere

from stronglth import RandomNetwork, TargetNetwork, Ticket
from stronglth.constructions.burkholz.certified import copy_error_trace, recomputed_certified_error


@st.composite
def layout_tickets(draw):
    """A random-mask ticket of a G laid out for a random target: M_1 univariate (at most one kept
    entry per unit, in its block), later matrices masked at random."""
    depth = draw(st.integers(1, 3))
    dims = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    ks = [draw(st.integers(1, 3)) for _ in range(depth)]
    copies = ks[1:] + [1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = [rng.normal(size=(dims[i], dims[i - 1])) * draw(st.sampled_from([0.1, 0.5, 1.0])) for i in range(1, depth + 1)]
    shapes = [(dims[0] * ks[0], dims[0])] + [(dims[i] * copies[i - 1], dims[i - 1] * ks[i - 1]) for i in range(1, depth + 1)]
    network = RandomNetwork(shapes, seed=draw(st.integers(0, 2**32)))
    units = np.flatnonzero(rng.random(shapes[0][0]) < 0.8)
    positions = [(units, units // ks[0])]
    for rows, cols in shapes[1:]:
        keep = rng.random((rows, cols)) < draw(st.floats(0.2, 1.0))
        positions.append(np.nonzero(keep))
    return Ticket.from_positions(network, positions, target=TargetNetwork(weights))


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
