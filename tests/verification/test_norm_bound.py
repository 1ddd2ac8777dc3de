"""The bounds beside the symbolic ones (docs/theory.md §10): rigorous spectral norms
(stronglth/verification/_symbolic.py), the norm-based bounds and the halving of ReLU
(stronglth/verification/_norm_bound.py), the Lagrangian use of sign constraints and the dual
concretisation over box and ball (stronglth/verification/_lagrangian.py): each never below the
error at any point it covers, exact where it must be, and never worse than the certified bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import ReLUNetwork, construct, random_target
from stronglth.errors import InvalidInputError
from stronglth.verification import unit_sphere_points
from stronglth.verification._common import output_errors
from stronglth.verification._symbolic import spectral_upper, sup_linear
from stronglth.verification.adversarial import ascend_from
from stronglth.verification.branch_and_bound import constrained_upper
from stronglth.verification.certified import certified_bound
from stronglth.verification.differential import bound_subdomains, differential_bound, pair_layers

SLACK = 1e-12


def close_pair(dims, seed, scale):
    rng = np.random.default_rng(seed)
    f = ReLUNetwork([rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(dims[:-1], dims[1:], strict=True)])
    g = ReLUNetwork([w + scale * rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in f.weights])
    return f, g


@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 12),
    cols=st.integers(1, 12),
    scale=st.sampled_from([1e-200, 1e-5, 1.0, 1e100]),
    rank_one=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_the_spectral_bound_is_above_the_norm_and_close_to_it(seed, rows, cols, scale, rank_one):
    rng = np.random.default_rng(seed)
    if rank_one:  # the norm is known in closed form: ||u|| ||v||
        u, v = rng.standard_normal(rows), rng.standard_normal(cols)
        a, exact = scale * np.outer(u, v), scale * np.linalg.norm(u) * np.linalg.norm(v)
    else:
        a = scale * rng.standard_normal((rows, cols))
        exact = np.linalg.norm(a, 2)
    bound = spectral_upper(a)
    assert bound >= exact * (1 - 1e-13)  # numpy's norm (and the closed form) are within rounding of the truth
    assert bound <= exact * min(rows, cols) ** (1 / 1024) * (1 + 1e-9)


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    split=st.booleans(),
    half=st.sampled_from([0.5, 0.05, 0.005]),
)
@settings(max_examples=40, deadline=None)
def test_the_dual_concretisation_is_above_every_point_of_box_and_ball(seed, d, split, half):
    rng = np.random.default_rng(seed)
    m = 2 * d if split else d
    C = rng.standard_normal((3, 2, m))
    centre = unit_sphere_points(d, 3, seed=seed) * rng.uniform(0.9, 1.1)
    lo, hi = np.clip(centre - half, -1, 1), np.clip(centre + half, -1, 1)
    plain = sup_linear(C, lo, hi, True, split)
    dual = sup_linear(C, lo, hi, True, split, dual=True)
    assert np.all(dual <= plain)
    for b in range(3):
        x = rng.uniform(lo[b], hi[b], (4000, d))
        x = x[np.linalg.norm(x, axis=1) <= 1]
        if len(x):
            v = np.hstack([np.maximum(x, 0), np.maximum(-x, 0)]) if split else x
            assert np.all((v @ C[b].T).max(axis=0) <= dual[b] + 1e-12 * np.abs(C[b]).sum(axis=1))


@given(
    seed=st.integers(0, 2**32 - 1),
    dims=st.sampled_from([[3, 40, 3], [5, 30, 20, 4], [2, 12, 12, 12, 1]]),
    scale=st.sampled_from([1e-3, 0.1]),
    norm=st.sampled_from(["l2", "linf"]),
)
@settings(max_examples=25, deadline=None)
def test_the_norm_bounds_are_above_every_sampled_error(seed, dims, scale, norm):
    f, g = close_pair(dims, seed, scale)
    layers = pair_layers(f, g)
    box = -np.ones((1, dims[0])), np.ones((1, dims[0]))
    with_norms = bound_subdomains(layers, *box, ball=True, norm=norm, norm_bounds=True)
    x = unit_sphere_points(dims[0], 3000, seed=seed)
    assert output_errors(f, g, x, norm).max() <= with_norms.upper[0] * (1 + SLACK)


@given(seed=st.integers(0, 2**32 - 1), widths=st.sampled_from([[6, 1], [5, 3], [4, 4, 2]]), d=st.integers(2, 6))
@settings(max_examples=15, deadline=None)
def test_on_tickets_the_bound_is_never_worse_than_the_certified_bound(seed, widths, d):
    """The differential bound contains the certified recursion (with rigorous norms, at most
    ``side^(1/1024)`` larger each): never above the certified bound by more than that."""
    target = random_target(d, widths, seed=seed % 1000)
    ticket = construct(target, eps=0.2, seed=seed % 1000, block_sizes=[12] * len(widths), on_failure="best_effort")
    bound = differential_bound(ticket, target)
    assert bound.upper <= certified_bound(ticket) * (1 + 1e-2)  # recomputed from the kept weights (§3)
    x = unit_sphere_points(d, 2000, seed=seed)
    layers = pair_layers(ticket, target)
    assert output_errors(layers.f, layers.g, x, "l2").max() <= bound.upper * (1 + SLACK)


def _signs_at(layers, x):
    """The signs (+1 / -1) of every hidden unit of both networks (after the shared split layer) at ``x``."""
    h_f = h_g = np.maximum(layers.f.weights[0] @ x, 0.0) if layers.split else x
    out = []
    for wf, wg in zip(layers.f_weights[:-1], layers.g_weights[:-1], strict=True):
        z_f, z_g = wf @ h_f, wg @ h_g
        out.append((np.where(z_g >= 0, 1, -1).astype(np.int8)[None], np.where(z_f >= 0, 1, -1).astype(np.int8)[None]))
        h_f, h_g = np.maximum(z_f, 0.0), np.maximum(z_g, 0.0)
    return out


@given(seed=st.integers(0, 2**32 - 1), ticket=st.booleans(), half=st.sampled_from([0.2, 0.02, 1e-6]))
@settings(max_examples=40, deadline=None)
def test_with_every_sign_fixed_the_linear_bounds_are_the_error_itself(seed, ticket, half):
    """All units' signs fixed as at a point ``x`` of a box around it (in its orthant): every
    relaxation is exact, also where the two networks' signs differ (``dh = z_f`` or ``-z``), so the
    upper and lower linear bounds of the output both equal the error at ``x``."""
    if ticket:
        target = random_target(3, [5, 4, 2], seed=seed % 1000)
        net = construct(target, eps=0.2, seed=seed % 1000, block_sizes=[12] * 3, on_failure="best_effort")
        layers = pair_layers(net, target)
    else:
        layers = pair_layers(*close_pair([3, 5, 4, 2], seed, 0.3))
    x = unit_sphere_points(3, 1, seed=seed)[0]
    lo = np.where(x > 0, np.maximum(x - half, 0.0), np.maximum(x - half, -1.0))[None]
    hi = np.where(x > 0, np.minimum(x + half, 1.0), np.minimum(x + half, 0.0))[None]
    splits = _signs_at(layers, x)
    result = bound_subdomains(layers, lo, hi, ball=True, norm="l2", splits=splits)
    v = np.concatenate([np.maximum(x, 0.0), np.maximum(-x, 0.0)]) if layers.split else x
    upper = result.output_upper.C[0] @ v + result.output_upper.c[0] + result.output_upper.r[0]
    lower = result.output_lower.C[0] @ v + result.output_lower.c[0] - result.output_lower.r[0]
    error = layers.f.forward(x[None])[0] - layers.g.forward(x[None])[0]
    scale = 1e-9 * (1 + np.abs(error))
    assert np.all(lower <= error + scale) and np.all(error <= upper + scale)
    assert np.all(upper - lower <= scale)


@given(seed=st.integers(0, 2**32 - 1), norm=st.sampled_from(["l2", "linf"]), half=st.sampled_from([0.3, 0.05]))
@settings(max_examples=25, deadline=None)
def test_lagrangian_bounds_of_sign_constrained_boxes_hold_on_their_points(seed, norm, half):
    """Sub-boxes with a few units' signs fixed (random signs): the tightened bound is above the error
    of every sampled point of box and ball with those signs; a part found empty has no such point."""
    f, g = close_pair([3, 6, 5, 2], seed, 0.1)
    layers = pair_layers(f, g)
    rng = np.random.default_rng(seed)
    batch = 8
    centre = unit_sphere_points(3, batch, seed=seed)
    lo, hi = np.clip(centre - half, -1, 1), np.clip(centre + half, -1, 1)
    splits = []
    for n in layers.hidden:
        fixed = rng.uniform(size=(2, batch, n)) < 0.3
        signs = np.where(rng.uniform(size=(2, batch, n)) < 0.5, 1, -1) * fixed
        splits.append((signs[0].astype(np.int8), signs[1].astype(np.int8)))
    result = bound_subdomains(layers, lo, hi, ball=True, norm=norm, splits=splits)
    upper = constrained_upper(result, (lo, hi, True, False), norm, [a for a, _ in splits], [b for _, b in splits])
    assert np.all(upper <= np.where(result.upper > -np.inf, result.upper, np.inf))
    x = np.vstack([unit_sphere_points(3, 20000, seed=seed) * r for r in (1.0, 0.7)])
    errors = output_errors(f, g, x, norm)
    h_f = h_g = x
    masks = np.ones((batch, len(x)), dtype=bool)
    for (wf, wg), (sg, sf) in zip(zip(f.weights[:-1], g.weights[:-1], strict=True), splits, strict=True):
        z_f, z_g = h_f @ wf.T, h_g @ wg.T
        for b in range(batch):
            masks[b] &= np.all((sg[b] * z_g >= 0) & (sf[b] * z_f >= 0), axis=1)
        h_f, h_g = np.maximum(z_f, 0.0), np.maximum(z_g, 0.0)
    for b in range(batch):
        inside = masks[b] & np.all((x >= lo[b]) & (x <= hi[b]), axis=1)
        if inside.any():
            assert errors[inside].max() <= upper[b] * (1 + SLACK)


def test_the_ascent_from_given_starts_is_a_true_error_never_below_its_starts():
    f, g = close_pair([4, 8, 3], 5, 0.1)
    starts = np.vstack([np.eye(4), -np.eye(4), np.abs(unit_sphere_points(4, 8, seed=1))])
    value, point, finals = ascend_from(f, g, starts * 3.0, steps=50)
    assert abs(np.linalg.norm(point) - 1) < 1e-12
    assert value == pytest.approx(output_errors(f, g, point[None], "l2")[0], rel=1e-12)
    unit = starts / np.linalg.norm(starts, axis=1, keepdims=True)
    assert np.all(output_errors(f, g, finals, "l2") >= output_errors(f, g, unit, "l2"))
    assert value <= differential_bound(f, g).upper * (1 + SLACK)
    for bad in (np.zeros((1, 4)), np.ones((2, 3))):
        with pytest.raises(InvalidInputError, match="points"):
            ascend_from(f, g, bad)


@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6), d=st.integers(1, 5), antisymmetric=st.booleans())
@settings(max_examples=40, deadline=None)
def test_the_input_norm_bounds_the_map_on_split_inputs(seed, rows, d, antisymmetric):
    """``sup ||P s(x) + Q s(-x)|| / ||x||`` is at most ``input_norm([P, Q])``; for ``Q = -P`` (the map is
    ``P x``) the bound is within rounding of ``||P||``, not the ``sqrt(2) ||P||`` that ``||[P, -P]||`` gives."""
    from stronglth.verification._norm_bound import input_norm

    rng = np.random.default_rng(seed)
    p = rng.standard_normal((rows, d))
    a = np.hstack([p, -p if antisymmetric else rng.standard_normal((rows, d))])
    bound = input_norm(a, True)
    x = np.vstack([unit_sphere_points(d, 3000, seed=seed), np.linalg.svd(p)[2]])
    v = np.hstack([np.maximum(x, 0), np.maximum(-x, 0)])
    assert np.linalg.norm(v @ a.T, axis=1).max() <= bound * (1 + SLACK)
    assert bound <= spectral_upper(a)
    if antisymmetric:
        assert bound <= np.linalg.norm(p, 2) * min(rows, d) ** (1 / 1024) * (1 + 1e-9)
