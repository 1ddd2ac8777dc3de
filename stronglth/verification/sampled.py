"""The sampled error: the max over points uniform on the unit sphere, a lower bound (docs/theory.md §6),
in the Euclidean norm of the output difference (``norm="l2"``, default) or its max norm (``"linf"``).

Every network here is a bias-free ReLU network, hence positively homogeneous (docs/theory.md §1):
the sup of the error over the ball is attained on the unit sphere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.verification._common import check_norm, network_pair, output_errors

__all__ = ["unit_sphere_points", "sampled_error"]


def unit_sphere_points(d: int, n: int, *, seed: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of ``R^d`` (normalised Gaussians), float64 ``(n, d)``."""
    d = _validate.positive_int(d, "d")
    n = _validate.positive_int(n, "n")
    x = np.random.default_rng(_validate.seed(seed)).standard_normal((n, d))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; keeps the function total
    return x / norms


def sampled_error(
    net: Any, target: Any, *, n: int = 100_000, seed: int = 0, batch: int = 65_536, norm: str = "l2"
) -> tuple[float, np.ndarray]:
    """``max_x ||net(x) - target(x)||`` over ``n`` points uniform on the sphere, and the argmax.

    A lower bound on the sup error over the ball in ``norm`` (``"l2"`` or ``"linf"``,
    docs/theory.md §6); evaluated in batches of ``batch`` points.
    """
    norm = check_norm(norm)
    f, g = network_pair(net, target)
    points = unit_sphere_points(f.dims[0], n, seed=seed)
    best, where = -1.0, points[0]
    for start in range(0, n, batch):
        gap = output_errors(f, g, points[start : start + batch], norm)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), points[start + i]
    return best, where
