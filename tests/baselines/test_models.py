"""Edge-popup models: MLPs, Conv-2/4/6, the MLP over G, save/load with weights_only=True."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stronglth import RandomNetwork, ReLUNetwork, random_target
from stronglth.baselines.edge_popup import SupermaskConv2d, SupermaskLinear, supermask_layers
from stronglth.baselines.models import (
    build_model,
    conv_net,
    export_sequential,
    from_random_network,
    kept_weights,
    load_model,
    mlp,
    prunable_weights,
    save_model,
)
from stronglth.errors import InvalidInputError, ShapeError, TicketFormatError


def _train_a_little(model: nn.Module, x: torch.Tensor, steps: int = 3) -> None:
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5, momentum=0.9)
    for _ in range(steps):
        model.train()
        loss = model(x).logsumexp(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize(
    "build",
    [
        lambda: mlp(12, [16, 8], 3, density=0.3, seed=1),
        lambda: mlp(12, [16], 3, mode="dense", seed=1),
        lambda: conv_net(2, in_channels=1, image_size=8, num_classes=3, width=0.125, density=0.4, seed=2),
    ],
)
def test_save_load_reproduces_outputs_exactly(tmp_path, build):
    model = build()
    shape = (5, 1, 8, 8) if "conv" in model.config["arch"] else (5, 12)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    _train_a_little(model, x)  # scores (and batch-norm statistics) move away from their initial values
    model.eval()
    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)  # no pickled code in the file
    assert blob["format"] == "stronglth-edge-popup/1"
    fresh = build_model(model.config).eval()
    assert not torch.equal(fresh(x), model(x))  # a rebuilt model is not the trained one ...
    loaded = load_model(path).eval()
    assert torch.equal(loaded(x), model(x))  # ... the loaded one is, bit for bit
    for a, b in zip(supermask_layers(loaded), supermask_layers(model), strict=False):
        assert torch.equal(a.mask(), b.mask()) and torch.equal(a.weight, b.weight)


def test_load_rejects_foreign_files(tmp_path):
    torch.save({"x": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(TicketFormatError, match="stronglth-edge-popup/1"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(TicketFormatError, match="weights_only"):
        load_model(tmp_path / "junk.pt")
    with pytest.raises(InvalidInputError, match="no such"):
        load_model(tmp_path / "missing.pt")


@pytest.mark.parametrize("depth, convs", [(2, 2), (4, 4), (6, 6)])
def test_conv_nets(depth, convs):
    model = conv_net(depth, in_channels=3, image_size=32, num_classes=10, width=0.25, density=0.5, seed=0)
    assert sum(isinstance(m, SupermaskConv2d) for m in model) == convs
    assert sum(isinstance(m, SupermaskLinear) for m in model) == 3
    bns = [m for m in model if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == convs and all(not bn.affine for bn in bns)  # non-affine batch norm
    channels = [m.out_channels for m in model if isinstance(m, SupermaskConv2d)]
    assert channels == [16, 16, 32, 32, 64, 64][:convs]  # 64, 128, 256 times the width 0.25
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    wide = conv_net(depth, width=0.5, seed=0)
    assert prunable_weights(wide) > 3 * prunable_weights(model)
    assert all(m.bias is None for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))


def test_conv_net_checks():
    with pytest.raises(InvalidInputError, match="depth"):
        conv_net(3)
    with pytest.raises(ShapeError, match="multiple of 8"):
        conv_net(6, image_size=12)


def test_mlp_counts_and_modes():
    model = mlp(10, [20, 30], 4, density=0.25, seed=0)
    sizes = [200, 600, 120]
    assert prunable_weights(model) == sum(sizes)
    assert kept_weights(model) == sum(round(0.25 * n) for n in sizes)
    dense = mlp(10, [20, 30], 4, mode="dense", seed=0)
    assert kept_weights(dense) == prunable_weights(dense) == sum(sizes)
    per_layer = mlp(10, [20, 30], 4, density=[1.0, 0.5, 0.1], seed=0)
    assert [m.k for m in supermask_layers(per_layer)] == [200, 300, 12]
    with pytest.raises(InvalidInputError, match="3 layers"):
        mlp(10, [20, 30], 4, density=[0.5, 0.5])
    with pytest.raises(InvalidInputError, match="mode"):
        mlp(10, [20], 4, mode="prune")


def test_from_random_network_uses_g_values_exactly():
    target = random_target(3, [4, 2], seed=0)
    network = RandomNetwork.for_target(target, [5, 6], seed=9)
    model = from_random_network(network, 0.5, seed=1)
    layers = supermask_layers(model)
    assert len(layers) == network.depth == 4
    for t, layer in enumerate(layers, start=1):
        assert layer.weight.dtype == torch.float64
        assert np.array_equal(layer.weight.numpy(), network.dense(t))  # G's values, bit for bit
    scaled = from_random_network(network, 0.5, weight_scale=0.5, seed=1)
    assert np.array_equal(supermask_layers(scaled)[0].weight.numpy(), 0.5 * network.dense(1))
    rebuilt = build_model(model.config)
    assert all(
        torch.equal(a.weight, b.weight) and torch.equal(a.scores, b.scores)
        for a, b in zip(supermask_layers(rebuilt), layers, strict=False)
    )
    with pytest.raises(InvalidInputError, match="RandomNetwork"):
        from_random_network(target, 0.5)


def test_export_sequential_is_a_relu_network_computing_the_same():
    model = mlp(5, [7, 6], 2, density=0.4, seed=3, dtype="float64")
    exported = export_sequential(model)
    net = ReLUNetwork.from_torch(exported)
    x = np.random.default_rng(0).normal(size=(20, 5))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.forward(x), expected, rtol=1e-12, atol=1e-12)
    nonzero = sum(int((m.weight != 0).sum()) for m in exported if isinstance(m, nn.Linear))
    assert nonzero <= kept_weights(model)
    with pytest.raises(InvalidInputError, match="Linear/ReLU"):
        export_sequential(conv_net(2, in_channels=1, image_size=8, width=0.125))
