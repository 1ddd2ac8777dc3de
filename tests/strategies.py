"""Hypothesis strategies and naive oracles shared by the tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from stronglth import RandomNetwork, Ticket

seeds = st.integers(min_value=0, max_value=2**63)


@st.composite
def small_networks(draw, max_depth: int = 3, max_width: int = 12) -> RandomNetwork:
    """A RandomNetwork with 2..2*max_depth small matrices."""
    n_mats = 2 * draw(st.integers(1, max_depth))
    dims = draw(st.lists(st.integers(1, max_width), min_size=n_mats + 1, max_size=n_mats + 1))
    shapes = [(dims[t + 1], dims[t]) for t in range(n_mats)]
    return RandomNetwork(shapes, seed=draw(seeds))


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
    """Naive oracle: materialise every M_t of G, zero the entries not kept, evaluate densely."""
    h = np.asarray(X, dtype=np.float64)
    for t in range(1, ticket.network.depth + 1):
        dense = ticket.network.dense(t)
        mask = np.zeros_like(dense, dtype=bool)
        kept = ticket.kept(t)
        mask[kept.rows, kept.cols] = True
        h = h @ (dense * mask).T
        if t < ticket.network.depth:
            h = np.maximum(h, 0.0)
    return h


def spec_line(seed: int, t: int, line: int, size: int) -> np.ndarray:
    """The generator spec of DESIGN.md, written out literally (independent of the package)."""
    generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, t, line])))
    return generator.uniform(-1.0, 1.0, size)


@st.composite
def admissible_targets(draw, max_d: int = 3, max_width: int = 3, max_depth: int = 3):
    """A small admissible target from any registered family."""
    from stronglth import TARGET_FAMILIES, random_target

    d = draw(st.integers(1, max_d))
    widths = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_depth))
    family = draw(st.sampled_from(sorted(TARGET_FAMILIES)))
    return random_target(d, widths, seed=draw(st.integers(0, 2**32)), family=family)


def unit_sphere(d: int, n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)
