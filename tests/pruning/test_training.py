"""Masked training: seeded, resumable at a step, pruned weights stay zero, early-stopping iteration."""

from __future__ import annotations

import pytest
import torch

from stronglth.baselines.data import Dataset
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import prunable_layers, random_masks
from stronglth.pruning.training import TrainLog, TrainSettings, train, with_validation

from ._tiny import FAST, tiny_data, tiny_mlp


def test_resuming_at_a_stored_iterate_gives_the_same_weights():
    """With a stateless optimiser (plain SGD) the batches and rates of steps 13.. are those of the whole run
    (rewinding restores weights and buffers; an optimiser's moments restart, as in Frankle et al. 2020)."""
    data = tiny_data()
    whole, part = tiny_mlp(), tiny_mlp()
    sgd = TrainSettings(iterations=30, batch_size=40, lr=0.05, optimizer="sgd", momentum=0.0, schedule="cosine", eval_every=10)
    log = train(whole, data, sgd, seed=2, store_iterates=(0, 13), device="cpu")
    assert set(log.iterates) == {0, 13}
    part.load_state_dict(log.iterates[13])
    train(part, data, sgd, seed=2, start_iteration=13, device="cpu")
    assert all(torch.equal(a.weight, b.weight) for a, b in zip(prunable_layers(whole), prunable_layers(part), strict=True))


def test_masks_hold_and_the_log_is_consistent():
    data, model = tiny_data(), tiny_mlp()
    masks = random_masks([tuple(m.weight.shape) for m in prunable_layers(model)], 0.3, seed=0)
    log = train(model, data, FAST, seed=0, masks=masks, device="cpu")
    for layer, m in zip(prunable_layers(model), masks, strict=True):
        assert bool((layer.weight[~m] == 0).all()) and bool((layer.weight[m] != 0).all())
    assert log.iterations == [0, 10, 20, 30]
    assert log.early_stop_iteration == log.iterations[min(range(4), key=log.val_loss.__getitem__)]


def test_callback_stops_training():
    data, model = tiny_data(), tiny_mlp()
    log = train(model, data, FAST, seed=0, callback=lambda step, net: step >= 12, callback_every=6, device="cpu")
    assert log.stopped_at == 12 and log.iterations[-1] == 12


def test_regression_loss_and_bad_input():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 3, generator=g)
    y = x[:, :1].clone()
    data = Dataset("reg", x, y, x, y, 0)
    model = tiny_mlp(d=3, classes=1)
    log = train(model, data, TrainSettings(iterations=20, batch_size=10, eval_every=10), seed=0, device="cpu")
    assert log.test_accuracy == [None, None, None] and log.test_loss[-1] < log.test_loss[0]
    with pytest.raises(InvalidInputError, match="start_iteration"):
        train(model, data, FAST, seed=0, start_iteration=31, device="cpu")
    with pytest.raises(InvalidInputError, match="validation"):
        with_validation(data, 50)
    split = with_validation(data, 10, seed=1)
    assert len(split.y_val) == 10 and len(split.y_train) == 40
    assert not TrainLog().iterates
