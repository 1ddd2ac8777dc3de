"""Sup-norm error of a network against a target over the unit ball (REFERENCE §1).

Both sides are bias-free ReLU networks, hence positively homogeneous, so the sup over the ball is
attained on the unit sphere. This module starts with the sampled estimate (a lower bound on the
true sup); the adversarial, exact and certified methods build on it.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from stronglth import _validate
from stronglth.errors import ShapeError

__all__ = ["unit_sphere_points", "sampled_error"]


class Network(Protocol):
    def forward(self, X: Any) -> np.ndarray: ...


def _input_dim(net: Any) -> int:
    if hasattr(net, "network"):  # a Ticket
        return net.network.dims[0]
    return net.dims[0]


def unit_sphere_points(d: int, n: int, *, seed: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of ``R^d`` (normalised Gaussians), float64 ``(n, d)``."""
    d = _validate.positive_int(d, "d")
    n = _validate.positive_int(n, "n")
    x = np.random.default_rng(_validate.seed(seed)).standard_normal((n, d))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; keeps the function total
    return x / norms


def sampled_error(net: Network, target: Network, *, n: int = 100_000, seed: int = 0, batch: int = 65_536) -> tuple[float, np.ndarray]:
    """``max |net(x) - target(x)|_inf`` over ``n`` points uniform on the sphere, and the argmax point.

    A lower bound on the sup-norm error over the unit ball. Evaluated in batches of ``batch`` points.
    """
    d = _input_dim(net)
    if _input_dim(target) != d:
        raise ShapeError(f"the networks have input dimensions {d} and {_input_dim(target)}")
    points = unit_sphere_points(d, n, seed=seed)
    best, where = -1.0, points[0]
    for start in range(0, n, batch):
        x = points[start:start + batch]
        gap = np.abs(net.forward(x) - target.forward(x)).max(axis=1)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), x[i]
    return best, where
