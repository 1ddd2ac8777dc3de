"""The first layer of the depth l + 1 construction (Burkholz 2022; docs/theory.md §14.2): univariate
units and product subset sums. Oracle: G's dense first two matrices and the gadget identity."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork
from stronglth.constructions.burkholz.first import first_layer_network, solve_first_layer


@settings(deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 8), st.integers(0, 2**32))
def test_first_layer_is_univariate_and_computes_its_gadget(n_out, d, copies, k, seed):
    weights = np.random.default_rng(seed).uniform(-1, 1, (n_out, d)) / np.sqrt(d)
    layer = solve_first_layer(weights, k, copies, seed, 0.05)
    g = first_layer_network(d, k, n_out * copies, seed)
    m1, m2 = g.dense(1), g.dense(2)
    units, inputs, us = layer.first
    assert np.array_equal(us, m1[units, inputs]) and np.array_equal(units // k, inputs)  # unit h reads input h // k
    rows, hs, vs = layer.second
    assert np.array_equal(vs, m2[rows, hs])
    # the two kept layers at x compute A s(x) + B s(-x) with A - W = D+ and B + W = D- (docs/theory.md §2)
    mask1 = np.zeros_like(m1)
    mask1[units, inputs] = 1.0
    mask2 = np.zeros_like(m2)
    mask2[rows, hs] = 1.0
    target = np.repeat(weights, copies, axis=0)
    for x in np.random.default_rng(seed + 1).uniform(-1, 1, (5, d)):
        ticket = (m2 * mask2) @ np.maximum((m1 * mask1) @ x, 0.0)
        gadget = (target + layer.d_plus) @ np.maximum(x, 0) + (layer.d_minus - target) @ np.maximum(-x, 0)
        assert np.allclose(ticket, gadget, atol=1e-12)


def test_the_two_matrix_view_reads_gs_own_values():
    g = RandomNetwork([(6, 2), (4, 6), (3, 4)], seed=11)  # a depth l + 1 = 3 network
    view = first_layer_network(2, 3, 4, 11)
    assert np.array_equal(view.dense(1), g.dense(1)) and np.array_equal(view.dense(2), g.dense(2))
