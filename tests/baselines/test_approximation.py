"""Edge-popup approximating a target inside G (stronglth.baselines.approximation), measured like the constructions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from stronglth import RandomNetwork, ReLUNetwork, random_target
from stronglth.baselines.approximation import (
    approximate_target,
    ball_points,
    compact,
    computes_zero,
    construction_errors,
    masked_network,
)
from stronglth.baselines.edge_popup import supermask_layers
from stronglth.errors import InvalidInputError
from stronglth.verification import sampled_error


def test_ball_points_lie_in_the_ball_and_fill_it():
    x = ball_points(20_000, 3, generator=torch.Generator().manual_seed(0))
    norms = x.norm(dim=1)
    assert norms.max() <= 1 + 1e-12
    assert abs(float((norms <= 0.5).double().mean()) - 0.125) < 0.01  # volume fraction 0.5^3


@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.floats(0.1, 0.9), st.integers(0, 1000))
def test_compact_keeps_the_function(widths, sparsity, seed):
    rng = np.random.default_rng(seed)
    dims = [3] + widths + [2]
    weights = [rng.normal(size=(o, i)) * (rng.random((o, i)) > sparsity) for i, o in zip(dims[:-1], dims[1:], strict=False)]
    small = compact(weights)
    x = rng.normal(size=(50, 3))
    h = x
    for i, w in enumerate(weights):
        h = h @ w.T if i == len(weights) - 1 else np.maximum(h @ w.T, 0)
    np.testing.assert_allclose(small.forward(x), h, rtol=1e-12, atol=1e-12)
    for w in small.weights[:-1]:
        assert np.all(np.any(w != 0, axis=1))  # no dead unit left


def test_approximate_target_exports_a_true_subnetwork_of_g():
    target = random_target(2, [3, 1], seed=1)
    result = approximate_target(
        target, block_sizes=[6, 4], density=0.4, seed=3, steps=60, samples=2000, weight_scale=1.0, device="cpu", progress=False
    )
    assert result.output_factor == 1.0
    network = RandomNetwork.for_target(target, [6, 4], seed=3)
    layers = supermask_layers(result.model)
    assert result.total == network.parameter_count and result.kept == sum(layer.k for layer in layers)
    assert result.layer_kept == [r * c - int(0.6 * r * c + 1e-9) for r, c in network.shapes]  # the public code's count
    full = [np.where(layer.mask().numpy().astype(bool), network.dense(t), 0.0) for t, layer in enumerate(layers, start=1)]
    kept_values = np.concatenate([w[w != 0] for w in result.network.weights])
    all_values = np.concatenate([w[w != 0] for w in full])
    assert set(kept_values.tolist()) <= set(all_values.tolist())  # G's values, bit for bit
    x = np.random.default_rng(0).normal(size=(100, 2))
    with torch.no_grad():
        model_out = result.model(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_allclose(result.network.forward(x), model_out, rtol=1e-4, atol=1e-5)
    assert result.errors["sampled_error"] == sampled_error(result.network, target, n=2000, seed=3)[0]
    assert result.errors["sampled_error"] <= result.errors["adversarial_error"] + 1e-12
    assert masked_network(result.model, network).dims == result.network.dims


def test_edge_popup_and_construction_in_the_same_g():
    target = random_target(2, [2, 1], seed=0)
    ticket, row = construction_errors(target, block_sizes=[8, 8], seed=5, samples=2000)
    assert ticket.network == RandomNetwork.for_target(target, [8, 8], seed=5)  # the same G
    assert row["density"] == ticket.density and row["nnz"] == ticket.nnz
    assert row["sampled_error"] <= row["adversarial_error"] + 1e-12 <= row["certified_error"] + 1e-9
    result = approximate_target(
        target, block_sizes=[8, 8], density=row["layer_density"], seed=5, steps=30, samples=2000, progress=False
    )
    assert result.layer_kept == [len(ticket.kept(t)) for t in range(1, 5)]  # the construction's own kept counts
    assert result.row()["g_parameters"] == row["g_parameters"]


def test_approximate_target_checks_its_input():
    with pytest.raises(InvalidInputError, match="TargetNetwork"):
        approximate_target(np.eye(2), block_sizes=[2], density=0.5, seed=0)
    leaky = random_target(2, [3, 1], seed=0, negative_slope=0.5)  # a ReLU G would be trained on it silently
    with pytest.raises(InvalidInputError, match=r"negative_slope=0\.5.*ReLU G.*method='burkholz'"):
        approximate_target(leaky, block_sizes=[2, 2], density=0.5, seed=0)


def test_calibrated_scaling_is_a_constant_times_a_subnetwork_of_g():
    target = random_target(2, [3, 1], seed=2)
    result = approximate_target(
        target,
        block_sizes=[5, 5],
        density=0.5,
        seed=4,
        steps=20,
        samples=1000,
        weight_scale="calibrated",
        adversarial=False,
        progress=False,
    )
    network = RandomNetwork.for_target(target, [5, 5], seed=4)
    scales = result.weight_scales
    assert len(scales) == 4 and result.output_factor == pytest.approx(np.prod(scales))
    assert scales[0] == pytest.approx(np.sqrt(6 / (0.5 * 2)))  # Kaiming's variance for the kept U[-1, 1] weights
    for t, (w, scale) in enumerate(zip(result.network.weights, scales, strict=False), start=1):
        values = w[w != 0] / scale
        g = network.dense(t).ravel()
        assert all(np.isclose(g, v, rtol=1e-12, atol=0).any() for v in values)


def test_a_mask_that_computes_zero_is_flagged():
    dead = ReLUNetwork([np.ones((3, 2)), np.zeros((1, 3))])
    assert computes_zero(dead) and computes_zero(ReLUNetwork([np.ones((0, 2)), np.ones((1, 0))]))
    assert not computes_zero(ReLUNetwork([np.ones((3, 2)), np.ones((1, 3))]))
    target = random_target(2, [2, 1], seed=0)
    result = approximate_target(target, block_sizes=[4, 4], density=0.5, seed=0, steps=5, samples=200, progress=False)
    assert result.row()["zero_network"] == computes_zero(result.network)
