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
