"""IMP: the paper's schedule, exact and nested masks, reset and rewinding bit for bit, controls, seeded re-runs."""

from __future__ import annotations

import pytest
import torch

from stronglth.baselines.edge_popup import kept_count
from stronglth.errors import InvalidInputError
from stronglth.pruning.lottery import imp, imp_schedule, reinitialise
from stronglth.pruning.masks import prunable_layers
from stronglth.pruning.training import train

from ._tiny import FAST, tiny_data, tiny_mlp

LENET = [784 * 300, 300 * 100, 100 * 10]


def test_schedule_reproduces_the_papers_remaining_fractions():
    """Frankle & Carbin's LeNet-300-100 at 20% per round (output 10%): 51.3, 21.1, 7.0, 3.6, 1.9% remaining."""
    schedule = imp_schedule(0.8**18, 3, rate=0.2)
    assert len(schedule) == 18
    overall = [sum(kept_count(d, n) for d, n in zip(ds, LENET, strict=True)) / sum(LENET) for ds in schedule]
    assert [round(100 * overall[j - 1], 1) for j in (3, 7, 12, 15, 18)] == [51.3, 21.1, 7.0, 3.6, 1.9]
    assert schedule[0] == pytest.approx([0.8, 0.8, 0.9]) and schedule[-1][:2] == [0.8**18] * 2
    assert imp_schedule(0.3, 3, one_shot=True) == [[0.3, 0.3, pytest.approx(0.3 ** (0.10536051565782628 / 0.2231435513142097))]]
    assert imp_schedule(1.0, 3) == [] and len(imp_schedule(0.5, 2, rate=0.2)) == 4  # 0.8^3 > 0.5 >= 0.8^4
    with pytest.raises(InvalidInputError, match="rate"):
        imp_schedule(0.5, 2, rate=1.0)


def test_iterative_masks_are_exact_nested_and_the_ticket_is_reset_to_init():
    model, data = tiny_mlp(), tiny_data()
    before = [m.weight.detach().clone() for m in prunable_layers(model)]
    result = imp(model, data, 0.8**3, seed=0, settings=FAST, device="cpu")
    assert result.info["rounds"] == 3 and len(result.history) == 4 and len(result.round_masks) == 3
    sizes = [w.numel() for w in before]
    for j, masks in enumerate(result.round_masks, start=1):
        want = [kept_count(0.8**j, sizes[0]), kept_count(0.8**j, sizes[1]), kept_count(0.9**j, sizes[2])]
        assert [int(m.sum()) for m in masks] == want
        if j > 1:
            assert all(not bool((m & ~p).any()) for m, p in zip(masks, result.round_masks[j - 2], strict=True))
    for layer, w, m in zip(prunable_layers(result.model), before, result.masks, strict=True):
        assert torch.equal(layer.weight, w * m)  # the initial weights, masked, bit for bit
    assert all(torch.equal(m.weight, w) for m, w in zip(prunable_layers(model), before, strict=True))  # input untouched
    assert result.trained is not None
    for layer, m in zip(prunable_layers(result.trained), result.masks, strict=True):
        assert bool((layer.weight[~m] == 0).all())  # pruned weights stay exactly zero through training


def test_rewinding_restores_the_stored_iterate_bit_for_bit():
    model, data = tiny_mlp(), tiny_data()
    result = imp(model, data, 0.5, seed=3, settings=FAST, reset="rewind", rewind_iteration=7, one_shot=True, device="cpu")
    reference = tiny_mlp()  # the same model trained separately for 7 steps: the same iterate
    log = train(reference, data, FAST, seed=3, store_iterates=(7,), device="cpu")
    assert all(torch.equal(result.reset_state[k], v) for k, v in log.iterates[7].items())
    for layer, ref, m in zip(prunable_layers(result.model), prunable_layers(reference), result.masks, strict=True):
        assert torch.equal(layer.weight, log.iterates[7][_key(reference, ref)] * m)
    assert result.info["rewind_iteration"] == 7 and result.history[1]["iterations"] == FAST.iterations


def _key(model, layer):
    return next(name + ".weight" for name, m in model.named_modules() if m is layer)


def test_learning_rate_rewinding_keeps_the_trained_weights():
    model, data = tiny_mlp(), tiny_data()
    result = imp(model, data, 0.5, seed=0, settings=FAST, reset="lr-rewind", one_shot=True, train_final=False, device="cpu")
    dense = tiny_mlp()
    train(dense, data, FAST, seed=0, device="cpu")
    for layer, ref, m in zip(prunable_layers(result.model), prunable_layers(dense), result.masks, strict=True):
        assert torch.equal(layer.weight, ref.weight.detach() * m)
    assert result.reset_state is None and "early_stop_iteration" not in result.history[-1]


def test_global_scope_and_controls():
    model, data = tiny_mlp(), tiny_data()
    result = imp(model, data, 0.4, seed=0, scope="global", settings=FAST, one_shot=True, train_final=False, device="cpu")
    sizes = [m.weight.numel() for m in prunable_layers(model)]
    assert sum(int(m.sum()) for m in result.masks[:2]) == kept_count(0.4, sum(sizes[:2]))
    fresh = reinitialise(model, seed=9)
    again = reinitialise(model, seed=9)
    for a, b, w in zip(prunable_layers(fresh), prunable_layers(again), prunable_layers(model), strict=True):
        assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, w.weight)


def test_a_rerun_reproduces_every_number():
    data = tiny_data()
    a = imp(tiny_mlp(), data, 0.6, seed=1, settings=FAST, device="cpu")
    b = imp(tiny_mlp(), data, 0.6, seed=1, settings=FAST, device="cpu")
    assert a.history == b.history and all(torch.equal(x, y) for x, y in zip(a.masks, b.masks, strict=True))
