"""The adversarial error: projected gradient ascent on the unit sphere, a lower bound (docs/theory.md §6),
in ``norm="l2"`` (default) or ``"linf"``."""

from __future__ import annotations

from typing import Any

import numpy as np

from stronglth.relu import ReLUNetwork
from stronglth.verification._common import check_norm, network_pair, output_errors
from stronglth.verification.sampled import sampled_error, unit_sphere_points

__all__ = ["adversarial_error", "adversarial_search", "input_vjp"]


def input_vjp(net: ReLUNetwork, x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    """``cotangent[k] . d net(x[k]) / dx`` for each row: the gradient of a weighted sum of outputs
    (a ReLU network is linear on each activation cone; at a kink the left cone's map is used)."""
    masks = []
    h = x
    for w in net.weights[:-1]:
        z = h @ w.T
        masks.append(z > 0)
        h = np.maximum(z, 0.0)
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
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0, norm: str = "l2"
) -> tuple[float, np.ndarray]:
    """The best value and point of :func:`adversarial_search`."""
    value, point, _ = adversarial_search(net, target, n=n, starts=starts, steps=steps, seed=seed, norm=norm)
    return value, point


def adversarial_search(
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0, norm: str = "l2"
) -> tuple[float, np.ndarray, np.ndarray]:
    """Multi-start projected gradient ascent of ``||net - target||`` (in ``norm``) on the unit sphere.

    Returns the best value, its point and the final points of all starts (local maxima): a lower
    bound on the sup error over the ball, attained at the point (docs/theory.md §6). Starts from the
    ``starts`` best of ``n`` sampled points; each step moves along the tangential part of the
    gradient of the norm (the worst output for ``linf``; by homogeneity the radial part is the value
    itself), projects back to the sphere, and adapts its step size per start (grow on success, halve
    on failure). Never worse than the sampled estimate, which it starts from.
    """
    norm = check_norm(norm)
    f, g = network_pair(net, target)
    best, _ = sampled_error(f, g, n=n, seed=seed, norm=norm)
    points = unit_sphere_points(f.dims[0], n, seed=seed)
    errors = output_errors(f, g, points, norm)
    order = np.argsort(errors)[::-1][: max(1, starts)]
    x, value = points[order], errors[order]
    step = np.full(x.shape[0], 0.05)
    for _ in range(steps):
        cotangent = _ascent_direction(f.forward(x) - g.forward(x), norm)
        grad = input_vjp(f, x, cotangent) - input_vjp(g, x, cotangent)
        tangent = grad - np.sum(grad * x, axis=1, keepdims=True) * x
        length = np.linalg.norm(tangent, axis=1, keepdims=True)
        length[length == 0] = 1.0
        trial = x + step[:, None] * tangent / length
        trial /= np.linalg.norm(trial, axis=1, keepdims=True)
        trial_value = output_errors(f, g, trial, norm)
        better = trial_value > value
        x[better], value[better] = trial[better], trial_value[better]
        step = np.where(better, np.minimum(step * 1.5, 0.5), step * 0.5)
        if np.all(step < 1e-12):
            break
    i = int(np.argmax(value))
    if value[i] >= best:
        return float(value[i]), x[i], x
    best, where = sampled_error(f, g, n=n, seed=seed, norm=norm)
    return best, where, x
