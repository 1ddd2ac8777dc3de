"""SynFlow's conservation law, SNIP's scores against a direct computation, exact densities at init."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from stronglth.baselines.edge_popup import kept_count
from stronglth.baselines.models import conv_net
from stronglth.pruning.at_init import magnitude, random_pruning, snip, synflow, synflow_scores
from stronglth.pruning.masks import prunable_layers, random_masks

from ._tiny import tiny_data, tiny_mlp


def _synflow_R(model, shape, masks=None):
    """R = 1^T f(1) of the network with |w| (and the masks), computed directly."""
    net = [layer.weight.detach().double().abs() for layer in prunable_layers(model)]
    if masks is not None:
        net = [w * m for w, m in zip(net, masks, strict=True)]
    h = torch.ones(shape, dtype=torch.float64).reshape(-1)
    for w in net:
        h = w @ h  # all entries >= 0: the ReLUs are the identity
    return float(h.sum())


@given(st.lists(st.integers(1, 12), min_size=1, max_size=3), st.integers(0, 50), st.booleans())
def test_synflow_scores_sum_to_R_in_every_layer(widths, seed, masked):
    """Tanaka et al. (Theorem 2): every layer's synaptic-flow scores sum to the same R (bias-free, no batch norm)."""
    model = tiny_mlp(seed=seed, widths=widths, d=5, classes=2)
    masks = random_masks([tuple(m.weight.shape) for m in prunable_layers(model)], 0.7, seed=seed) if masked else None
    scores = synflow_scores(model, (5,), masks)
    R = _synflow_R(model, (5,), masks)
    for s in scores:
        assert float(s.sum()) == pytest.approx(R, rel=1e-9, abs=1e-300)


def test_synflow_conservation_in_a_convolutional_net():
    model = conv_net(2, in_channels=1, image_size=8, num_classes=3, width=0.1, mode="dense", batch_norm=False, seed=0)
    sums = [float(s.sum()) for s in synflow_scores(model, (1, 8, 8))]
    assert max(sums) == pytest.approx(min(sums), rel=1e-9)


def test_synflow_prunes_to_the_exact_density_iteratively():
    model = tiny_mlp(widths=(20, 10))
    result = synflow(model, None, 0.1, iterations=5, input_shape=(12,), device="cpu")
    total = sum(m.weight.numel() for m in prunable_layers(model))
    assert sum(result.kept) == kept_count(0.1, total) and result.scope == "global"
    layer = synflow(model, None, 0.1, scope="layer", iterations=3, input_shape=(12,), device="cpu")
    assert layer.kept == [kept_count(0.1, m.weight.numel()) for m in prunable_layers(model)]


def test_snip_scores_are_gradient_times_weight():
    model, data = tiny_mlp(), tiny_data()
    result = snip(model, data, 0.3, seed=0, batch_size=len(data.y_train), scope="layer", device="cpu")
    out = model(data.x_train)
    loss = torch.nn.functional.cross_entropy(out, data.y_train)
    layers = prunable_layers(model)
    grads = torch.autograd.grad(loss, [m.weight for m in layers])
    for g, m, mask in zip(grads, layers, result.masks, strict=True):
        score = (g * m.weight).abs().detach()
        assert float(score[mask].min()) >= float(score[~mask].max())


def test_magnitude_and_random_keep_exact_counts_and_initial_weights():
    model = tiny_mlp()
    sizes = [m.weight.numel() for m in prunable_layers(model)]
    for result in (magnitude(model, None, 0.25), random_pruning(model, None, 0.25, seed=4)):
        assert result.kept == [kept_count(0.25, n) for n in sizes]
        for layer, w, m in zip(prunable_layers(result.model), prunable_layers(model), result.masks, strict=True):
            assert torch.equal(layer.weight, w.weight * m)
    big = magnitude(model, None, 0.25, scope="global")
    assert sum(big.kept) == kept_count(0.25, sum(sizes))
