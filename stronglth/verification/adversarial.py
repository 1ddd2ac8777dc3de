"""The adversarial error: projected gradient ascent on the unit sphere, a lower bound (docs/theory.md §6)."""

from __future__ import annotations

from typing import Any

import numpy as np

from stronglth.relu import ReLUNetwork
from stronglth.verification._common import network_pair, output_errors
from stronglth.verification.sampled import sampled_error, unit_sphere_points

__all__ = ["adversarial_error", "adversarial_search"]


def _input_gradient(net: ReLUNetwork, x: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """``d net(x)[outputs[k]] / dx`` for each row ``x[k]`` (the local linear map of a ReLU net)."""
    masks = []
    h = x
    for w in net.weights[:-1]:
        z = h @ w.T
        masks.append(z > 0)
        h = np.maximum(z, 0.0)
    grad = net.weights[-1][outputs]
    for w, mask in zip(reversed(net.weights[:-1]), reversed(masks), strict=False):
        grad = (grad * mask) @ w
    return grad


def adversarial_error(
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0
) -> tuple[float, np.ndarray]:
    """The best value and point of :func:`adversarial_search`."""
    value, point, _ = adversarial_search(net, target, n=n, starts=starts, steps=steps, seed=seed)
    return value, point


def adversarial_search(
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0
) -> tuple[float, np.ndarray, np.ndarray]:
    """Multi-start projected gradient ascent of ``|net - target|_inf`` on the unit sphere.

    Returns the best value, its point and the final points of all starts (local maxima). Starts
    from the ``starts`` best of ``n`` sampled points; each step moves along the tangential
    part of the gradient of the worst output (by homogeneity the radial part is the value itself),
    projects back to the sphere, and adapts its step size per start (grow on success, halve on
    failure). Never worse than the sampled estimate, which it starts from.
    """
    f, g = network_pair(net, target)
    best, _ = sampled_error(f, g, n=n, seed=seed)
    points = unit_sphere_points(f.dims[0], n, seed=seed)
    errors = output_errors(f, g, points)
    order = np.argsort(errors)[::-1][: max(1, starts)]
    x, value = points[order], errors[order]
    step = np.full(x.shape[0], 0.05)
    for _ in range(steps):
        diff = f.forward(x) - g.forward(x)
        worst = np.argmax(np.abs(diff), axis=1)
        sign = np.sign(diff[np.arange(x.shape[0]), worst])
        grad = sign[:, None] * (_input_gradient(f, x, worst) - _input_gradient(g, x, worst))
        tangent = grad - np.sum(grad * x, axis=1, keepdims=True) * x
        norm = np.linalg.norm(tangent, axis=1, keepdims=True)
        norm[norm == 0] = 1.0
        trial = x + step[:, None] * tangent / norm
        trial /= np.linalg.norm(trial, axis=1, keepdims=True)
        trial_value = output_errors(f, g, trial)
        better = trial_value > value
        x[better], value[better] = trial[better], trial_value[better]
        step = np.where(better, np.minimum(step * 1.5, 0.5), step * 0.5)
        if np.all(step < 1e-12):
            break
    i = int(np.argmax(value))
    if value[i] >= best:
        return float(value[i]), x[i], x
    best, where = sampled_error(f, g, n=n, seed=seed)
    return best, where, x
