"""One layer from a hyperbolic G (Orseau et al. 2020; docs/theory.md §13): constructions/orseau/layer.py.

Oracle: G's matrices materialised densely and every block decomposed one at a time from them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork, bounds
from stronglth.constructions.orseau import layer as layer_module
from stronglth.constructions.orseau.block import SIDES, decompose_block
from stronglth.constructions.orseau.layer import decompose_layer


@settings(max_examples=15)
@given(
    n_in=st.integers(1, 3),
    n_out=st.integers(1, 3),
    k=st.integers(1, 60),
    a=st.sampled_from([0.3, 0.05, 0.01]),
    eta=st.floats(0.005, 0.3),
    negative_half=st.booleans(),
    seed=st.integers(0, 2**32),
    chunk=st.sampled_from([1, 7, 1 << 22]),
    data=st.data(),
)
def test_layer_matches_blocks_decomposed_from_the_dense_g(n_in, n_out, k, a, eta, negative_half, seed, chunk, data):
    w = np.array(data.draw(st.lists(st.floats(-1.0, 1.0), min_size=n_out * n_in, max_size=n_out * n_in))).reshape(n_out, n_in)
    spec = f"hyperbolic({a!r})"
    network = RandomNetwork([(n_in * k, n_in), (n_out, n_in * k)], seed=seed, distributions=[spec, spec])
    original = layer_module.CHUNK_VALUES
    layer_module.CHUNK_VALUES = chunk  # runs of outputs of any length give the same layer
    try:
        layer = decompose_layer(network, 1, w, k, eta=eta, negative_half=negative_half)
    finally:
        layer_module.CHUNK_VALUES = original
    m1, m2 = network.dense(1), network.dense(2)
    levels = bounds.orseau_levels(eta)
    sides = SIDES if negative_half else SIDES[:1]
    kept_second, kept_units = set(), set()
    for j in range(n_in):
        u, v = m1[j * k : (j + 1) * k, j], m2[:, j * k : (j + 1) * k]
        for result in decompose_block(u, v, w[:, j], eta=eta, levels=levels, sides=sides):
            errors = layer.d_plus if result.side > 0 else layer.d_minus
            assert np.array_equal(errors[:, j], result.errors)
            o, h = np.nonzero(result.chosen)
            kept_second |= {(int(x), j * k + int(y)) for x, y in zip(o, h, strict=True)}
            kept_units |= {j * k + int(y) for y in h}
    assert set(zip(layer.second[0].tolist(), layer.second[1].tolist(), strict=True)) == kept_second
    assert layer.first[0].tolist() == sorted(kept_units) and np.all(layer.first[1] == layer.first[0] // k)
    assert np.array_equal(layer.first[2], m1[layer.first[0], layer.first[1]])
    assert np.array_equal(layer.second[2], m2[layer.second[0], layer.second[1]])
    assert layer.d_minus is None if not negative_half else layer.d_minus.shape == w.shape
    expected = bounds.layer_error_constant(layer.d_plus, layer.d_minus)
    assert layer.constant == expected
    bad = {(o, j) for o, j, _side, err, _lev in layer.failures}
    for o in range(n_out):
        for j in range(n_in):
            worst = max(abs(layer.d_plus[o, j]), abs(layer.d_minus[o, j]) if layer.d_minus is not None else 0.0)
            assert ((o, j) in bad) == (worst > eta)
    assert layer.units.sum() == len(kept_second)
