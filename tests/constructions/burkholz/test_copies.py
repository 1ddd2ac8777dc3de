"""The copy lemma of the depth l + 1 construction (Burkholz 2022; docs/theory.md §14.2).

Oracles: brute force over every subset of a block, and G's dense matrix."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork
from stronglth.constructions.burkholz.copies import copy_events, solve_copy_layer


def brute_force(values: np.ndarray, target: float) -> list[tuple[int, float]]:
    """(size, |error|) of every subset, the error summed in index order from 0.0."""
    out = []
    for size in range(values.size + 1):
        for subset in itertools.combinations(range(values.size), size):
            total = 0.0
            for h in subset:
                total += values[h]
            out.append((size, abs(total - target)))
    return out


@st.composite
def copy_problems(draw):
    n_out, n_in, copies, k = (draw(st.integers(1, m)) for m in (2, 3, 3, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.uniform(-1, 1, (n_out * copies, n_in, k))
    weights = rng.uniform(-1, 1, (n_out, n_in)) / np.sqrt(n_in)
    return values, weights, copies, draw(st.sampled_from([1e-3, 0.03, 0.2]))


@settings(deadline=None)
@given(copy_problems())
def test_least_error_copies_match_brute_force(problem):
    values, weights, copies, eta = problem
    mask, d = copy_events(values, weights, copies, eta, objective="least_error")
    for r, j in itertools.product(range(values.shape[0]), range(values.shape[1])):
        target = weights[r // copies, j]
        best = min(e for _, e in brute_force(values[r, j], target))
        assert abs(d[r, j]) <= best + 1e-12
        chosen = 0.0
        for h in np.flatnonzero(mask[r, j]):
            chosen += values[r, j, h]
        assert d[r, j] == chosen - target  # the reported error is the kept subset's own


@settings(deadline=None)
@given(copy_problems())
def test_sparsest_copies_keep_the_fewest_values_within_eta(problem):
    values, weights, copies, eta = problem
    mask, d = copy_events(values, weights, copies, eta, objective="sparsest")
    for r, j in itertools.product(range(values.shape[0]), range(values.shape[1])):
        subsets = brute_force(values[r, j], weights[r // copies, j])
        within = [size for size, e in subsets if e <= eta * (1 - 1e-9)]
        if within:
            assert abs(d[r, j]) <= eta
            assert mask[r, j].sum() <= min(within)
        elif not any(e <= eta * (1 + 1e-9) for _, e in subsets):
            assert abs(d[r, j]) > eta  # a failed event reports an error above eta


def test_max_candidates_offers_only_the_first_values():
    rng = np.random.default_rng(3)
    values = rng.uniform(-1, 1, (2, 2, 9))
    mask, _ = copy_events(values, rng.uniform(-0.5, 0.5, (1, 2)), 2, 1e-6, objective="least_error", max_candidates=4)
    assert not mask[:, :, 4:].any()


@settings(deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(0, 2**32), st.sampled_from([2, 3]))
def test_copy_layer_keeps_gs_own_values_and_reports_its_errors(n_out, n_in, copies, k, seed, t):
    rows, cols = n_out * copies, n_in * k
    shapes = [(cols, 1), (rows, cols)] if t == 2 else [(cols, 1), (cols, cols), (rows, cols)]
    network = RandomNetwork(shapes, seed=seed)
    weights = np.random.default_rng(seed).uniform(-1, 1, (n_out, n_in)) / np.sqrt(n_in)
    layer = solve_copy_layer(network, t, 2, weights, k, copies, 0.05)
    dense = network.dense(t)
    r, c, v = layer.entries
    assert np.array_equal(v, dense[r, c])  # bit for bit: the values are G's
    sums = np.zeros((rows, n_in))
    np.add.at(sums, (r, c // k), v)
    assert np.allclose(layer.d, sums - np.repeat(weights, copies, axis=0), atol=1e-12)
    failed = {(a, b) for a, b, _ in layer.failures}
    assert failed == {(a, b) for a, b in zip(*np.nonzero(np.abs(layer.d) > 0.05), strict=True)}
