"""TargetNetwork, the assumptions of docs/theory.md §1, target families, torch import."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from stronglth import TARGET_FAMILIES, AssumptionError, InvalidInputError, ReLUNetwork, ShapeError, TargetNetwork, random_target

dims_strategy = st.tuples(st.integers(1, 9), st.lists(st.integers(1, 9), min_size=1, max_size=4))


def naive_forward(weights, x, biases=None, scale=1.0):
    """Point by point, with explicit loops over units: an oracle for forward()."""
    h = list(x)
    for i, w in enumerate(weights):
        b = [0.0] * len(w) if biases is None or biases[i] is None else list(biases[i])
        h = [sum(w[o][j] * h[j] for j in range(len(h))) + b[o] for o in range(len(w))]
        if i < len(weights) - 1:
            h = [max(v, 0.0) for v in h]
    return [scale * v for v in h]


@given(dims=dims_strategy, family=st.sampled_from(sorted(TARGET_FAMILIES)), seed=st.integers(0, 2**32))
def test_every_family_is_admissible(dims, family, seed):
    d, widths = dims
    target = random_target(d, widths, seed=seed, family=family)
    assert target.dims == (d, *widths)
    target.check(tolerance=1e-12)
    for norms in target.layer_norms():
        assert norms.spectral_norm <= 1 + 1e-12 and norms.max_abs <= norms.max_abs_bound + 1e-12


@given(d=st.sampled_from([1, 2, 4, 8, 16]), seed=st.integers(0, 2**32))
def test_max_norm_family_is_at_the_bound_for_powers_of_two(d, seed):
    target = random_target(d, [max(1, d // 2)], seed=seed, family="max_norm")
    w = target.weights[0]
    assert np.allclose(np.abs(w), 1 / np.sqrt(d), rtol=0, atol=1e-15)
    assert np.linalg.norm(w, 2) == pytest.approx(1.0, abs=1e-12)


@given(dims=dims_strategy, seed=st.integers(0, 2**32))
def test_rank1_family_has_spectral_norm_one(dims, seed):
    target = random_target(dims[0], dims[1], seed=seed, family="rank1")
    for w in target.weights:
        assert np.linalg.matrix_rank(w) == 1
        assert np.linalg.norm(w, 2) == pytest.approx(1.0, abs=1e-12)


def test_random_target_is_a_function_of_its_seed():
    a = random_target(3, [4, 2], seed=5)
    b = random_target(3, [4, 2], seed=5)
    c = random_target(3, [4, 2], seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=False))
    assert not np.array_equal(a.weights[0], c.weights[0])


@given(dims=dims_strategy, seed=st.integers(0, 2**32), n=st.integers(1, 5))
def test_forward_matches_naive_oracle_and_is_homogeneous(dims, seed, n):
    target = random_target(dims[0], dims[1], seed=seed)
    x = np.random.default_rng(seed).standard_normal((n, dims[0]))
    got = target.forward(x)
    expected = np.array([naive_forward([w.tolist() for w in target.weights], row) for row in x.tolist()])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(target.forward(2.5 * x), 2.5 * got, rtol=1e-12, atol=1e-14)
    assert target.forward(x[0]).shape == (dims[1][-1],)


def test_check_names_layer_and_norm():
    ok = np.full((2, 4), 0.5) / 2
    with pytest.raises(AssumptionError, match=r"layer 2: spectral norm 2"):
        TargetNetwork([ok, 2 * np.eye(2)]).check()
    with pytest.raises(AssumptionError, match=r"layer 1: max-norm 0.9 exceeds 1/sqrt\(fan_in\) = 0.5"):
        TargetNetwork([np.array([[0.9, 0, 0, 0]])]).check()
    assert not TargetNetwork([2 * np.eye(2)]).is_admissible()


@given(seed=st.integers(0, 2**32), scale=st.floats(0.01, 100))
def test_scale_to_assumptions(seed, scale):
    raw = [scale * np.random.default_rng(seed).standard_normal((3, 2)), np.random.default_rng(seed + 1).standard_normal((2, 3))]
    target = TargetNetwork(raw)
    scaled, factor = target.scale_to_assumptions()
    scaled.check(tolerance=1e-12)
    assert factor >= 1
    x = np.random.default_rng(seed).standard_normal((5, 2))
    np.testing.assert_allclose(factor * scaled.forward(x), target.forward(x), rtol=1e-10, atol=1e-12)
    scales = target.assumption_scales()  # the per-layer factors: each layer divided by its own
    assert factor == scales[0] * scales[1] and min(scales) >= 1
    assert all(np.array_equal(w / c, v) for w, c, v in zip(target.weights, scales, scaled.weights, strict=True))


def test_scale_leaves_admissible_targets_alone():
    target = random_target(3, [4, 1], seed=0)
    scaled, factor = target.scale_to_assumptions()
    assert factor == 1.0
    assert all(np.array_equal(a, b) for a, b in zip(scaled.weights, target.weights, strict=False))


def test_torch_round_trip():
    target = random_target(3, [5, 4, 2], seed=1)
    module = target.to_torch()
    x = np.random.default_rng(0).standard_normal((7, 3))
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), target.forward(x), rtol=1e-12, atol=1e-14)
    back = TargetNetwork.from_torch(module)
    assert isinstance(back, TargetNetwork)
    assert all(np.array_equal(a, b) for a, b in zip(back.weights, target.weights, strict=False))


@pytest.mark.parametrize(
    "module, message",
    [
        (nn.Sequential(nn.Linear(2, 3, bias=False), nn.Tanh(), nn.Linear(3, 1, bias=False)), "ReLU"),
        (nn.Sequential(nn.Conv1d(2, 3, 1, bias=False)), "Linear"),
        (nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU()), "ends with a ReLU"),
        (nn.Sequential(), "no Linear"),
        (nn.ReLU(), "nn.Sequential"),
    ],
)
def test_from_torch_rejects(module, message):
    with pytest.raises(InvalidInputError, match=message):
        TargetNetwork.from_torch(module)


@pytest.mark.parametrize(
    "weights, error, message",
    [
        ([np.array([[np.nan, 0.1]])], InvalidInputError, "non-finite"),
        ([np.array([[np.inf, 0.1]])], InvalidInputError, "non-finite"),
        ([np.array([[1, 0]])], InvalidInputError, "floating-point"),
        ([np.array([[0.1 + 0j]])], InvalidInputError, "floating-point"),
        ([np.zeros((2, 3)), np.zeros((2, 3))], ShapeError, "do not chain"),
        ([np.zeros((0, 3))], ShapeError, "empty"),
        ([np.zeros((3, 2)), np.zeros((1, 0))], ShapeError, "empty"),
        ([], ShapeError, "at least one layer"),
        ([np.zeros(3)], ShapeError, "2-D"),
    ],
)
def test_bad_weights(weights, error, message):
    with pytest.raises(error, match=message):
        TargetNetwork(weights)


def test_relu_network_allows_empty_hidden_layers_but_target_does_not():
    net = ReLUNetwork([np.zeros((0, 2)), np.zeros((1, 0))])
    assert np.array_equal(net.forward(np.ones((3, 2))), np.zeros((3, 1)))
    with pytest.raises(ShapeError):
        TargetNetwork([np.zeros((0, 2)), np.zeros((1, 0))])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(d=0, widths=[2]), "d must be"),
        (dict(d=2, widths=[]), "empty"),
        (dict(d=2, widths=[0]), "widths"),
        (dict(d=2, widths=3), "sequence"),
        (dict(d=2, widths=[2], family="cauchy"), "unknown target family"),
        (dict(d=2, widths=[2], seed=-3), "seed"),
    ],
)
def test_bad_random_target_arguments(kwargs, message):
    kwargs.setdefault("seed", 0)
    with pytest.raises(InvalidInputError, match=message):
        random_target(**kwargs)


def test_forward_rejects_wrong_input_dimension():
    with pytest.raises(ShapeError, match=r"\(N, 3\)"):
        random_target(3, [2], seed=0).forward(np.ones((4, 2)))


def test_load_target_files(tmp_path):
    from stronglth import TicketFormatError, load_target

    target = random_target(3, [4, 2], seed=3)
    np.savez(tmp_path / "w.npz", W_1=target.weights[0], W_2=target.weights[1])
    loaded = load_target(tmp_path / "w.npz")
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, target.weights, strict=False))
    np.savez(tmp_path / "gap.npz", W_1=target.weights[0], W_3=target.weights[1])
    with pytest.raises(TicketFormatError, match="W_1..W_2 expected"):
        load_target(tmp_path / "gap.npz")
    np.savez(tmp_path / "none.npz", A=target.weights[0])
    with pytest.raises(TicketFormatError, match="no target matrices"):
        load_target(tmp_path / "none.npz")
    with pytest.raises(InvalidInputError, match="no such target file"):
        load_target(tmp_path / "absent.npz")


def sylvester_hadamard(n: int) -> np.ndarray:
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize("n", [1, 2, 4, 8, 64, 256])
def test_hadamard_rows_are_the_sylvester_matrix(n):
    from stronglth.target import _hadamard_rows

    rows = np.random.default_rng(n).permutation(n)
    assert np.array_equal(_hadamard_rows(n, rows), sylvester_hadamard(n)[rows])


@given(d_log=st.integers(0, 6), n_out=st.integers(1, 64), seed=st.integers(0, 2**32))
def test_max_norm_family_is_unchanged_by_computing_rows_instead_of_the_matrix(d_log, n_out, seed):
    n_in = 2**d_log
    rng = np.random.default_rng(seed)
    if n_out <= n_in:  # what _max_norm drew when it built the whole n_in x n_in matrix
        rows = rng.choice(n_in, size=n_out, replace=False)
        signs = rng.choice([-1.0, 1.0], size=n_in)
        expected = (sylvester_hadamard(n_in)[rows][:, rng.permutation(n_in)] * signs) / np.sqrt(n_in)
        assert np.array_equal(TARGET_FAMILIES["max_norm"](np.random.default_rng(seed), n_out, n_in), expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(d=True, widths=[2]), "d must be"),
        (dict(d=2.0, widths=[2]), "d must be"),
        (dict(d=2, widths="22"), "sequence"),
        (dict(d=2, widths=[2.0]), r"widths\[0\]"),
        (dict(d=2, widths=[2], family=["gaussian"]), "unknown target family"),
        (dict(d=2, widths=[2], seed=1.0), "seed"),
    ],
)
def test_random_target_coerces_nothing(kwargs, message):
    kwargs.setdefault("seed", 0)
    with pytest.raises(InvalidInputError, match=message):
        random_target(**kwargs)


def test_random_target_and_load_target_refuse_targets_over_the_limit(tmp_path):
    import zipfile

    from stronglth import TooLargeError
    from stronglth.target import MAX_TARGET_PARAMETERS, load_target

    with pytest.raises(TooLargeError, match=r"1,000,000,000,000 weights, more than the limit"):
        random_target(10**6, [10**6], seed=0)
    with pytest.raises(TooLargeError, match=r"a target of dims \(1, 67108865\)"):
        random_target(1, [MAX_TARGET_PARAMETERS + 1], seed=0)
    # a file whose header promises one weight too many: refused from the header, before any data is read
    header = {"descr": "<f8", "fortran_order": False, "shape": (1, MAX_TARGET_PARAMETERS + 1)}
    with zipfile.ZipFile(tmp_path / "big.npz", "w") as archive, archive.open("W_1.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
    with pytest.raises(TooLargeError, match="67,108,865 weights, more than the limit"):
        load_target(tmp_path / "big.npz")


# -- biases and the output scale (docs/theory.md §12) -------------------------------------------


@st.composite
def biased_networks(draw):
    """Random weights and, for each layer, a bias vector or None; an output scale."""
    dims = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(dims[:-1], dims[1:], strict=False)]
    biases = [rng.standard_normal(n_out) if draw(st.booleans()) else None for n_out in dims[1:]]
    scale = draw(st.sampled_from([1.0, 0.5, 3.0, 306.25]))
    return weights, biases, scale


@given(net=biased_networks(), n=st.integers(1, 4), seed=st.integers(0, 2**32))
def test_forward_with_biases_and_scale_matches_naive_oracle(net, n, seed):
    weights, biases, scale = net
    network = ReLUNetwork(weights, biases, output_scale=scale)
    x = np.random.default_rng(seed).uniform(-1, 1, (n, weights[0].shape[1]))
    expected = np.array([naive_forward([w.tolist() for w in weights], row, biases, scale) for row in x.tolist()])
    np.testing.assert_allclose(network.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert network.has_biases == any(b is not None for b in biases)
    assert network.bias_layers == tuple(b is not None for b in biases)
    for b, given_bias in zip(network.biases, biases, strict=True):
        assert not b.flags.writeable
        assert np.array_equal(b, np.zeros_like(b) if given_bias is None else given_bias)


@given(net=biased_networks(), seed=st.integers(0, 2**32))
def test_torch_round_trip_with_biases_and_scale(net, seed):
    weights, biases, scale = net
    network = ReLUNetwork(weights, biases, output_scale=scale)
    module = network.to_torch()
    linears = [m for m in module if isinstance(m, nn.Linear)]
    assert [m.bias is not None for m in linears] == [b is not None for b in biases]
    from stronglth.relu import OutputScale

    assert isinstance(module[-1], OutputScale) == (scale != 1.0)
    x = np.random.default_rng(seed).uniform(-1, 1, (3, weights[0].shape[1]))
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), network.forward(x), rtol=1e-12, atol=1e-12)
    back = ReLUNetwork.from_torch(module)
    assert back.bias_layers == network.bias_layers and back.output_scale == scale
    assert all(np.array_equal(a, b) for a, b in zip(back.weights, network.weights, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(back.biases, network.biases, strict=True))


def test_from_torch_reads_linear_with_bias_into_a_target():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False)).double()
    target = TargetNetwork.from_torch(module)
    assert target.has_biases and target.bias_layers == (True, False)
    assert np.array_equal(target.biases[0], module[0].bias.detach().numpy())
    x = np.random.default_rng(1).uniform(-1, 1, (5, 3))
    with torch.no_grad():
        np.testing.assert_allclose(target.forward(x), module(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-14)
    assert "bias_layers=[1]" in repr(target)


def test_a_target_has_no_output_scale():
    w = [np.full((1, 1), 0.5)]
    module = ReLUNetwork(w, output_scale=2.0).to_torch()
    with pytest.raises(InvalidInputError, match="TargetNetwork has no output scale"):
        TargetNetwork.from_torch(module)
    with pytest.raises(TypeError):
        TargetNetwork(w, output_scale=2.0)  # type: ignore[call-arg]
    assert ReLUNetwork.from_torch(module).output_scale == 2.0


@pytest.mark.parametrize(
    "biases, error, message",
    [
        ([np.zeros(3)], ShapeError, "biases has 1 entries, the network has 2 layers"),
        ([np.zeros(2), None], ShapeError, r"layer 1 bias must have shape \(3,\)"),
        ([np.zeros(3, dtype=int), None], InvalidInputError, "layer 1 bias must be a real floating-point vector"),
        ([None, np.array([np.nan])], InvalidInputError, "layer 2 bias has a non-finite entry nan at 0"),
        ([None, np.zeros((1, 1))], ShapeError, r"layer 2 bias must have shape \(1,\)"),
        ("b", InvalidInputError, "biases must be None or a list"),
        ([None, ["0.1"]], InvalidInputError, "layer 2 bias must be a real floating-point vector"),
    ],
)
def test_bad_biases(biases, error, message):
    with pytest.raises(error, match=message):
        ReLUNetwork([np.zeros((3, 2)), np.zeros((1, 3))], biases)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf"), True, "2"])
def test_bad_output_scale(scale):
    with pytest.raises(InvalidInputError, match="output_scale"):
        ReLUNetwork([np.zeros((1, 2))], output_scale=scale)


def test_networks_with_biases_are_not_homogeneous_and_zero_biases_still_count():
    net = ReLUNetwork([np.ones((1, 1))], [np.array([0.5])])
    assert net.forward(np.array([2.0]))[0] != 2 * net.forward(np.array([1.0]))[0]
    zero = ReLUNetwork([np.ones((1, 1))], [np.zeros(1)])
    assert zero.has_biases and zero.parameter_count == 2  # a given bias is a bias, even zero
    assert not ReLUNetwork([np.ones((1, 1))], [None]).has_biases
    assert ReLUNetwork([np.ones((1, 1))]).parameter_count == 1


@given(dims=dims_strategy, family=st.sampled_from(sorted(TARGET_FAMILIES)), seed=st.integers(0, 2**32))
def test_random_target_with_biases_is_admissible_and_keeps_the_weights(dims, family, seed):
    d, widths = dims
    plain = random_target(d, widths, seed=seed, family=family)
    biased = random_target(d, widths, seed=seed, family=family, biases=True)
    assert biased.has_biases and all(biased.bias_layers) and not plain.has_biases
    assert all(np.array_equal(a, b) for a, b in zip(plain.weights, biased.weights, strict=True))
    biased.check(tolerance=1e-12)
    expected = np.random.default_rng([seed, 1])  # the documented draw
    for b, n in zip(biased.biases, widths, strict=True):
        assert np.array_equal(b, expected.uniform(-1.0, 1.0, n) / np.sqrt(n))
        assert np.max(np.abs(b)) <= 1.0 and np.linalg.norm(b) <= 1.0 + 1e-12


def test_random_target_biases_must_be_a_bool():
    with pytest.raises(InvalidInputError, match="biases must be True or False"):
        random_target(2, [2], seed=0, biases=1)


def test_check_names_a_bias_over_the_bound():
    with pytest.raises(AssumptionError, match=r"layer 1: bias max-norm 1.5 exceeds 1"):
        TargetNetwork([np.array([[0.5]])], [np.array([-1.5])]).check()
    TargetNetwork([np.array([[0.5]])], [np.array([-1.0])]).check()
    assert TargetNetwork([np.array([[0.5]])], [np.array([1.5])]).layer_norms()[0].bias_max_abs == 1.5
    assert TargetNetwork([np.array([[0.5]])]).layer_norms()[0].bias_max_abs is None


@given(seed=st.integers(0, 2**32), scale=st.floats(0.01, 100), bias_scale=st.floats(0.01, 100))
def test_scale_to_assumptions_with_biases(seed, scale, bias_scale):
    rng = np.random.default_rng(seed)
    weights = [scale * rng.standard_normal((3, 2)), rng.standard_normal((2, 3)), rng.standard_normal((1, 2))]
    biases = [bias_scale * rng.standard_normal(3), None, bias_scale * rng.standard_normal(1)]
    target = TargetNetwork(weights, biases)
    scaled, factor = target.scale_to_assumptions()
    scaled.check(tolerance=1e-12)
    assert scaled.bias_layers == target.bias_layers
    assert factor == np.prod(target.assumption_scales()) or np.isclose(factor, np.prod(target.assumption_scales()))
    x = rng.uniform(-1, 1, (6, 2))
    np.testing.assert_allclose(factor * scaled.forward(x), target.forward(x), rtol=1e-9, atol=1e-9 * factor)


def test_load_target_with_biases(tmp_path):
    from stronglth import TicketFormatError, load_target

    target = random_target(3, [4, 2], seed=3, biases=True)
    np.savez(tmp_path / "w.npz", W_1=target.weights[0], W_2=target.weights[1], b_2=target.biases[1])
    loaded = load_target(tmp_path / "w.npz")
    assert loaded.bias_layers == (False, True) and np.array_equal(loaded.biases[1], target.biases[1])
    np.savez(tmp_path / "stray.npz", W_1=target.weights[0], b_3=target.biases[1])
    with pytest.raises(TicketFormatError, match="bias b_3 belongs to no layer"):
        load_target(tmp_path / "stray.npz")
    np.savez(tmp_path / "short.npz", W_1=target.weights[0], b_1=target.biases[1])
    with pytest.raises(ShapeError, match=r"layer 1 bias must have shape \(4,\)"):
        load_target(tmp_path / "short.npz")


# -- the leaky ReLU (docs/theory.md §14.6) ---------------------------------------------------------


def test_a_leaky_target_has_the_weights_of_the_relu_target_and_keeps_its_slope_when_scaled():
    plain, leaky = (
        random_target(3, [4, 2], seed=5, biases=True),
        random_target(3, [4, 2], seed=5, biases=True, negative_slope=0.2),
    )
    assert leaky.negative_slope == 0.2 and plain.negative_slope == 0.0
    assert all(np.array_equal(a, b) for a, b in zip(plain.weights, leaky.weights, strict=True))
    big = TargetNetwork([w * 4 for w in leaky.weights], negative_slope=0.2)
    scaled, factor = big.scale_to_assumptions()
    assert scaled.negative_slope == 0.2 and factor > 1
    x = np.random.default_rng(0).uniform(-1, 1, (6, 3))
    np.testing.assert_allclose(factor * scaled.forward(x), big.forward(x), rtol=1e-12, atol=1e-12)
    # the activation matters: on these points some pre-activation is negative
    assert not np.allclose(plain.forward(x), leaky.forward(x))


@pytest.mark.parametrize("slope", [0.0, 0.1, 0.5])
def test_load_target_reads_the_slope_of_a_target_file(tmp_path, slope):
    from stronglth import load_target

    target = random_target(3, [4, 2], seed=3, biases=True, negative_slope=slope)
    arrays = {"W_1": target.weights[0], "W_2": target.weights[1], "b_1": target.biases[0]}
    if slope:  # stored only when non-zero; 0.0 stored is read the same
        arrays["negative_slope"] = np.float64(slope)
    np.savez(tmp_path / "w.npz", **arrays)
    loaded = load_target(tmp_path / "w.npz")
    assert type(loaded) is TargetNetwork and loaded.negative_slope == slope and loaded.bias_layers == (True, False)
    np.savez(tmp_path / "zero.npz", **arrays | {"negative_slope": np.float64(0.0)})
    assert load_target(tmp_path / "zero.npz").negative_slope == 0.0


@pytest.mark.parametrize(
    "value, message",
    [
        (np.int64(0), "negative_slope must be a 0-d float array .* got dtype int64"),
        (np.array([0.1]), r"negative_slope must be a 0-d float array .* shape \(1,\)"),
        (np.array("0.1"), "negative_slope must be a 0-d float array"),
        (np.float64(1.0), "negative_slope must satisfy 0 <= negative_slope < 1"),
        (np.float64(-0.1), "negative_slope must satisfy 0 <= negative_slope < 1"),
        (np.float64(np.nan), "negative_slope must satisfy .*nan"),
        (np.float64(np.inf), "negative_slope must satisfy .*inf"),
    ],
)
def test_load_target_refuses_a_bad_slope(tmp_path, value, message):
    from stronglth import TicketFormatError, load_target

    target = random_target(3, [2], seed=3)
    np.savez(tmp_path / "bad.npz", W_1=target.weights[0], negative_slope=value)
    with pytest.raises(TicketFormatError, match=message) as info:
        load_target(tmp_path / "bad.npz")
    assert str(tmp_path / "bad.npz") in str(info.value)
