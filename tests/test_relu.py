"""ReLUNetwork with a leaky ReLU ``s_a(t) = max(t, a t)`` (docs/theory.md §14.6): forward and
``relu_equivalent()`` against a naive reference, the torch round trip (``nn.LeakyReLU``), and the
ReLU path (``a = 0``) unchanged."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from stronglth import InvalidInputError, ReLUNetwork, TargetNetwork

slopes = st.one_of(st.sampled_from([0.0, 0.01, 0.2, 0.5, 0.999]), st.floats(0.0, 1.0, exclude_max=True))


@st.composite
def leaky_networks(draw, slope=slopes):
    """Random weights of depth 1-4, each layer with or without a bias, an output scale and a slope."""
    dims = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(dims[:-1], dims[1:], strict=True)]
    biases = [rng.standard_normal(n_out) if draw(st.booleans()) else None for n_out in dims[1:]]
    if all(b is None for b in biases):
        biases = None
    scale = draw(st.sampled_from([1.0, 0.5, 3.0]))
    return ReLUNetwork(weights, biases, output_scale=scale, negative_slope=draw(slope))


def naive_leaky(network: ReLUNetwork, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: point by point, unit by unit, ``np.where(z > 0, z, a z)``; and the magnitude ``M`` of
    every partial sum (the same network with ``|W|``, ``|b|`` on ``|x|``), the scale of rounding errors."""
    a, out, bound = network.negative_slope, [], []
    for point in x:
        h, m = list(point), [abs(v) for v in point]
        for i, (w, b) in enumerate(zip(network.weights, network.biases, strict=True)):
            z = [sum(w[o, j] * h[j] for j in range(len(h))) + b[o] for o in range(w.shape[0])]
            m = [sum(abs(w[o, j]) * m[j] for j in range(len(m))) + abs(b[o]) for o in range(w.shape[0])]
            h = [float(np.where(v > 0, v, a * v)) for v in z] if i < network.depth - 1 else z
        out.append([network.output_scale * v for v in h])
        bound.append([network.output_scale * v for v in m])
    return np.array(out), np.array(bound)


def assert_close(got: np.ndarray, expected: np.ndarray, magnitude: np.ndarray) -> None:
    """Equal up to 1e-12 of the partial sums' magnitude (rounding: a few ulps of it at these widths)."""
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= 1e-12 * magnitude + 1e-300), np.max(np.abs(got - expected) - 1e-12 * magnitude)


def points(d: int, seed: int, n: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, d))


@given(network=leaky_networks(), seed=st.integers(0, 2**32))
def test_leaky_forward_matches_the_naive_reference(network, seed):
    x = points(network.d, seed)
    expected, magnitude = naive_leaky(network, x)
    assert_close(network.forward(x), expected, magnitude)


@given(network=leaky_networks(), seed=st.integers(0, 2**32))
def test_relu_equivalent_is_a_relu_network_computing_the_same_function(network, seed):
    plain = network.relu_equivalent()
    a = network.negative_slope
    assert plain.negative_slope == 0.0 and plain.output_scale == network.output_scale
    assert plain.has_biases == network.has_biases
    if a == 0.0:
        assert plain is network
    else:
        assert plain.dims == (network.d, *(2 * n for n in network.dims[1:-1]), network.dims[-1])
    x = points(network.d, seed)
    expected, magnitude = naive_leaky(network, x)
    assert_close(plain.forward(x), expected, magnitude)


@given(network=leaky_networks(slope=st.just(0.0)), seed=st.integers(0, 2**32))
def test_the_relu_path_is_todays_arithmetic_bit_for_bit(network, seed):
    x = points(network.d, seed)
    h = x
    for i, (w, b, given_bias) in enumerate(zip(network.weights, network.biases, network.bias_layers, strict=True)):
        h = h @ w.T
        if given_bias:
            h += b
        if i < network.depth - 1:
            h = np.maximum(h, 0.0)
    if network.output_scale != 1.0:
        h = h * network.output_scale
    assert np.array_equal(network.forward(x), h)
    module = network.to_torch()
    assert not any(isinstance(m, nn.LeakyReLU) for m in module)
    assert sum(isinstance(m, nn.ReLU) for m in module) == network.depth - 1
    assert "negative_slope" not in repr(network)


