"""Test helpers: the public strategies of :mod:`stronglth.testing` (one source of truth), plus
naive oracles and random-mask tickets that only the package's own tests need."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from stronglth import RandomNetwork, Ticket
from stronglth.testing import admissible_targets, random_networks  # noqa: F401  (re-exported for the tests)

seeds = st.integers(min_value=0, max_value=2**63)  # the generator takes any non-negative seed: test big ones too


def small_networks(max_depth: int = 3, max_width: int = 12) -> st.SearchStrategy[RandomNetwork]:
    return random_networks(max_depth=max_depth, max_width=max_width)


@st.composite
def small_tickets(draw, max_depth: int = 3, max_width: int = 12) -> Ticket:
    """A ticket keeping a random subset (density drawn in [0, 1]) of each matrix of a small G."""
    network = draw(small_networks(max_depth, max_width))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.floats(0.0, 1.0))
    positions = []
    for rows, cols in network.shapes:
        keep = rng.random((rows, cols)) < density
        positions.append(np.nonzero(keep))
    return Ticket.from_positions(network, positions)


def dense_masked_forward(ticket: Ticket, X: np.ndarray) -> np.ndarray:
    """Naive oracle: materialise every M_t of G, zero the entries not kept, evaluate densely (with G's
    activation: the ReLU, or s_a(t) = max(t, a t) for a leaky G)."""
    a = ticket.network.negative_slope
    h = np.asarray(X, dtype=np.float64)
    for t in range(1, ticket.network.depth + 1):
        dense = ticket.network.dense(t)
        mask = np.zeros_like(dense, dtype=bool)
        kept = ticket.kept(t)
        mask[kept.rows, kept.cols] = True
        h = h @ (dense * mask).T
        if t < ticket.network.depth:
            h = np.maximum(h, 0.0) if a == 0 else np.where(h >= 0, h, a * h)
    return h


def spec_line(seed: int, t: int, line: int, size: int) -> np.ndarray:
    """The generator spec of docs/theory.md §7, written out literally (independent of the package)."""
    generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, t, line])))
    return generator.uniform(-1.0, 1.0, size)


def unit_sphere(d: int, n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@st.composite
def biased_tickets(draw, negative_slopes=None):
    """A ticket of a small G of depth 1-4 with bias lines on some matrices, random masks of its
    weights and bias entries, any distributions, an output scale, and G's slope drawn from
    ``negative_slopes`` (a strategy; None: the ReLU)."""
    depth = draw(st.integers(1, 4))
    dims = draw(st.lists(st.integers(1, 6), min_size=depth + 1, max_size=depth + 1))
    specs = draw(st.lists(st.sampled_from(["uniform", "normal", "hyperbolic(0.01)"]), min_size=depth, max_size=depth))
    bias_specs = draw(st.lists(st.sampled_from([None, "uniform", "normal"]), min_size=depth, max_size=depth))
    network = RandomNetwork(
        list(zip(dims[1:], dims[:-1], strict=True)),
        seed=draw(st.integers(0, 2**32)),
        distributions=specs,
        biases=bias_specs,
        negative_slope=0.0 if negative_slopes is None else draw(negative_slopes),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    density = draw(st.floats(0.0, 1.0))
    positions = [np.nonzero(rng.random(shape) < density) for shape in network.shapes]
    bias_positions = [
        None if b is None else np.flatnonzero(rng.random(shape[0]) < density)
        for b, shape in zip(bias_specs, network.shapes, strict=True)
    ]
    scale = draw(st.sampled_from([1.0, 0.25, 3.0]))
    return Ticket.from_positions(network, positions, bias_positions=bias_positions, output_scale=scale)


def dense_biased_forward(ticket: Ticket, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: every M_t and bias vector of G dense, entries not kept zeroed, G's activation
    ``np.where(z > 0, z, a z)`` (the ReLU for a = 0), times ``c``; and the magnitude of every partial
    sum (``|M_t|``, ``|b|`` on ``|x|``), for tolerances."""
    a, h, m = ticket.network.negative_slope, np.asarray(X, dtype=np.float64), np.abs(X)
    for t in range(1, ticket.network.depth + 1):
        dense, kept = ticket.network.dense(t), ticket.kept(t)
        mask = np.zeros_like(dense, dtype=bool)
        mask[kept.rows, kept.cols] = True
        h, m = h @ (dense * mask).T, m @ np.abs(dense * mask).T
        if ticket.network.biases[t - 1] is not None:
            bias, kept_bias = ticket.network.bias_vector(t), ticket.kept_biases(t)
            bias_mask = np.zeros(bias.size, dtype=bool)
            bias_mask[kept_bias.rows] = True
            h, m = h + bias * bias_mask, m + np.abs(bias * bias_mask)
        if t < ticket.network.depth:
            h = np.where(h > 0, h, a * h)
    return ticket.output_scale * h, ticket.output_scale * m
