"""Edge-popup classification (stronglth.baselines.classification): digits, devices."""

from __future__ import annotations

import pytest
import torch

from stronglth.baselines.classification import resolve_device, train_classifier
from stronglth.baselines.data import load_digits
from stronglth.baselines.edge_popup import supermask_layers
from stronglth.baselines.models import mlp
from stronglth.errors import InvalidInputError


def test_short_run_on_digits_beats_chance_by_far():
    data = load_digits(seed=0)
    model = mlp(data.in_features, [256], 10, density=0.5, seed=0)
    before = [layer.weight.clone() for layer in supermask_layers(model)]
    result = train_classifier(model, data, epochs=4, batch_size=64, lr=0.1, seed=0, device="cpu", progress=False)
    assert result.test_accuracy > 0.8  # chance is 0.10; about 0.92 here
    assert result.kept == sum(layer.k for layer in supermask_layers(model)) and abs(result.density - 0.5) < 1e-3
    # weights untouched
    assert all(torch.equal(a, layer.weight) for a, layer in zip(before, supermask_layers(model), strict=False))


def test_resolve_device():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="CUDA"):
            resolve_device("cuda")
    with pytest.raises(InvalidInputError, match="device"):
        resolve_device("tpu9")
