"""A naive oracle for sup errors in d = 1, 2, 3: a dense grid of the domain, and a Lipschitz slack.

For any x of the domain the nearest grid point y is within ``radius`` (half the diagonal of a grid
cell), so ``max_grid <= sup <= max_grid' + L radius`` with ``L`` a Lipschitz constant of the error
(the product of the layers' spectral norms of each network, summed; biases do not change it, and
a leaky ReLU ``max(t, a t)`` is 1-Lipschitz like the ReLU) and ``max_grid'`` over the grid points
within ``radius`` of the domain. Written independently of the package: numpy only, a plain dense
forward pass (each network with its own slope ``a``, ``where(z > 0, z, a z)``). ``random_pair``
(the networks under test) is the one helper that builds package objects.
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

_LEAKY = st.one_of(st.sampled_from([0.01, 0.3, 0.5, 0.9]), st.floats(0.01, 0.95))
_SLOPE = st.one_of(st.just(0.0), _LEAKY)

LEAKY_PAIRS = dict(
    d=st.integers(1, 3),
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    n_out=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
    slopes=st.one_of(st.tuples(_LEAKY, _SLOPE), st.tuples(_SLOPE, _LEAKY)),
    biases=st.booleans(),
    domain=st.sampled_from(["ball", "box"]),
)
"""``@given(**LEAKY_PAIRS)``: a small pair of which at least one network has a leaky ReLU (the two
slopes may differ, one may be 0), with or without biases, a norm and a domain, for the grid oracle."""


def random_pair(
    d: int, widths: list[int], n_out: int, seed: int, *, biases: bool = False, slopes: tuple[float, float] = (0.0, 0.0)
) -> tuple[ReLUNetwork, ReLUNetwork]:
    """Two random networks of the same shape (Gaussian weights over sqrt(fan-in); with ``biases``, a
    bias vector of N(0, 1/4) entries in every layer); ``slopes``: their hidden activations' negative
    slopes (0: the ReLU; the weights do not depend on them)."""
    rng = np.random.default_rng(seed)
    dims = [d, *widths, n_out]

    def make(slope: float) -> ReLUNetwork:
        weights = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(dims[:-1], dims[1:], strict=True)]
        if not biases:
            return ReLUNetwork(weights, negative_slope=slope)
        return ReLUNetwork(weights, [0.5 * rng.standard_normal(o) for o in dims[1:]], negative_slope=slope)

    return make(slopes[0]), make(slopes[1])


def forward(weights, biases, x, scale=1.0, slope=0.0):
    """A plain dense forward pass: ``h = s(W h + b)``, linear last layer, times ``scale``; ``s`` the
    ReLU, or for ``slope = a > 0`` the leaky ReLU ``where(z > 0, z, a z)``."""
    h = x
    for i, w in enumerate(weights):
        h = h @ np.asarray(w).T
        if biases is not None and biases[i] is not None:
            h = h + np.asarray(biases[i])
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0) if slope == 0.0 else np.where(h > 0, h, slope * h)
    return scale * h


def parts(net):
    """``(weights, biases or None, output scale)`` of a ReLUNetwork or a ticket (its compact form)."""
    if hasattr(net, "compact"):
        net = net.compact()
    biases = None
    if getattr(net, "has_biases", False):
        biases = [b if given else None for b, given in zip(net.biases, net.bias_layers, strict=True)]
    return list(net.weights), biases, float(getattr(net, "output_scale", 1.0))


def slope_of(net) -> float:
    """The negative slope of the hidden activation of a network, or of a ticket (G's)."""
    if hasattr(net, "network"):
        return float(net.network.negative_slope)
    return float(getattr(net, "negative_slope", 0.0))


def lipschitz(net) -> float:
    weights, _, scale = parts(net)
    return scale * float(np.prod([np.linalg.norm(w, 2) for w in weights]))


def errors(f, g, x, norm="l2"):
    diff = forward(*parts(f)[:2], x, parts(f)[2], slope_of(f)) - forward(*parts(g)[:2], x, parts(g)[2], slope_of(g))
    return np.abs(diff).max(axis=1) if norm == "linf" else np.linalg.norm(diff, axis=1)


def grid(d: int, m: int) -> tuple[np.ndarray, float]:
    """The ``m^d`` points of a regular grid of ``[-1, 1]^d`` and the radius every point of the cube is within."""
    axis = np.linspace(-1.0, 1.0, m)
    points = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), axis=-1).reshape(-1, d)
    return points, (2.0 / (m - 1)) * np.sqrt(d) / 2


def sup_bounds(f, g, d: int, domain: str, *, norm: str = "l2", m: int | None = None) -> tuple[float, float]:
    """``(lower, upper)`` with ``lower <= sup over domain <= upper``, from a dense grid (module docstring);
    ``m`` points a side (default 20,001 for d = 1, 401 for d = 2, 41 for d = 3)."""
    points, radius = grid(d, m if m is not None else {1: 20_001, 2: 401, 3: 41}[d])
    values = errors(f, g, points, norm)
    if domain == "box":
        lower = upper = float(values.max())
    else:
        length = np.linalg.norm(points, axis=1)
        lower = float(values[length <= 1.0].max())
        upper = float(values[length <= 1.0 + radius].max())
    slack = (lipschitz(f) + lipschitz(g)) * radius
    return lower, upper + slack * (1 + 1e-9) + 1e-12
