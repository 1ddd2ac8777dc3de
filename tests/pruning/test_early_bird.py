"""Early-bird: the stopping rule against a plain reference, and the finder stops when the distances say so."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from stronglth.pruning.early_bird import EarlyBirdDetector, distance_matrix, early_bird, first_stable_epoch
from stronglth.pruning.masks import random_masks

from ._tiny import FAST, tiny_data, tiny_mlp


def test_rule_on_a_made_up_sequence():
    d = [0.5, 0.3, 0.09, 0.05, 0.04, 0.2, 0.08, 0.07, 0.06, 0.05, 0.01]
    assert first_stable_epoch(d, window=5, threshold=0.1) == 12  # d[6..10] < 0.1: masks of epochs 7..12
    assert first_stable_epoch(d, window=3, threshold=0.1) == 6
    assert first_stable_epoch(d, window=5, threshold=0.01) is None


@given(st.lists(st.floats(0, 1), max_size=20), st.integers(1, 6), st.floats(0.01, 1))
def test_detector_matches_the_reference(distances, window, threshold):
    """Masks built so that consecutive distances are the given ones (up to 1/100 rounding)."""
    n = 100
    steps = [round(x * n) for x in distances]
    current = torch.zeros(n, dtype=torch.bool)
    detector = EarlyBirdDetector(window=window, threshold=threshold)
    fired = [detector.update([current.clone()])]
    for s in steps:
        current = current.clone()
        current[:s] = ~current[:s]
        fired.append(detector.update([current.clone()]))
    exact = [s / n for s in steps]
    assert detector.distances == exact
    want = first_stable_epoch(exact, window=window, threshold=threshold)
    assert detector.drawn_epoch == want
    assert (fired.index(True) + 1 if True in fired else None) == want


def test_finder_draws_when_the_fifo_is_full_and_stable():
    model, data = tiny_mlp(), tiny_data()
    loose = early_bird(model, data, 0.5, seed=0, threshold=1.0, epochs=10, settings=FAST, device="cpu")
    assert loose.info["drawn"] and loose.info["drawn_epoch"] == 6 and loose.info["epochs_trained"] == 6  # 5 distances < 1
    assert loose.info["epochs_saved"] == 4 and len(loose.info["distances"]) == 5
    strict = early_bird(
        model, data, 0.5, seed=0, threshold=1e-9, epochs=8, settings=FAST, device="cpu", stop=False, keep_masks=True
    )
    ds = strict.info["distances"]
    assert not strict.info["drawn"] and strict.info["drawn_epoch"] == 8 and len(strict.round_masks) == 8 and min(ds) > 0
    matrix = distance_matrix(strict.round_masks)
    assert [matrix[i][i + 1] for i in range(7)] == pytest.approx(ds) and matrix[0][0] == 0.0
    mid = early_bird(model, data, 0.5, seed=0, threshold=sorted(ds)[-1] * 1.0001, window=3, epochs=8, settings=FAST, device="cpu")
    assert mid.info["drawn_epoch"] == first_stable_epoch(ds, window=3, threshold=sorted(ds)[-1] * 1.0001) == 4


def test_reset_to_init_and_bad_input():
    model, data = tiny_mlp(), tiny_data()
    result = early_bird(model, data, 0.5, seed=0, threshold=1.0, epochs=6, settings=FAST, device="cpu")
    init = [p.detach() for p in model.parameters()]
    for w, p, m in zip(result.model.parameters(), init, result.masks, strict=True):
        assert torch.equal(w, p * m)
    with pytest.raises(Exception, match="reset"):
        early_bird(model, data, 0.5, seed=0, reset="rewind", settings=FAST)
    assert random_masks([(2, 2)], 0.5, seed=0)[0].dtype == torch.bool
