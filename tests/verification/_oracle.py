"""A naive oracle for sup errors in d = 1, 2: a dense grid of the domain, and a Lipschitz slack.

For any x of the domain the nearest grid point y is within ``radius`` (half the diagonal of a grid
cell), so ``max_grid <= sup <= max_grid' + L radius`` with ``L`` a Lipschitz constant of the error
(the product of the layers' spectral norms of each network, summed; biases do not change it) and
``max_grid'`` over the grid points within ``radius`` of the domain. Written independently of the
package: numpy only, a plain dense forward pass. ``random_pair`` (the networks under test) is the
one helper that builds package objects.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from stronglth import ReLUNetwork

SMALL_PAIRS = dict(
    d=st.integers(1, 2),
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=2),
    n_out=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
)
"""``@given(**SMALL_PAIRS)``: the arguments of a small :func:`random_pair` and a norm, for the grid oracle."""


def random_pair(d: int, widths: list[int], n_out: int, seed: int, *, biases: bool = False) -> tuple[ReLUNetwork, ReLUNetwork]:
    """Two random networks of the same shape (Gaussian weights over sqrt(fan-in); with ``biases``, a
    bias vector of N(0, 1/4) entries in every layer)."""
    rng = np.random.default_rng(seed)
    dims = [d, *widths, n_out]

    def make() -> ReLUNetwork:
        weights = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(dims[:-1], dims[1:], strict=True)]
        if not biases:
            return ReLUNetwork(weights)
        return ReLUNetwork(weights, [0.5 * rng.standard_normal(o) for o in dims[1:]])

    return make(), make()


def forward(weights, biases, x, scale=1.0):
    """A plain dense forward pass: ``h = s(W h + b)``, linear last layer, times ``scale``."""
    h = x
    for i, w in enumerate(weights):
        h = h @ np.asarray(w).T
        if biases is not None and biases[i] is not None:
            h = h + np.asarray(biases[i])
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return scale * h


def parts(net):
    """``(weights, biases or None, output scale)`` of a ReLUNetwork or a ticket (its compact form)."""
    if hasattr(net, "compact"):
        net = net.compact()
    biases = None
    if getattr(net, "has_biases", False):
        biases = [b if given else None for b, given in zip(net.biases, net.bias_layers, strict=True)]
    return list(net.weights), biases, float(getattr(net, "output_scale", 1.0))


def lipschitz(net) -> float:
    weights, _, scale = parts(net)
    return scale * float(np.prod([np.linalg.norm(w, 2) for w in weights]))


def errors(f, g, x, norm="l2"):
    diff = forward(*parts(f)[:2], x, parts(f)[2]) - forward(*parts(g)[:2], x, parts(g)[2])
    return np.abs(diff).max(axis=1) if norm == "linf" else np.linalg.norm(diff, axis=1)


def grid(d: int, m: int) -> tuple[np.ndarray, float]:
    """The ``m^d`` points of a regular grid of ``[-1, 1]^d`` and the radius every point of the cube is within."""
    axis = np.linspace(-1.0, 1.0, m)
    points = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), axis=-1).reshape(-1, d)
    return points, (2.0 / (m - 1)) * np.sqrt(d) / 2


def sup_bounds(f, g, d: int, domain: str, *, norm: str = "l2", m: int | None = None) -> tuple[float, float]:
    """``(lower, upper)`` with ``lower <= sup over domain <= upper``, from a dense grid (module docstring);
    ``m`` points a side (default 20,001 for d = 1, 401 for d = 2)."""
    points, radius = grid(d, m if m is not None else (20_001 if d == 1 else 401))
    values = errors(f, g, points, norm)
    if domain == "box":
        lower = upper = float(values.max())
    else:
        length = np.linalg.norm(points, axis=1)
        lower = float(values[length <= 1.0].max())
        upper = float(values[length <= 1.0 + radius].max())
    slack = (lipschitz(f) + lipschitz(g)) * radius
    return lower, upper + slack * (1 + 1e-9) + 1e-12
