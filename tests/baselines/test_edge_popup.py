"""Supermask layers (Ramanujan et al., CVPR 2020): top-k masks, straight-through gradients, frozen weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from stronglth.baselines.edge_popup import (
    SupermaskConv2d,
    SupermaskLinear,
    full_sort_mask,
    kept_count,
    masked_weight,
    topk_mask,
)
from stronglth.errors import InvalidInputError


def test_straight_through_gradient_by_hand():
    """2 x 3 layer, 3 of 6 weights kept; L = sum_o c_o y_o, so dL/dW_eff[o, j] = c_o x_j, and every
    score, kept or not, gets dL/dW_eff * w * sign(s) (= dL/dW_eff * w where s > 0)."""
    layer = SupermaskLinear(3, 2, 0.5, weight=torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), dtype=torch.float64)
    with torch.no_grad():
        layer.scores.copy_(torch.tensor([[0.9, -0.1, 0.3], [-0.8, 0.2, 0.7]], dtype=torch.float64))
    # kept: the 3 largest |s|: 0.9 (0,0), -0.8 (1,0), 0.7 (1,2)
    assert layer.mask().tolist() == [[1, 0, 0], [1, 0, 1]]
    x = torch.tensor([[2.0, 3.0, -1.0]], dtype=torch.float64)
    c = torch.tensor([1.0, -2.0], dtype=torch.float64)
    y = layer(x)
    assert y.tolist() == [[2.0, 0.5 * 2.0 + -1.0 * -1.0]]  # only kept weights act
    (y[0] * c).sum().backward()
    # dL/dW_eff = c x^T = [[2, 3, -1], [-4, -6, 2]]; times w = [[2, -6, -3], [-2, -24, -2]]; times sign(s)
    assert layer.scores.grad.tolist() == [[2.0, 6.0, -3.0], [2.0, -24.0, -2.0]]
    assert layer.weight.grad is None


@given(st.integers(1, 6), st.integers(1, 6), st.floats(0.05, 1.0), st.integers(0, 2**16))
def test_straight_through_gradient_matches_autograd_of_effective_weight(n_in, n_out, density, seed):
    layer = SupermaskLinear(n_in, n_out, density, "kaiming_normal", seed=seed, dtype=torch.float64)
    x = torch.randn(5, n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    loss = lambda w: F.linear(x, w).tanh().square().sum()  # noqa: E731
    loss(layer.effective_weight()).backward()
    w_eff = (layer.mask() * layer.weight).detach().requires_grad_()
    loss(w_eff).backward()
    expected = w_eff.grad * layer.weight * torch.sign(layer.scores.detach())
    torch.testing.assert_close(layer.scores.grad, expected, rtol=1e-12, atol=1e-12)
    positive = layer.scores.detach() > 0  # where s > 0: exactly dL/dW_eff * w, the formula
    torch.testing.assert_close(layer.scores.grad[positive], (w_eff.grad * layer.weight)[positive], rtol=1e-12, atol=1e-12)


@given(st.integers(1, 40), st.integers(1, 40), st.floats(1e-3, 1.0), st.sampled_from(["random", "ties", "zeros"]))
def test_exact_kept_count(n_in, n_out, density, kind):
    n = n_in * n_out
    if n - int((1 - density) * n + 1e-9) < 1:
        with pytest.raises(InvalidInputError, match="keeps no weight"):
            kept_count(density, n)
        return
    k = kept_count(density, n)
    assert k == n - int((1 - density) * n + 1e-9)  # the public code's count, n - int((1 - density) n)
    assert abs(k - density * n) < 1 + 1e-9
    layer = SupermaskLinear(n_in, n_out, density, seed=1)
    if kind != "random":
        with torch.no_grad():
            layer.scores.fill_(0.0 if kind == "zeros" else 0.25)
            layer.scores[0, 0] = -0.25  # a tie in |s| across signs
    assert int(layer.mask().sum()) == k == layer.k
    assert set(layer.mask().unique().tolist()) <= {0.0, 1.0}


def test_conv_kept_count_and_top_scores():
    conv = SupermaskConv2d(3, 5, 3, 0.3, seed=2)
    n = 5 * 3 * 3 * 3
    assert int(conv.mask().sum()) == n - int(0.7 * n) == conv.k
    kept = conv.scores.detach().abs()[conv.mask().bool()]
    dropped = conv.scores.detach().abs()[~conv.mask().bool()]
    assert kept.min() >= dropped.max()
    assert torch.equal(conv.mask(), full_sort_mask(conv.scores, 0.3))
    assert conv(torch.zeros(2, 3, 6, 6)).shape == (2, 5, 4, 4)


@given(st.integers(1, 500), st.floats(1e-3, 1.0), st.integers(0, 1000))
def test_topk_equals_full_sort_on_distinct_scores(n, density, seed):
    scores = torch.randn(n, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(topk_mask(scores, kept_count(density, n)), full_sort_mask(scores, density))


def test_weights_never_change_in_training():
    layers = torch.nn.Sequential(SupermaskLinear(6, 8, 0.4, seed=0), torch.nn.ReLU(), SupermaskLinear(8, 2, 0.4, seed=1))
    frozen = [layers[0].weight.clone(), layers[2].weight.clone()]
    scores = [layers[0].scores.clone(), layers[2].scores.clone()]
    assert not layers[0].weight.requires_grad and layers[0].scores.requires_grad
    opt = torch.optim.SGD(layers.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)  # all parameters, weight decay on
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        loss = layers(torch.randn(16, 6, generator=g)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.equal(layers[0].weight, frozen[0]) and torch.equal(layers[2].weight, frozen[1])
    assert not torch.equal(layers[0].scores, scores[0]) and not torch.equal(layers[2].scores, scores[1])


def test_mask_follows_the_scores_in_eval_mode():
    layer = SupermaskLinear(4, 4, 0.25, seed=3)
    x = torch.eye(4)
    with torch.no_grad():
        before = layer(x).clone()
        layer.scores.mul_(-1).add_(torch.arange(16.0).view(4, 4))  # a new ranking
        after = layer(x)
    assert not torch.equal(before, after)
    torch.testing.assert_close(after, F.linear(x, layer.weight * topk_mask(layer.scores, 4)))


def test_weight_inits():
    fan_in, density = 50, 0.2
    uniform = SupermaskLinear(fan_in, 40, density, "uniform", seed=0).weight
    assert uniform.abs().max() <= 1 and uniform.min() < -0.9 and uniform.max() > 0.9
    signed = SupermaskLinear(fan_in, 40, density, "signed_constant", seed=0).weight
    assert torch.allclose(signed.abs(), torch.full_like(signed, math.sqrt(2 / fan_in)))
    assert 0.4 < (signed > 0).float().mean() < 0.6
    scaled = SupermaskLinear(fan_in, 40, density, "signed_constant", scale_fan=True, seed=0).weight
    torch.testing.assert_close(scaled, signed / math.sqrt(density))
    normal = SupermaskLinear(fan_in, 400, density, "kaiming_normal", seed=0).weight
    assert abs(normal.std().item() - math.sqrt(2 / fan_in)) < 0.01
    scores = SupermaskLinear(fan_in, 400, density, seed=0).scores
    assert scores.abs().max() <= 1 / math.sqrt(fan_in) and scores.abs().max() > 0.95 / math.sqrt(fan_in)


def test_seeds():
    a, b, c = (SupermaskLinear(5, 5, 0.5, "uniform", seed=s) for s in (7, 7, 8))
    assert torch.equal(a.weight, b.weight) and torch.equal(a.scores, b.scores)
    assert not torch.equal(a.weight, c.weight)


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5, float("nan"), True, "0.5"])
def test_density_is_a_fraction_kept(density):
    with pytest.raises(InvalidInputError, match="density"):
        SupermaskLinear(3, 3, density)


def test_unknown_init_and_bad_weight_shape():
    with pytest.raises(InvalidInputError, match="weight_init"):
        SupermaskLinear(3, 3, 0.5, "xavier")
    with pytest.raises(InvalidInputError, match="shape"):
        SupermaskLinear(3, 3, 0.5, weight=np.zeros((2, 3)))


def test_masked_weight_function_keeps_k():
    scores = torch.tensor([3.0, -4.0, 1.0, 2.0], requires_grad=True)
    w = torch.tensor([1.0, 1.0, 1.0, 1.0])
    out = masked_weight(scores, w, 2)
    assert out.tolist() == [1.0, 1.0, 0.0, 0.0]
    out.sum().backward()
    assert scores.grad.tolist() == [1.0, -1.0, 1.0, 1.0]


def test_kept_count_follows_the_public_code_not_round_half_to_even():
    assert kept_count(0.3, 35) == 11  # round(10.5) would keep 10; the public code keeps 35 - int(24.5) = 11
    assert all(kept_count(k / n, n) == k for n in (7, 35, 1000, 12345) for k in range(1, n + 1, max(1, n // 97)))


def test_a_density_that_keeps_no_weight_of_a_layer_is_refused():
    with pytest.raises(InvalidInputError, match="keeps no weight of a layer of 10 weights"):
        SupermaskLinear(5, 2, 1e-12, seed=0)  # (round() kept none already at 0.01; the public count keeps 1 there)
