"""The adversarial error: projected gradient ascent over the domain, a lower bound (docs/theory.md §6),
in ``norm="l2"`` (default) or ``"linf"``.

The domain is the unit ``l2`` ball (``domain="ball"``, default) or the box ``[-1, 1]^d`` (``"box"``).
Each network is evaluated with its own hidden activation (the ReLU or a leaky ReLU, docs/theory.md
§14.6; the gradient of :func:`input_vjp` follows it). For a bias-free pair (positively homogeneous,
docs/theory.md §1.5; leaky networks too) on the ball, the ascent moves on
the unit sphere along the gradient's tangential part; otherwise it steps along the gradient and
projects onto the domain (``x / max(1, ||x||_2)`` for the ball, clipping to ``[-1, 1]`` for the box),
and for a homogeneous pair on the box then scales the point onto the box's surface
(``x / ||x||_inf``, which multiplies the error by ``1 / ||x||_inf >= 1``).

The ``n`` sampled points that choose the starts are drawn and evaluated block by block (as in
:mod:`~stronglth.verification.sampled`), so memory stays bounded for any ``n``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError, TooLargeError
from stronglth.relu import ReLUNetwork, activate
from stronglth.verification._common import (
    check_domain,
    check_norm,
    is_homogeneous,
    layer_biases,
    network_pair,
    onto_domain,
    output_errors,
)
from stronglth.verification.sampled import BATCH_BYTES, batch_rows, check_samples, draw_blocks, point_kind

__all__ = [
    "adversarial_error",
    "adversarial_search",
    "ascend_from",
    "input_vjp",
    "onto_domain",
    "MAX_START_BYTES",
    "RANKED_SAMPLES",
]

MAX_START_BYTES = 2**30
"""The most memory (``starts`` points of the widest layer, float64) the starts of the ascent may take."""

RANKED_SAMPLES = BATCH_BYTES // 8
"""Up to this many samples (2**23), every error is kept and the starts are the first ``starts`` of
``numpy.argsort(errors)[::-1]``; beyond it the best ``starts`` are kept as the blocks go (equal errors
ranked by index), so that memory stays bounded."""

_CHECKPOINTS = 4096
"""At most this many saved generator states, to redraw the blocks that hold the chosen starts."""


def input_vjp(net: ReLUNetwork, x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    """``cotangent[k] . d net(x[k]) / dx`` for each row: the gradient of a weighted sum of outputs
    (a ReLU network is linear on each activation cone; at a kink the left cone's map is used). A
    leaky ReLU ``s_a`` (``net.negative_slope = a``) has derivative ``1`` where ``z > 0`` and ``a``
    elsewhere (docs/theory.md §14.6). Reads ``net.weights`` alone: an output scale must be folded
    into them first (:func:`~stronglth.verification._common.without_output_scale`)."""
    slope = float(getattr(net, "negative_slope", 0.0))
    masks = []
    h = x
    for w, b in zip(net.weights[:-1], layer_biases(net)[:-1], strict=True):
        z = h @ w.T
        if b is not None:
            z += b
        active = z > 0
        masks.append(active if slope == 0.0 else np.where(active, 1.0, slope))
        h = activate(z, slope)
    grad = cotangent @ net.weights[-1]
    for w, mask in zip(reversed(net.weights[:-1]), reversed(masks), strict=True):
        grad = (grad * mask) @ w
    return grad


def _ascent_direction(diff: np.ndarray, norm: str) -> np.ndarray:
    """The cotangent whose input gradient is that of ``||diff||``: ``diff / ||diff||_2`` for ``l2``,
    the sign of the largest coordinate for ``linf`` (one output: both are the sign)."""
    if diff.shape[1] == 1 or norm == "linf":
        worst = np.argmax(np.abs(diff), axis=1)
        out = np.zeros_like(diff)
        rows = np.arange(diff.shape[0])
        out[rows, worst] = np.sign(diff[rows, worst])
        return out
    length = np.linalg.norm(diff, axis=1, keepdims=True)
    length[length == 0] = 1.0
    return diff / length


def adversarial_error(
    net: Any,
    target: Any,
    *,
    n: int = 100_000,
    starts: int = 32,
    steps: int = 300,
    seed: int = 0,
    norm: str = "l2",
    domain: str = "ball",
) -> tuple[float, np.ndarray]:
    """The best value and point of :func:`adversarial_search`."""
    value, point, _ = adversarial_search(net, target, n=n, starts=starts, steps=steps, seed=seed, norm=norm, domain=domain)
    return value, point


def _ranked_starts(
    f: ReLUNetwork, g: ReLUNetwork, n: int, seed: int, starts: int, norm: str, kind: str = "sphere"
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The sampled error and its point (those of :func:`~stronglth.verification.sampled.sampled_error`
    on points of ``kind``), and the ``starts`` sampled points of largest error with their errors, best first."""
    rows = batch_rows(f, g)
    best, where = -1.0, np.zeros(f.d)
    rng = np.random.default_rng(seed)
    if n <= RANKED_SAMPLES:
        errors = np.empty(n)
        checkpoints: list[Any] = []
        blocks = -(-n // rows)
        every = -(-blocks // _CHECKPOINTS)  # a checkpoint every `every` blocks: at most _CHECKPOINTS of them
        for _, start, points in draw_blocks(rng, f.d, n, rows, checkpoints=checkpoints, every=every, kind=kind):
            gap = errors[start : start + len(points)] = output_errors(f, g, points, norm)
            i = int(np.argmax(gap))
            if gap[i] > best:
                best, where = float(gap[i]), points[i].copy()
        order = np.argsort(errors)[::-1][:starts]
        return best, where, _redraw(rng, f.d, n, rows, order, checkpoints, every, kind), errors[order]
    values, indices, x = np.empty(0), np.empty(0, dtype=np.int64), np.empty((0, f.d))
    for _, start, points in draw_blocks(rng, f.d, n, rows, kind=kind):
        gap = output_errors(f, g, points, norm)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), points[i].copy()
        top = np.argpartition(-gap, starts - 1)[:starts] if starts < len(gap) else np.arange(len(gap))
        values, indices = np.concatenate([values, gap[top]]), np.concatenate([indices, start + top])
        x = np.concatenate([x, points[top]])
        keep = np.lexsort((indices, -values))[:starts]
        values, indices, x = values[keep], indices[keep], x[keep]
    return best, where, x, values


def _redraw(
    rng: np.random.Generator, d: int, n: int, rows: int, order: np.ndarray, checkpoints: list[Any], every: int, kind: str
) -> np.ndarray:
    """The sampled points ``order`` (indices), redrawn from the checkpoints of the generator: only
    the blocks that hold them (and the blocks between a checkpoint and them) are drawn again."""
    x = np.empty((len(order), d))
    redraw: np.random.Generator | None = None
    cursor = -1
    for b in np.unique(order // rows).tolist():
        if redraw is None or not (b - b % every <= cursor <= b):
            redraw = np.random.Generator(type(rng.bit_generator)())
            redraw.bit_generator.state = checkpoints[b // every]
            cursor = b - b % every
        for block, start, points in draw_blocks(redraw, d, n, rows, first=cursor, kind=kind):
            if block == b:
                inside = (order >= start) & (order < start + len(points))
                x[inside] = points[order[inside] - start]
                break
        cursor = b + 1
    return x


def _on_sphere(x: np.ndarray, grad: np.ndarray, step: np.ndarray) -> np.ndarray:
    """A step along the gradient's tangent to the sphere at ``x``, normalised back onto the sphere."""
    tangent = grad - np.sum(grad * x, axis=1, keepdims=True) * x
    length = np.linalg.norm(tangent, axis=1, keepdims=True)
    length[length == 0] = 1.0
    trial = x + step[:, None] * tangent / length
    trial /= np.linalg.norm(trial, axis=1, keepdims=True)
    return trial


def _ascend(
    f: ReLUNetwork, g: ReLUNetwork, x: np.ndarray, value: np.ndarray, steps: int, norm: str, move: Callable[..., np.ndarray]
) -> None:
    """Gradient ascent of the rows of ``x`` (errors ``value``), in place: ``move(x, grad, step)``
    proposes each row's next point; a better one is kept and its step grows, a worse one halves it."""
    step = np.full(x.shape[0], 0.05)
    for _ in range(steps):
        cotangent = _ascent_direction(f.forward(x) - g.forward(x), norm)
        grad = input_vjp(f, x, cotangent) - input_vjp(g, x, cotangent)
        trial = move(x, grad, step)
        trial_value = output_errors(f, g, trial, norm)
        better = trial_value > value
        x[better], value[better] = trial[better], trial_value[better]
        step = np.where(better, np.minimum(step * 1.5, 0.5), step * 0.5)
        if np.all(step < 1e-12):
            break


def _projected(domain: str, homogeneous: bool) -> Callable[..., np.ndarray]:
    """A step along the normalised gradient, then :func:`onto_domain`."""

    def move(x: np.ndarray, grad: np.ndarray, step: np.ndarray) -> np.ndarray:
        length = np.linalg.norm(grad, axis=1, keepdims=True)
        length[length == 0] = 1.0
        return onto_domain(x + step[:, None] * grad / length, domain, homogeneous)

    return move


def _ascend_on(
    f: ReLUNetwork, g: ReLUNetwork, x: np.ndarray, value: np.ndarray, steps: int, norm: str, domain: str, homogeneous: bool
) -> None:
    """The ascent of the domain, in blocks of the memory budget, in place."""
    chunk = batch_rows(f, g)
    move = _on_sphere if domain == "ball" and homogeneous else _projected(domain, homogeneous)
    for begin in range(0, len(x), chunk):
        block, block_value = x[begin : begin + chunk], value[begin : begin + chunk]  # views: updated in place
        _ascend(f, g, block, block_value, steps, norm, move)


def adversarial_search(
    net: Any,
    target: Any,
    *,
    n: int = 100_000,
    starts: int = 32,
    steps: int = 300,
    seed: int = 0,
    norm: str = "l2",
    domain: str = "ball",
) -> tuple[float, np.ndarray, np.ndarray]:
    """Multi-start projected gradient ascent of ``||net - target||`` (in ``norm``) over ``domain``
    (``"ball"``, the unit ``l2`` ball, default, or ``"box"``, ``[-1, 1]^d``).

    Returns the best value, its point and the final points of all starts (local maxima): a lower
    bound on the sup error over the domain, attained at the point (docs/theory.md §6). Starts from
    the ``starts`` best of ``n`` points of :func:`~stronglth.verification.sampled.sampled_error` (on
    the same domain); for a bias-free pair on the ball each step moves along the tangential part of
    the gradient of the norm (the worst output for ``linf``; by homogeneity the radial part is the
    value itself) and projects back to the sphere; otherwise along the gradient, then onto the
    domain (:func:`onto_domain`). Each start adapts its step size (grow on success, halve on
    failure). Never worse than the sampled estimate, which it starts from.

    ``n`` (at most :data:`~stronglth.verification.sampled.MAX_SAMPLES`) and ``starts`` are positive
    integers, ``steps`` a non-negative one; the sampled points are evaluated in blocks (bounded
    memory), the starts ascend in blocks of the same budget.
    """
    norm, domain = check_norm(norm), check_domain(domain)
    f, g = network_pair(net, target)
    n, seed = check_samples(n), _validate.seed(seed)
    starts = min(_validate.positive_int(starts, "starts"), n)
    steps = _validate.non_negative_int(steps, "steps")
    widest = max(max(f.dims), max(g.dims))
    if starts * widest * 8 > MAX_START_BYTES:
        raise TooLargeError(
            f"starts={starts:,} points of width {widest:,} take {starts * widest * 8:,} bytes,"
            f" more than the limit of {MAX_START_BYTES:,} (MAX_START_BYTES); ask for fewer starts"
        )
    homogeneous = is_homogeneous(f, g)
    best, where, x, value = _ranked_starts(f, g, n, seed, starts, norm, point_kind(domain, homogeneous))
    _ascend_on(f, g, x, value, steps, norm, domain, homogeneous)
    i = int(np.argmax(value))
    if value[i] >= best:
        return float(value[i]), x[i], x
    return best, where, x


def ascend_from(
    net: Any, target: Any, points: np.ndarray, *, steps: int = 300, norm: str = "l2", domain: str = "ball"
) -> tuple[float, np.ndarray, np.ndarray]:
    """The ascent of :func:`adversarial_search` from given starts (``points``, ``(k, d)``, put on the
    domain by :func:`onto_domain`: onto the unit sphere for a bias-free pair on the ball; e.g.
    coordinate directions, data-like points, or another method's maximisers): the best error
    found, its point, and the final points. A lower bound over ``domain`` (docs/theory.md §6)."""
    norm, domain = check_norm(norm), check_domain(domain)
    f, g = network_pair(net, target)
    steps = _validate.non_negative_int(steps, "steps")
    x = np.atleast_2d(_validate.float_array(points, "points")).astype(np.float64, copy=True)
    if x.ndim != 2 or x.shape[1] != f.d or len(x) == 0:
        raise InvalidInputError(f"points must be a non-empty (k, {f.d}) array, got shape {np.shape(points)}")
    length = np.linalg.norm(x, axis=1)
    homogeneous = is_homogeneous(f, g)
    if not np.all(np.isfinite(length)) or (homogeneous and np.any(length == 0)):
        raise InvalidInputError("points must be finite and non-zero (each is put on the domain's surface)")
    if domain == "ball" and homogeneous:
        x /= length[:, None]
    else:
        x = onto_domain(x, domain, homogeneous)
    value = output_errors(f, g, x, norm)
    _ascend_on(f, g, x, value, steps, norm, domain, homogeneous)
    i = int(np.argmax(value))
    return float(value[i]), x[i].copy(), x
