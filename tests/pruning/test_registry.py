"""Every registered finder: one call, exact density, the input model untouched."""

from __future__ import annotations

import pytest
import torch

from stronglth.baselines.edge_popup import kept_count
from stronglth.errors import InvalidInputError
from stronglth.pruning import FINDERS, prune
from stronglth.pruning.masks import prunable_layers
from stronglth.pruning.models import conv2, conv4, lenet_300_100
from stronglth.pruning.training import TrainSettings

from ._tiny import FAST, tiny_data, tiny_mlp

OPTIONS = {
    "imp": {"settings": FAST},
    "imp-one-shot": {"settings": FAST},
    "imp-lr-rewind": {"settings": FAST},
    "early-bird": {"settings": FAST, "epochs": 3},
    "synflow": {"iterations": 4},
    "supermask": {"settings": TrainSettings(iterations=10, lr=10.0, optimizer="sgd")},
    "edge-popup": {"settings": TrainSettings(iterations=10, lr=0.1, optimizer="sgd")},
}


@pytest.mark.parametrize("name", sorted(FINDERS))
def test_every_finder_keeps_the_requested_counts(name):
    model, data = tiny_mlp(), tiny_data()
    before = [p.detach().clone() for p in model.parameters()]
    result = prune(name, model, data, 0.5, seed=0, scope="layer", device="cpu", **OPTIONS.get(name, {}))
    sizes = [m.weight.numel() for m in prunable_layers(model)]
    want = [kept_count(0.5, n) for n in sizes]
    if name.startswith("imp"):  # the output layer at half the rate: 0.5 ** (log 0.9 / log 0.8)
        want[-1] = kept_count(0.5 ** (0.10536051565782628 / 0.2231435513142097), sizes[-1])
    assert result.kept == want and result.method in (name, "imp")
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))
    assert result.row()["kept"] == want


def test_unknown_and_models():
    with pytest.raises(InvalidInputError, match="unknown pruning method"):
        prune("obd", tiny_mlp(), tiny_data(), 0.5, seed=0)
    assert [m.weight.numel() for m in prunable_layers(lenet_300_100(seed=0))] == [235200, 30000, 1000]
    convs = [tuple(m.weight.shape) for m in prunable_layers(conv2(seed=0, width=0.25))]
    assert convs[:2] == [(16, 1, 3, 3), (16, 16, 3, 3)] and convs[2] == (64, 16 * 14 * 14)
    assert len(prunable_layers(conv4(seed=0, width=0.25))) == 7
