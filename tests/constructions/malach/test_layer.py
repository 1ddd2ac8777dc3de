"""The layer lemma (docs/theory.md §3): construct/layer.py against the gadget and a direct evaluation."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from stronglth import RandomNetwork, random_target
from stronglth.constructions.malach import layer as layer_module
from stronglth.constructions.malach import scan as scan_module
from stronglth.constructions.malach.gadget import weight_gadget
from stronglth.constructions.malach.layer import approximate_layer


def layer_setup(d, widths, k, seed, layer=1):
    target = random_target(d, widths, seed=seed)
    network = RandomNetwork.for_target(target, [k] * len(widths), seed=seed)
    return target, network, target.weights[layer - 1]


@given(
    d=st.integers(1, 3),
    n_out=st.integers(1, 3),
    k=st.integers(1, 60),
    seed=st.integers(0, 2**32),
    rule=st.sampled_from(["best", "matching"]),
    chunk=st.integers(1, 17),
    piece=st.integers(1, 40),
)
def test_layer_choice_is_the_gadget_choice(d, n_out, k, seed, rule, chunk, piece):
    """Streaming in chunks and pieces (sizes drawn here) chooses what the gadget chooses on the
    whole block read densely: the least error, ties to the lowest index."""
    target, network, w = layer_setup(d, [n_out], k, seed)
    eta = 0.3
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan_module, "CHUNK", chunk)
        patch.setattr(scan_module, "FIRST_CHUNK", max(1, chunk // 3))
        patch.setattr(scan_module, "SUBCHUNK", max(1, chunk // 2))
        patch.setattr(scan_module, "BLOCK_VALUES", 2 * chunk)
        patch.setattr(layer_module, "PIECE", piece)
        result = approximate_layer(network, 1, w, block_size=k, eta=eta, rule=rule, negative_half=True)
    m1, m2 = network.dense(1), network.dense(2)
    chosen = {(o, int(h)) for o, h in zip(result.second[0], result.second[1], strict=False)}
    expected_units = set()
    for j in range(d):
        u = m1[j * k : (j + 1) * k, j]
        for o in range(n_out):
            choice = weight_gadget(u, m2[o, j * k : (j + 1) * k], w[o, j], rule=rule, eta=eta)
            for h, error, d_matrix in (
                (choice.positive, choice.error_positive, result.d_plus),
                (choice.negative, choice.error_negative, result.d_minus),
            ):
                if h is not None:
                    expected_units.add((o, j * k + h))
                if rule == "best" or h is not None:
                    assert d_matrix[o, j] == error
    if rule == "best":
        assert chosen == expected_units
    else:
        assert expected_units <= chosen  # failed events fall back to other units (best effort)


@given(
    d=st.integers(1, 4),
    widths=st.lists(st.integers(1, 4), min_size=2, max_size=2),
    k=st.integers(1, 80),
    seed=st.integers(0, 2**32),
    layer=st.sampled_from([1, 2]),
    negative_half=st.booleans(),
)
def test_layer_error_is_at_most_c_times_norm(d, widths, k, seed, layer, negative_half):
    """||z(y) - W y|| <= c ||y|| with z evaluated from the kept entries alone; y of any sign in
    layer 1 (input x), y >= 0 in layer 2 (after a ReLU)."""
    target, network, w = layer_setup(d, widths, k, seed, layer)
    result = approximate_layer(network, layer, w, block_size=k, eta=0.2, rule="best", negative_half=(layer == 1 or negative_half))
    t = 2 * layer - 1
    first = sp.csr_matrix((result.first[2], (result.first[0], result.first[1])), shape=network.shapes[t - 1])
    second = sp.csr_matrix((result.second[2], (result.second[0], result.second[1])), shape=network.shapes[t])
    y = np.random.default_rng(seed).standard_normal((50, w.shape[1]))
    if layer == 2:
        y = np.abs(y)
    z = (second @ np.maximum(first @ y.T, 0.0)).T
    gap = np.linalg.norm(z - y @ w.T, axis=1)
    assert np.all(gap <= result.constant * np.linalg.norm(y, axis=1) * (1 + 1e-9) + 1e-14)
    # z is also exactly W y + D+ s(y) + D- s(-y)
    exact = y @ w.T + np.maximum(y, 0) @ result.d_plus.T
    if result.d_minus is not None:
        exact += np.maximum(-y, 0) @ result.d_minus.T
    np.testing.assert_allclose(z, exact, rtol=1e-10, atol=1e-12)


def test_parallel_scan_equals_serial(monkeypatch):
    monkeypatch.setattr(layer_module, "PIECE", 500)
    target, network, w = layer_setup(3, [4], 2_000, 3)
    serial = approximate_layer(network, 1, w, block_size=2_000, eta=0.05, rule="best")
    with ProcessPoolExecutor(2) as pool:
        parallel = approximate_layer(network, 1, w, block_size=2_000, eta=0.05, rule="best", executor=pool)
    for a, b in zip(serial.first + serial.second, parallel.first + parallel.second, strict=False):
        assert np.array_equal(a, b)
    assert np.array_equal(serial.d_plus, parallel.d_plus) and np.array_equal(serial.d_minus, parallel.d_minus)


def test_shape_mismatch_is_refused():
    target, network, w = layer_setup(2, [3], 10, 0)
    from stronglth import InvalidInputError

    with pytest.raises(InvalidInputError, match="block size 11"):
        approximate_layer(network, 1, w, block_size=11, eta=0.1)
