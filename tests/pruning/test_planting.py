"""Planted tickets compute their target exactly; a construction ticket's masks over G compute the ticket."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import stronglth
from stronglth.errors import ShapeError
from stronglth.pruning.masks import apply_masks
from stronglth.pruning.planting import mask_overlap, plant_target, regression_data, ticket_model


def test_planted_target_is_computed_exactly_by_the_planted_mask():
    target = stronglth.random_target(3, [4, 2], seed=1)
    model, masks, chosen = plant_target(target, [20], seed=0)
    assert [int(m.sum()) for m in masks] == [int((w != 0).sum()) for w in target.weights]
    assert [len(c) for c in chosen] == [4]  # hidden layers of the target: one of width 4
    apply_masks(model, masks)
    x = np.random.default_rng(0).standard_normal((50, 3))
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(out - target.forward(x))) <= 1e-12
    with pytest.raises(ShapeError):
        plant_target(target, [3], seed=0)


def test_ticket_masks_over_G_compute_the_ticket():
    target = stronglth.random_target(2, [2, 1], seed=0)
    ticket = stronglth.construct(target, method="malach", eps=0.3, seed=0, block_sizes=[8, 8], on_failure="best_effort")
    model, masks = ticket_model(ticket)
    assert sum(int(m.sum()) for m in masks) == ticket.nnz
    apply_masks(model, masks)
    x = np.random.default_rng(1).standard_normal((40, 2))
    with torch.no_grad():
        assert np.allclose(model(torch.from_numpy(x)).numpy(), ticket.forward(x), rtol=0, atol=1e-12)


def test_regression_data_and_overlap():
    target = stronglth.random_target(2, [3, 1], seed=0)
    data = regression_data(target, train=30, validation=10, test=5, seed=0)
    assert data.x_train.shape == (30, 2) and data.y_test.shape == (5, 1) and not data.classification
    assert float(data.x_train.norm(dim=1).max()) <= 1.0
    assert np.allclose(data.y_val.numpy(), target.forward(data.x_val.numpy()))
    a = [torch.tensor([True, True, False, False])]
    b = [torch.tensor([True, False, True, False])]
    assert mask_overlap(a, b) == {"precision": 0.5, "recall": 0.5, "layer_recall": [0.5]}


def test_networks_the_bias_free_relu_models_cannot_express_are_refused():
    from stronglth import InvalidInputError, RandomNetwork, Ticket

    with pytest.raises(InvalidInputError, match=r"plant_target: the target has a leaky ReLU \(negative_slope=0\.2\)"):
        plant_target(stronglth.random_target(3, [4, 2], seed=1, negative_slope=0.2), [20], seed=0)
    with pytest.raises(InvalidInputError, match="plant_target: the target has biases"):
        plant_target(stronglth.random_target(3, [4, 2], seed=1, biases=True), [20], seed=0)
    positions = [([0], [0]), ([0], [0])]
    leaky = Ticket.from_positions(RandomNetwork([(4, 2), (1, 4)], seed=0, negative_slope=0.1), positions)
    with pytest.raises(InvalidInputError, match=r"ticket_model: the ticket has a leaky ReLU \(negative_slope=0\.1\)"):
        ticket_model(leaky)
    biased_g = RandomNetwork([(4, 2), (1, 4)], seed=0, biases=["uniform", None])
    with pytest.raises(InvalidInputError, match="ticket_model: the ticket has biases"):
        ticket_model(Ticket.from_positions(biased_g, positions, bias_positions=[[0], None]))
    model, masks = ticket_model(Ticket.from_positions(biased_g, positions))  # bias lines, none kept: fine
    assert sum(int(m.sum()) for m in masks) == 2
