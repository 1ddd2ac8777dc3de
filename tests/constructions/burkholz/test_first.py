"""The first layer of the depth l + 1 construction (Burkholz 2022; docs/theory.md §14.2, §14.6 for the
leaky ReLU): univariate units and product subset sums. Oracle: G's dense first two matrices and the
gadget identity, evaluated densely."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork
from stronglth.constructions.burkholz.certified import first_layer_errors
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


def leaky(h: np.ndarray, a: float) -> np.ndarray:
    """``s_a(t) = max(t, a t)``, written out (independent of the package)."""
    return np.where(h >= 0, h, a * h)


@settings(deadline=None, max_examples=60)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 8),
    st.integers(0, 2**32),
    st.sampled_from([0.01, 0.1, 0.5]) | st.floats(0.0, 0.99),
)
def test_leaky_first_layer_computes_w_x_up_to_its_errors(n_out, d, copies, k, seed, a):
    # docs/theory.md §14.6: with units s_a(u_h x_j), row r of M_2 computes W x + D+ s_a(x) + D- s_a(-x),
    # D+ = A - W / (1 + a), D- = B + W / (1 + a); the oracle is the dense leaky evaluation of the kept layers
    weights = np.random.default_rng(seed).uniform(-1, 1, (n_out, d)) / np.sqrt(d)
    layer = solve_first_layer(weights, k, copies, seed, 0.05, negative_slope=a)
    g = first_layer_network(d, k, n_out * copies, seed)
    m1, m2 = g.dense(1), g.dense(2)
    units, inputs, us = layer.first
    rows, hs, vs = layer.second
    assert np.array_equal(us, m1[units, inputs]) and np.array_equal(units // k, inputs)
    assert np.array_equal(vs, m2[rows, hs])  # the kept values are G's
    kept1, kept2 = np.zeros_like(m1), np.zeros_like(m2)
    kept1[units, inputs] = us
    kept2[rows, hs] = vs
    target = np.repeat(weights, copies, axis=0)
    d_first = first_layer_errors(
        SimpleNamespace(rows=units, cols=inputs, vals=us), SimpleNamespace(rows=rows, cols=hs, vals=vs), weights, copies,
        negative_slope=a,
    )  # fmt: skip
    assert np.allclose(d_first, np.hstack((layer.d_plus, layer.d_minus)), atol=1e-12)  # the bound reads the solver's errors
    x = np.random.default_rng(seed + 1).uniform(-1, 1, (6, d))
    ticket = leaky(x @ kept1.T, a) @ kept2.T
    gadget = x @ target.T + leaky(x, a) @ layer.d_plus.T + leaky(-x, a) @ layer.d_minus.T
    assert np.allclose(ticket, gadget, atol=1e-12)
    z = np.hstack((leaky(x, a), leaky(-x, a)))  # ||[s_a(x); s_a(-x)]|| = sqrt(1 + a^2) ||x||
    assert np.allclose(np.linalg.norm(z, axis=1), np.sqrt(1 + a * a) * np.linalg.norm(x, axis=1), rtol=1e-12)
    solved = np.abs(np.hstack((layer.d_plus, layer.d_minus))) <= 0.05
    assert solved.all() == (not layer.failures)  # every event within eta, or a failure is reported


def test_leaky_sides_approximate_w_over_one_plus_a():
    # A ~ W / (1 + a), B ~ -W / (1 + a): the unique coefficients with A s_a(x) + B s_a(-x) = W x
    weights = np.array([[0.6, -0.4]])
    for a in (0.0, 0.1, 0.5):
        layer = solve_first_layer(weights, 60, 1, 0, 1e-2, negative_slope=a)  # seed 0: no event fails
        assert not layer.failures
        units, inputs, us = layer.first
        rows, hs, vs = layer.second
        u_of = dict(zip(units.tolist(), us.tolist(), strict=True))
        big_a, big_b = np.zeros(2), np.zeros(2)
        for h, v in zip(hs.tolist(), vs.tolist(), strict=True):
            if u_of[h] > 0:
                big_a[h // 60] += v * u_of[h]
            else:
                big_b[h // 60] -= v * u_of[h]
        assert np.all(np.abs(big_a - weights[0] / (1 + a)) <= 1e-2) and np.all(np.abs(big_b + weights[0] / (1 + a)) <= 1e-2)
