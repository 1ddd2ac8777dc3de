"""Supermasks and edge-popup under the interface: frozen weights never change, exact densities, seeded."""

from __future__ import annotations

import pytest
import torch

from stronglth.baselines.edge_popup import kept_count
from stronglth.baselines.models import conv_net
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import prunable_layers
from stronglth.pruning.popup import edge_popup
from stronglth.pruning.supermasks import BernoulliMask, supermask
from stronglth.pruning.training import TrainSettings, train

from ._tiny import tiny_data, tiny_mlp

SEARCH = TrainSettings(iterations=25, batch_size=40, lr=1.0, optimizer="sgd", eval_every=25)


@pytest.mark.parametrize("finder", [supermask, edge_popup])
def test_frozen_weights_never_change_and_counts_are_exact(finder):
    model, data = tiny_mlp(), tiny_data()
    before = [m.weight.detach().clone() for m in prunable_layers(model)]
    result = finder(model, data, [0.5, 0.3, 0.9], seed=0, settings=SEARCH, device="cpu")
    assert result.kept == [kept_count(d, w.numel()) for d, w in zip([0.5, 0.3, 0.9], before, strict=True)]
    for layer, w, m in zip(prunable_layers(result.model), before, result.masks, strict=True):
        assert torch.equal(layer.weight, w * m)  # the found mask over the unchanged weights
    assert all(torch.equal(m.weight, w) for m, w in zip(prunable_layers(model), before, strict=True))
    assert result.info["strong"] is True
    again = finder(model, data, [0.5, 0.3, 0.9], seed=0, settings=SEARCH, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(result.masks, again.masks, strict=True))


def test_bernoulli_layer_trains_scores_only():
    layer = BernoulliMask(torch.nn.Linear(6, 4, bias=False), 0.5, seed=0)
    w = layer.weight.detach().clone()
    net = torch.nn.Sequential(torch.nn.Flatten(), layer)
    data = tiny_data(d=6, classes=4)
    s0 = layer.scores.detach().clone()
    train(net, data, SEARCH, seed=0, device="cpu")
    assert torch.equal(layer.weight, w) and not torch.equal(layer.scores, s0) and not layer.weight.requires_grad
    layer.eval()
    assert int((layer.effective_weight() != 0).sum()) <= kept_count(0.5, 24)


def test_supermask_global_scope_and_edge_popup_refuses_it():
    model, data = tiny_mlp(), tiny_data()
    result = supermask(model, data, 0.4, seed=1, scope="global", settings=SEARCH, device="cpu")
    assert sum(result.kept) == kept_count(0.4, sum(m.weight.numel() for m in prunable_layers(model)))
    assert 0 < result.info["bernoulli_density"] < 1
    with pytest.raises(InvalidInputError, match="scope"):
        edge_popup(model, data, 0.4, seed=0, scope="global")


def test_edge_popup_on_a_conv_net_keeps_its_weights():
    model = conv_net(2, in_channels=1, image_size=4, num_classes=3, width=0.05, mode="dense", batch_norm=False, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 1, 4, 4, generator=g)
    from stronglth.baselines.data import Dataset

    data = Dataset("img", x, torch.randint(0, 3, (60,), generator=g), x, torch.randint(0, 3, (60,), generator=g), 3)
    result = edge_popup(model, data, 0.5, seed=0, settings=SEARCH, device="cpu")
    for layer, w, m in zip(prunable_layers(result.model), prunable_layers(model), result.masks, strict=True):
        assert torch.equal(layer.weight, w.weight * m)
    with pytest.raises(InvalidInputError, match="bias"):
        edge_popup(torch.nn.Sequential(torch.nn.Linear(3, 2)), data, 0.5, seed=0)
