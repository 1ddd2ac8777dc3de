"""One block's product weights (Orseau et al. 2020; docs/theory.md §13): constructions/orseau/block.py.

Oracles: the block's decomposition written out unit by unit in plain Python (levels from the float
powers, the first unit of each level, the greedy digit rule), and the block evaluated directly as a
ReLU gadget ``sum_h v_oh s(u_h x)`` at ``x = +1`` and ``x = -1``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import InvalidInputError
from stronglth.bounds import ORSEAU_BASE, orseau_levels, orseau_start_level, orseau_units_per_weight_bound
from stronglth.constructions.orseau.block import SIDES, decompose_block
from stronglth.constructions.orseau.decomposition import level_of

BETA = ORSEAU_BASE


def naive_level(m: float) -> int:
    k = 1
    while not (BETA**k <= m <= BETA ** (k - 1)):
        k += 1
    return k


def naive_side(u, v_row, w, side, levels):
    """Chosen units (sorted) and the error of one output and side, unit by unit."""
    tau = side * w
    first = {}
    for h in range(len(u)):
        q = v_row[h] * abs(u[h])
        if side * u[h] > 0 and q * tau > 0 and 0 < abs(q) <= 1.0:
            first.setdefault(naive_level(abs(q)), h)
    r, chosen = abs(tau), []
    for k in range(1, levels + 1):
        if k in first and abs(v_row[first[k]] * u[first[k]]) <= r:
            r -= abs(v_row[first[k]] * abs(u[first[k]]))
            chosen.append(first[k])
    return sorted(chosen), first


def hyperbolic(rng, size, a):
    return rng.choice([-1.0, 1.0], size) * a ** rng.random(size)


@st.composite
def blocks(draw):
    k, n_out = draw(st.integers(1, 40)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = draw(st.sampled_from([0.5, 0.1, 0.01]))
    u, v = hyperbolic(rng, k, a), hyperbolic(rng, (n_out, k), a)
    if draw(st.booleans()):
        u[rng.random(k) < 0.2] = 0.0  # units on neither side
    w = draw(st.lists(st.floats(-1.0, 1.0), min_size=n_out, max_size=n_out))
    return u, v, np.array(w), draw(st.floats(1e-4, 0.5))


@given(block=blocks())
def test_block_matches_the_unit_by_unit_reference_and_the_gadget(block):
    u, v, w, eta = block
    levels = orseau_levels(eta)
    results = decompose_block(u, v, w, eta=eta, levels=levels)
    assert [r.side for r in results] == list(SIDES)
    x = np.array([1.0, -1.0])
    for result in results:
        for o in range(w.size):
            chosen, first = naive_side(u, v[o], w[o], result.side, levels)
            assert np.flatnonzero(result.chosen[o]).tolist() == chosen
            # the gadget evaluated directly: g(1) = A on P units, g(-1) = B on N units
            g = sum(v[o, h] * np.maximum(u[h] * x, 0.0) for h in chosen) if chosen else np.zeros(2)
            measured = g[0] - w[o] if result.side > 0 else g[1] + w[o]
            assert result.errors[o] == pytest.approx(measured, rel=1e-12, abs=1e-15)
            start = orseau_start_level(abs(w[o])) if w[o] != 0 else levels + 1
            missing = [k for k in range(start, levels + 1) if k not in first]
            assert result.missing[o] == (missing[0] if missing else 0)
            if not missing:  # the lemma: every needed level covered -> error <= beta^(K-1) <= eta
                assert abs(result.errors[o]) <= BETA ** (levels - 1) + 1e-14
            if w[o] != 0:
                assert len(chosen) <= orseau_units_per_weight_bound(eta, abs(w[o]), sides=1)
            else:
                assert chosen == []


@given(block=blocks())
def test_a_unit_serves_one_side_only_and_at_most_one_unit_per_level(block):
    u, v, w, eta = block
    levels = orseau_levels(eta)
    plus, minus = decompose_block(u, v, w, eta=eta, levels=levels)
    assert not np.any(plus.chosen[:, u <= 0]) and not np.any(minus.chosen[:, u >= 0])
    for result in (plus, minus):
        for o in range(w.size):
            kept = np.abs(v[o] * u)[result.chosen[o]]
            taken_levels = level_of(kept).tolist()  # each level offers one unit: distinct levels, all <= K
            assert len(set(taken_levels)) == kept.size and all(1 <= k <= levels for k in taken_levels)


def test_zero_weight_keeps_nothing_and_bad_shapes_are_package_errors():
    u, v = np.array([0.5, -0.5]), np.array([[0.9, 0.9]])
    for result in decompose_block(u, v, np.array([0.0]), eta=0.1, levels=5):
        assert not result.chosen.any() and result.errors.tolist() == [0.0] and result.missing.tolist() == [0]
    with pytest.raises(InvalidInputError, match="need u"):
        decompose_block(u, v.T, np.array([0.0]), eta=0.1, levels=5)
    with pytest.raises(InvalidInputError, match="sides"):
        decompose_block(u, v, np.array([0.0]), eta=0.1, levels=5, sides=(2,))
