"""Masks: exact kept counts (edge-popup's), per layer and pooled, refinement, Hamming distance, random masks."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from stronglth.baselines.edge_popup import kept_count
from stronglth.errors import InvalidInputError, ShapeError
from stronglth.pruning.masks import (
    apply_masks,
    collapsed_layers,
    hamming_distance,
    masks_from_scores,
    prunable_layers,
    random_masks,
    random_masks_like,
)

from ._tiny import tiny_mlp

shapes = st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=1, max_size=4)


def _scores(shape_list, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g) for s in shape_list]


@given(shapes, st.floats(0.3, 1.0), st.integers(0, 100))
def test_layer_scope_keeps_kept_count_in_every_layer(shape_list, density, seed):
    masks = masks_from_scores(_scores(shape_list, seed), density, "layer")
    for m, s in zip(masks, shape_list, strict=True):
        n = s[0] * s[1]
        assert m.dtype == torch.bool and tuple(m.shape) == s
        assert int(m.sum()) == kept_count(density, n) == n - math.floor((1 - density) * n + 1e-9)


@given(shapes, st.floats(0.05, 1.0), st.integers(0, 100))
def test_global_scope_keeps_kept_count_of_all_and_the_largest(shape_list, density, seed):
    scores = _scores(shape_list, seed)
    masks = masks_from_scores(scores, density, "global")
    total = sum(s[0] * s[1] for s in shape_list)
    assert sum(int(m.sum()) for m in masks) == kept_count(density, total)
    kept = torch.cat([s[m] for s, m in zip(scores, masks, strict=True)])
    dropped = torch.cat([s[~m] for s, m in zip(scores, masks, strict=True)])
    if len(dropped) and len(kept):  # the naive oracle: every kept score >= every dropped score
        assert float(kept.min()) >= float(dropped.max())


def test_k_over_n_keeps_exactly_k():
    for n in (7, 35, 1000):
        for k in (1, 3, n // 2, n):
            (m,) = masks_from_scores([torch.randn(1, n)], k / n, "layer")
            assert int(m.sum()) == k


def test_separate_layer_and_refinement_never_revive():
    scores = _scores([(10, 10), (10, 10), (3, 10)])
    first = masks_from_scores(scores, 0.5, "global", separate={2: 0.8})
    assert int(first[2].sum()) == kept_count(0.8, 30) and sum(int(m.sum()) for m in first[:2]) == kept_count(0.5, 200)
    fresh = _scores([(10, 10), (10, 10), (3, 10)], seed=5)
    second = masks_from_scores(fresh, 0.25, "layer", previous=first)
    for a, b in zip(first, second, strict=True):
        assert not bool((b & ~a).any())  # a pruned weight stays pruned
    with pytest.raises(InvalidInputError, match="more weights"):
        masks_from_scores(fresh, 0.9, "layer", previous=second)


def test_bad_input_is_refused():
    with pytest.raises(InvalidInputError, match="scope"):
        masks_from_scores(_scores([(2, 2)]), 0.5, "net")
    with pytest.raises(InvalidInputError, match="fraction"):
        masks_from_scores(_scores([(2, 2)]), 0.0, "layer")
    with pytest.raises(InvalidInputError, match="one density"):
        masks_from_scores(_scores([(2, 2), (2, 2)]), [0.5, 0.5], "global")
    with pytest.raises(ShapeError):
        apply_masks(tiny_mlp(), [torch.ones(2, 2, dtype=torch.bool)])


def test_apply_masks_zeroes_exactly_the_pruned():
    model = tiny_mlp()
    before = [m.weight.detach().clone() for m in prunable_layers(model)]
    masks = random_masks([tuple(w.shape) for w in before], 0.3, seed=1)
    apply_masks(model, masks)
    for layer, w, m in zip(prunable_layers(model), before, masks, strict=True):
        assert torch.equal(layer.weight[m], w[m]) and bool((layer.weight[~m] == 0).all())


def test_hamming_distance_against_a_loop_and_random_masks_like():
    a = random_masks([(4, 5), (3, 4)], 0.5, seed=0)
    b = random_masks([(4, 5), (3, 4)], 0.5, seed=1)
    naive = sum(
        int(x != y) for p, q in zip(a, b, strict=True) for x, y in zip(p.flatten().tolist(), q.flatten().tolist(), strict=True)
    )
    assert hamming_distance(a, b) == naive / 32 and hamming_distance(a, a) == 0.0
    like = random_masks_like(a, seed=3)
    assert [int(m.sum()) for m in like] == [int(m.sum()) for m in a]
    assert collapsed_layers([torch.zeros(2, 2, dtype=torch.bool), a[1]]) == [0]
