"""Branch-and-bound on the differential bound: true lower and upper bounds on ``sup ||f - g||``
that meet as the sub-domains shrink (docs/theory.md §10).

Best-first on the upper bound: the sub-domain with the largest upper bound is split, its parts
bounded again by :func:`~stronglth.verification.differential.bound_subdomains`; a part whose upper
bound is at most ``(1 + rel_gap)`` times the best error found so far is closed (its bound is kept
for the final answer). The lower bound is always the error at a point of the domain's surface (the
unit sphere, or the surface of the box ``[-1, 1]^d``). Anytime: at the time limit the result keeps
both bounds and says ``inconclusive``.

- ``d <= INPUT_SPLIT_MAX_D``: input splitting. The domain is covered by the ``2^d`` orthant boxes
  (on each, ``v = (s(x), s(-x))`` is linear), split along their widest side; by positive
  homogeneity the sup is attained on the surface, so a box that misses it (inside the sphere, or
  outside the ball) is dropped. Lower bounds: the boxes' centres put on the surface. For networks
  with biases (not homogeneous) only the boxes outside the ball are dropped, and the centres are
  projected onto the domain (docs/theory.md §10).
- larger ``d``: activation splitting. A sub-domain fixes the signs of some units of both networks
  (``z >= 0`` or ``<= 0``, ``z_f >= 0`` or ``<= 0``: four parts per unit); the unit split is the one
  whose relaxation is widest, weighted by its outgoing weights. Lower bounds: the maximisers of the
  output bounds, put on the sphere.

In both, a part's sign constraints also enter its output bound by Lagrangian relaxation, and the
output bound is concretised over box and ball by the dual of the ball constraint
(:func:`constrained_upper`, :mod:`~stronglth.verification._lagrangian`, docs/theory.md §10).

A network with a leaky ReLU is searched in its ReLU form (:func:`~stronglth.verification._pair.pair_layers`,
docs/theory.md §14.6): the bounds are certified for that form, equal to the leaky network up to one
rounding of each product ``a W``; the lower bounds are errors of that form at points of the domain.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import numpy as np

from stronglth.verification._common import ExactResult, check_norm
from stronglth.verification._lagrangian import constraint_rows, tightened_outputs
from stronglth.verification._symbolic import up
from stronglth.verification.differential import (
    PairLayers,
    best_point,
    bound_subdomains,
    check_domain,
    maximiser_points,
    pair_layers,
    scaled_negative,
)

__all__ = ["INPUT_SPLIT_MAX_D", "branch_and_bound"]

INPUT_SPLIT_MAX_D = 6
"""Up to this input dimension the domain is split (``2^d`` orthants to start); beyond, activations."""

MAX_OPEN = 2_000_000
"""At most this many open sub-domains are kept (input splitting); past it the search stops, inconclusive."""


def _meets_surface(lo: np.ndarray, hi: np.ndarray, ball: bool, homogeneous: bool = True) -> np.ndarray:
    """Boxes that may meet the domain's surface (kept): for the ball, the farthest corner is not
    strictly inside the sphere and the nearest point not outside it (a margin of ``1e-9`` on the
    squared norms, so rounding never drops a box that meets it); for the box, a side on ``+-1``.
    For a pair with biases (not homogeneous: the sup may be inside) every box that meets the domain."""
    if not ball:
        return np.any((lo <= -1.0) | (hi >= 1.0), axis=1) if homogeneous else np.ones(len(lo), dtype=bool)
    far = np.square(np.maximum(np.abs(lo), np.abs(hi))).sum(axis=1)
    near = np.square(np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))).sum(axis=1)
    return ((far >= 1.0 - 1e-9) | (not homogeneous)) & (near <= 1.0 + 1e-9)


def _start_points(d: int, seed_points: np.ndarray | None, start_point: np.ndarray | None) -> np.ndarray:
    points = [np.eye(d), -np.eye(d)]
    for p in (seed_points, start_point):
        if p is not None:
            points.append(np.atleast_2d(np.asarray(p, dtype=np.float64)).reshape(-1, d))
    return np.vstack(points)


def branch_and_bound(
    net: Any,
    target: Any,
    *,
    norm: str = "l2",
    domain: str = "ball",
    rel_gap: float = 0.01,
    time_limit: float = 60.0,
    seed_points: np.ndarray | None = None,
    start_point: np.ndarray | None = None,
    batch: int = 512,
) -> ExactResult:
    """True bounds ``lower <= sup ||net - target|| <= upper`` over ``domain`` (``"ball"``, the unit
    ``l2`` ball, or ``"box"``, ``[-1, 1]^d``) in ``norm``, by best-first branch-and-bound on the
    differential bound (module docstring), until ``upper <= (1 + rel_gap) lower`` (status
    ``within_gap``) or ``time_limit`` seconds (``inconclusive``). ``seed_points``, ``start_point``:
    points whose errors start the lower bound (e.g. the adversarial search's)."""
    started = time.perf_counter()
    norm, domain = check_norm(norm), check_domain(domain)
    layers = pair_layers(net, target)
    points = _start_points(layers.d, seed_points, start_point)
    lower, point = best_point(layers, points, norm, domain)
    if layers.d <= INPUT_SPLIT_MAX_D:
        search = _input_split
    else:
        search = _activation_split
    lower, point, upper, complete = search(layers, norm, domain, rel_gap, started + time_limit, batch, lower, point)
    upper = max(upper, lower)
    status = "within_gap" if upper <= (1 + rel_gap) * lower or upper <= 1e-300 else "inconclusive"
    if complete and upper == lower:
        status = "within_gap"
    return ExactResult(lower, float(upper), point, status, "bab", time.perf_counter() - started, norm)


UNIT_SPLIT_MAX = 4
"""Input splitting: a box with at most this many units of uncertain sign (in either network) is
split on the most important of them instead (four parts: the signs of ``z`` and ``z_f``), so that
a maximum on an activation boundary (the usual case: the ticket's kinks are not the target's) is
reached without ever smaller boxes; more unstable units than this, or none, and the box is halved."""


UNIT_SPLIT_WIDTH = 2.0**-6
"""... and only once its widest side is at most this (larger boxes are halved first)."""


def _unit_scores(layers: PairLayers, concrete: list, fixed: list[np.ndarray]) -> list[np.ndarray]:
    """How much splitting each hidden unit may tighten the bound (``B, n`` per layer; ``-1`` for
    units already split or stable): the width of its relaxations (the difference's, and the
    target's triangle) times the absolute sums of its outgoing weights."""
    scores = []
    for i, (z_lo, z_hi, f_lo, f_hi, d_lo, d_hi) in enumerate(concrete):
        wf, wg = layers.f_weights[i + 1], layers.g_weights[i + 1]
        unstable_g, unstable_f = (z_lo < 0) & (z_hi > 0), (f_lo < 0) & (f_hi > 0)
        diff_width = np.where(unstable_g | unstable_f, d_hi - d_lo + 1e-300, 0.0)
        triangle = np.where(unstable_g, -z_lo * z_hi / np.where(unstable_g, z_hi - z_lo, 1.0), 0.0)
        score = diff_width * np.abs(wf).sum(axis=0) + triangle * np.abs(wf - wg).sum(axis=0)
        scores.append(np.where(fixed[i] | ~(unstable_g | unstable_f), -1.0, score))
    return scores


def _best_units(
    layers: PairLayers, concrete: list, g_signs: list[np.ndarray], f_signs: list[np.ndarray], batch: int
) -> tuple[np.ndarray, ...]:
    """Per sub-domain (``batch`` of them): the number of unsplit unstable units, and the layer and unit
    of the best one (none for a pair without hidden units)."""
    if not concrete or not g_signs:
        return np.zeros(batch, int), np.zeros(batch, int), np.zeros(batch, int)
    scores = _unit_scores(layers, concrete, [(g != 0) | (f != 0) for g, f in zip(g_signs, f_signs, strict=True)])
    count = sum((s > 0).sum(axis=1) for s in scores)
    best = np.stack([s.max(axis=1) for s in scores], axis=1)
    layer = np.argmax(best, axis=1)
    unit = np.array([int(np.argmax(scores[layer[b]][b])) for b in range(batch)], dtype=int)
    return count, layer, unit


def _input_split(
    layers: PairLayers, norm: str, domain: str, rel_gap: float, deadline: float, batch: int, lower: float, point: np.ndarray
) -> tuple[float, np.ndarray, float, bool]:
    d, ball = layers.d, domain == "ball"
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
    lo, hi = np.where(signs < 0, -1.0, 0.0), np.where(signs < 0, 0.0, 1.0)
    gs = [np.zeros((len(lo), n), dtype=np.int8) for n in layers.hidden]
    fs = [np.zeros((len(lo), n), dtype=np.int8) for n in layers.hidden]

    def bound(lo: np.ndarray, hi: np.ndarray, gs: list, fs: list) -> tuple[np.ndarray, ...]:
        result = bound_subdomains(layers, lo, hi, ball=ball, norm=norm, splits=list(zip(gs, fs, strict=True)) or None)
        upper = constrained_upper(result, (lo, hi, ball, layers.split), norm, gs, fs)
        return (upper, *_best_units(layers, result.layers, gs, fs, len(lo)))

    ub, count, unit_layer, unit = bound(lo, hi, gs, fs)
    closed = -math.inf  # the largest upper bound of a closed box
    combos = np.array([(1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=np.int8)
    fresh = np.ones(len(lo), dtype=bool)
    while True:
        if np.any(fresh):
            found, where = best_point(layers, 0.5 * (lo[fresh] + hi[fresh]), norm, domain)
            if found > lower:
                lower, point = found, where
        keep = ub > (1 + rel_gap) * lower
        if not np.all(keep):
            closed = max(closed, float(ub[~keep].max()))
            lo, hi, ub, count, unit_layer, unit = (a[keep] for a in (lo, hi, ub, count, unit_layer, unit))
            gs, fs = [a[keep] for a in gs], [a[keep] for a in fs]
        if len(ub) == 0:
            return lower, point, max(closed, lower), True
        if time.perf_counter() >= deadline or len(ub) > MAX_OPEN:
            return lower, point, max(closed, float(ub.max())), False
        k = min(batch, len(ub))
        pick = np.argpartition(-ub, k - 1)[:k] if k < len(ub) else np.arange(len(ub))
        rest = np.ones(len(ub), dtype=bool)
        rest[pick] = False
        small = (hi[pick] - lo[pick]).max(axis=1) <= UNIT_SPLIT_WIDTH
        on_unit = (count[pick] > 0) & (count[pick] <= UNIT_SPLIT_MAX) & small
        by_unit, by_input = pick[on_unit], pick[~on_unit]
        plo, phi = lo[by_input], hi[by_input]
        rows = np.arange(len(by_input))
        axis = np.argmax(phi - plo, axis=1)
        mid = 0.5 * (plo[rows, axis] + phi[rows, axis])
        left_hi, right_lo = phi.copy(), plo.copy()
        left_hi[rows, axis] = mid
        right_lo[rows, axis] = mid
        clo = np.vstack((plo, right_lo, np.repeat(lo[by_unit], 4, axis=0)))
        chi = np.vstack((left_hi, phi, np.repeat(hi[by_unit], 4, axis=0)))
        cgs: list[np.ndarray] = []
        cfs: list[np.ndarray] = []
        for i in range(len(layers.hidden)):
            for source, out, column in ((gs, cgs, 0), (fs, cfs, 1)):
                part = np.repeat(source[i][by_unit], 4, axis=0)
                hit = np.repeat(unit_layer[by_unit] == i, 4)
                targets = np.repeat(unit[by_unit], 4)
                values = np.tile(combos[:, column], len(by_unit))
                part[np.flatnonzero(hit), targets[hit]] = values[hit]
                out.append(np.vstack((source[i][by_input], source[i][by_input], part)))
        inside = _meets_surface(clo, chi, ball, layers.homogeneous)
        clo, chi = clo[inside], chi[inside]
        cgs, cfs = [a[inside] for a in cgs], [a[inside] for a in cfs]
        if len(clo):
            cub, ccount, clayer, cunit = bound(clo, chi, cgs, cfs)
        else:
            cub = ccount = clayer = cunit = np.empty(0, dtype=int)
        lo, hi = np.vstack((lo[rest], clo)), np.vstack((hi[rest], chi))
        ub, count = np.concatenate((ub[rest], cub)), np.concatenate((count[rest], ccount))
        unit_layer, unit = np.concatenate((unit_layer[rest], clayer)), np.concatenate((unit[rest], cunit))
        gs = [np.vstack((a[rest], b)) for a, b in zip(gs, cgs, strict=True)]
        fs = [np.vstack((a[rest], b)) for a, b in zip(fs, cfs, strict=True)]
        fresh = np.concatenate((np.zeros(int(rest.sum()), dtype=bool), np.ones(len(clo), dtype=bool)))


def constrained_upper(result: Any, dom: tuple, norm: str, g_signs: list, f_signs: list) -> np.ndarray:
    """``result.upper``, tightened by the Lagrangian relaxation of the parts' sign constraints and the
    dual concretisation over box and ball (:mod:`~stronglth.verification._lagrangian`; ``-inf`` for
    parts found empty)."""
    upper = result.upper.copy()
    if not result.symbolic:
        return upper
    G, h, _ = constraint_rows(result.symbolic, g_signs, f_signs)
    rows = np.flatnonzero(upper > -math.inf)
    if len(rows) == 0:
        return upper
    lo, hi, ball, split = dom
    tight, empty = tightened_outputs(
        result.output_upper.rows(rows), result.output_lower.rows(rows), G[rows], h[rows], (lo[rows], hi[rows], ball, split)
    )
    per_output = np.minimum(result.per_output[rows], tight)
    if norm == "linf" or per_output.shape[1] == 1:
        combined = per_output.max(axis=1)
    else:
        combined = up(np.sqrt(np.square(per_output).sum(axis=1)), per_output.shape[1] + 3)
    upper[rows] = np.where(empty, -math.inf, np.minimum(upper[rows], combined))
    return upper


def _activation_split(
    layers: PairLayers, norm: str, domain: str, rel_gap: float, deadline: float, batch: int, lower: float, point: np.ndarray
) -> tuple[float, np.ndarray, float, bool]:
    d, ball = layers.d, domain == "ball"
    lo, hi = -np.ones((1, d)), np.ones((1, d))
    root = bound_subdomains(layers, lo, hi, ball=ball, norm=norm)
    lower, point = _improve(layers, root, norm, domain, lower, point)
    if not layers.paired or not layers.hidden:
        return lower, point, float(root.upper[0]), not layers.hidden
    zeros = [np.zeros(n, dtype=np.int8) for n in layers.hidden]
    open_nodes: list[tuple[float, list[np.ndarray], list[np.ndarray], list]] = [(float(root.upper[0]), zeros, zeros, root.layers)]
    closed = -math.inf
    combos = np.array([(1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=np.int8)
    while open_nodes:
        open_nodes.sort(key=lambda node: -node[0])
        done = [node for node in open_nodes if node[0] <= (1 + rel_gap) * lower]
        if done:
            closed = max(closed, max(node[0] for node in done))
            open_nodes = [node for node in open_nodes if node[0] > (1 + rel_gap) * lower]
            continue
        if time.perf_counter() >= deadline:
            break
        ub, g_signs, f_signs, concrete = open_nodes.pop(0)
        fixed = [(g != 0) | (f != 0) for g, f in zip(g_signs, f_signs, strict=True)]
        scores = [s[0] for s in _unit_scores(layers, concrete, fixed)]
        layer = int(np.argmax([s.max() for s in scores]))
        unit = int(np.argmax(scores[layer]))
        if scores[layer][unit] <= 0:  # nothing left to split: this bound is final
            closed = max(closed, ub)
            continue
        splits = []
        for i in range(len(layers.hidden)):
            g_rows, f_rows = np.repeat(g_signs[i][None], 4, axis=0), np.repeat(f_signs[i][None], 4, axis=0)
            if i == layer:
                g_rows[:, unit], f_rows[:, unit] = combos[:, 0], combos[:, 1]
            splits.append((g_rows, f_rows))
        children = bound_subdomains(
            layers, np.repeat(lo, 4, axis=0), np.repeat(hi, 4, axis=0), ball=ball, norm=norm, splits=splits
        )
        lower, point = _improve(layers, children, norm, domain, lower, point)
        four = (np.repeat(lo, 4, axis=0), np.repeat(hi, 4, axis=0), ball, layers.split)
        children.upper = constrained_upper(children, four, norm, [a for a, _ in splits], [b for _, b in splits])
        for c in range(4):
            if children.upper[c] > -math.inf:
                concrete_c = [tuple(a[c : c + 1] for a in layer_bounds) for layer_bounds in children.layers]
                open_nodes.append(
                    (min(ub, float(children.upper[c])), [s[0][c] for s in splits], [s[1][c] for s in splits], concrete_c)
                )
    upper = max([closed, lower] + [node[0] for node in open_nodes])
    return lower, point, upper, not open_nodes


def _improve(
    layers: PairLayers, bounds: Any, norm: str, domain: str, lower: float, point: np.ndarray
) -> tuple[float, np.ndarray]:
    """The best of ``lower`` and the errors at the maximisers of the output bounds."""
    d = layers.d
    candidates = np.vstack(
        [
            maximiser_points(bounds.output_upper, layers.split, d),
            maximiser_points(scaled_negative(bounds.output_lower), layers.split, d),
        ]
    )
    if len(candidates) == 0:
        return lower, point
    found, where = best_point(layers, candidates, norm, domain)
    return (found, where) if found > lower else (lower, point)