@given(network=leaky_networks(), seed=st.integers(0, 2**32), dtype=st.sampled_from([None, "float32"]))
def test_torch_round_trip_keeps_weights_biases_scale_and_slope(network, seed, dtype):
    module = network.to_torch(dtype)
    activations = [m for m in module if not isinstance(m, nn.Linear) and type(m).__name__ != "OutputScale"]
    assert len(activations) == network.depth - 1
    if network.negative_slope == 0.0:
        assert all(type(m) is nn.ReLU for m in activations)
    else:
        assert all(type(m) is nn.LeakyReLU and m.negative_slope == network.negative_slope for m in activations)
    back = ReLUNetwork.from_torch(module)
    # depth 1 has no activation: nothing in torch records the slope, which changes nothing there
    assert back.negative_slope == (network.negative_slope if network.depth > 1 else 0.0)
    assert back.output_scale == network.output_scale
    assert back.bias_layers == network.bias_layers
    if dtype is None:  # float64: the weights come back bit for bit, and torch computes the same function
        assert all(np.array_equal(p, q) for p, q in zip(back.weights, network.weights, strict=True))
        assert all(np.array_equal(p, q) for p, q in zip(back.biases, network.biases, strict=True))
        x = points(network.d, seed)
        expected, magnitude = naive_leaky(network, x)
        with torch.no_grad():
            assert_close(module(torch.from_numpy(x)).numpy(), network.forward(x), magnitude)
        assert_close(back.forward(x), expected, magnitude)


def test_a_target_read_from_torch_keeps_its_slope_and_class():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.25), nn.Linear(4, 4, bias=False), nn.LeakyReLU(0.25), nn.Linear(4, 1))
    target = TargetNetwork.from_torch(module.double())
    assert type(target) is TargetNetwork and target.negative_slope == 0.25 and target.bias_layers == (True, False, True)
    assert repr(target) == "TargetNetwork(dims=(3, 4, 4, 1), bias_layers=[1, 3], negative_slope=0.25)"
    x = points(3, 1, n=8)
    with torch.no_grad():
        np.testing.assert_allclose(target.forward(x), module(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-14)
    # a LeakyReLU of slope 0 is the ReLU: read as one, written back as nn.ReLU
    plain = ReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.0), nn.Linear(2, 1)))
    assert plain.negative_slope == 0.0 and type(plain.to_torch()[1]) is nn.ReLU


def _net(*activations: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(2, 2)]
    for act in activations:
        layers += [act, nn.Linear(2, 2)]
    return nn.Sequential(*layers)


@pytest.mark.parametrize(
    "module, message",
    [
        (
            _net(nn.ReLU(), nn.LeakyReLU(0.1)),
            r"layer 3 \(LeakyReLU\): nn.LeakyReLU\(negative_slope=0.1\), but layer 1 is nn.ReLU",
        ),
        (_net(nn.LeakyReLU(0.1), nn.ReLU()), r"layer 3 \(ReLU\): nn.ReLU, but layer 1 is nn.LeakyReLU\(negative_slope=0.1\)"),
        (_net(nn.LeakyReLU(0.1), nn.LeakyReLU(0.2)), r"layer 3 .*0.2.* layer 1 is nn.LeakyReLU\(negative_slope=0.1\)"),
        (_net(nn.ReLU(), nn.LeakyReLU(0.0)), r"layer 3 \(LeakyReLU\).*but layer 1 is nn.ReLU"),
        (_net(nn.LeakyReLU(1.0)), r"layer 1 \(LeakyReLU\): negative_slope must satisfy 0 <= negative_slope < 1"),
        (_net(nn.LeakyReLU(-0.1)), r"layer 1 \(LeakyReLU\): negative_slope must satisfy 0 <= negative_slope < 1"),
        (_net(nn.LeakyReLU(1.5)), r"layer 1 \(LeakyReLU\): negative_slope must satisfy"),
        (_net(nn.LeakyReLU(float("nan"))), r"layer 1 \(LeakyReLU\): negative_slope must satisfy.*nan"),
        (_net(nn.ReLU(), nn.ELU()), r"layer 3 \(ELU\): expected nn.ReLU or nn.LeakyReLU"),
        (nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.1)), "ends with a ReLU"),
        (nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.1), nn.LeakyReLU(0.1), nn.Linear(2, 1)), r"layer 2 .*expected nn.Linear"),
    ],
)
def test_from_torch_refuses_mixed_or_out_of_range_activations(module, message):
    for cls in (ReLUNetwork, TargetNetwork):
        with pytest.raises(InvalidInputError, match=message):
            cls.from_torch(module)


def test_the_torch_helpers_are_importable_where_they_were():
    import stronglth._torch_io as torch_io
    import stronglth.relu as relu
    import stronglth.ticket as ticket

    assert relu.output_scale_class is torch_io.output_scale_class and relu.output_scale_module is torch_io.output_scale_module
    assert relu.OutputScale is ticket.OutputScale is torch_io.output_scale_class()
    assert relu.OutputScale.__module__ == "stronglth.relu" and relu.OutputScale.__qualname__ == "OutputScale"
    with pytest.raises(AttributeError):
        relu.NoSuchThing  # noqa: B018
    module = ReLUNetwork([np.full((2, 2), 0.5), np.ones((1, 2))], output_scale=2.0, negative_slope=0.3).to_torch()
    again = pickle.loads(pickle.dumps(module))  # the classes are found by name
    x = torch.tensor([[1.0, -3.0], [-1.0, -2.0]], dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(again(x), module(x))
        assert torch.equal(module(x), torch.from_numpy(ReLUNetwork.from_torch(module).forward(x.numpy())))
