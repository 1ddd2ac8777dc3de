"""The sampled error: the max over seeded random points of the domain, a lower bound (docs/theory.md §6),
in the Euclidean norm of the output difference (``norm="l2"``, default) or its max norm (``"linf"``).

The domain is the unit ``l2`` ball (``domain="ball"``, default) or the box ``[-1, 1]^d`` (``"box"``).
A pair of bias-free ReLU networks (or leaky ReLU networks, each evaluated with its own slope,
docs/theory.md §14.6) is positively homogeneous (docs/theory.md §1.5): the sup of its
error over the ball is attained on the unit sphere, over the box on the box's surface
(``||x||_inf = 1``), so the points are drawn there (:data:`POINT_KINDS`: ``"sphere"``,
``"box_surface"``). When either network has biases it is not homogeneous and the sup may be attained
anywhere in the domain: the points are drawn uniformly in it (``"ball"``, ``"box"``).

The points are drawn and evaluated in blocks of rows under a fixed memory budget
(:data:`BATCH_BYTES`), so any number of samples runs in bounded memory. Drawing
``numpy.random.default_rng(seed)`` in consecutive blocks of rows gives exactly the values of one
draw of shape ``(n, d)``: the points, and every error measured on them, do not depend on the blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import TooLargeError
from stronglth.relu import ReLUNetwork
from stronglth.verification._common import check_domain, check_norm, is_homogeneous, network_pair, output_errors

__all__ = [
    "POINT_KINDS",
    "unit_sphere_points",
    "domain_points",
    "point_kind",
    "sphere_point_batches",
    "sampled_error",
    "batch_rows",
    "check_samples",
    "draw_blocks",
    "BATCH_BYTES",
    "MAX_SAMPLES",
    "MAX_POINT_ENTRIES",
]

BATCH_BYTES = 64 * 2**20
"""The memory budget of one block of sphere points: ``batch_rows`` rows of the widest layer in float64."""

MAX_SAMPLES = 10**10
"""The most sphere points a sampled (or adversarial) error may ask for; more raises
:class:`~stronglth.errors.TooLargeError` (memory stays bounded for any ``n``, but time does not)."""

MAX_POINT_ENTRIES = 2**28
"""The most entries (``n * d``, 2 GiB in float64) :func:`unit_sphere_points` materialises at once;
larger requests raise :class:`~stronglth.errors.TooLargeError` (use :func:`sphere_point_batches`)."""

_ROW_QUANTUM = 64
"""Blocks of more rows than this are a multiple of it, so that BLAS processes every row of a block
exactly as it would in one large product (its kernels group rows; a row's result depends on its group)."""


POINT_KINDS = ("sphere", "ball", "box_surface", "box")
"""How the sampled points are drawn (``numpy.random.default_rng(seed)``, row by row, a fixed number of
draws per row, so that blocks of rows never change a value):

- ``"sphere"``: uniform on the unit sphere: ``d`` standard normals, normalised;
- ``"ball"``: uniform in the unit ball: ``d + 2`` standard normals divided by the norm of all
  ``d + 2``, the first ``d`` kept (a uniform point of the sphere ``S^(d+1)`` projected onto ``R^d`` is
  uniform in the ball ``B^d``: Voelker, Gosmann, Stewart 2017);
- ``"box_surface"``: uniform on the surface of ``[-1, 1]^d``: ``d + 1`` uniforms ``u`` in ``[0, 1)``;
  ``x_j = 2 u_j - 1``, then the face ``k = floor(2 d u_d)`` (the ``2d`` faces have equal area) sets
  ``x_(k // 2) = -1`` (``k`` even) or ``+1`` (``k`` odd);
- ``"box"``: uniform in ``[-1, 1]^d``: ``x_j = 2 u_j - 1``.
"""


def point_kind(domain: str, homogeneous: bool) -> str:
    """The points the sampled error draws on ``domain`` (``"ball"`` or ``"box"``): on its surface
    for a positively homogeneous pair (where the sup is attained), in its volume otherwise."""
    if domain == "ball":
        return "sphere" if homogeneous else "ball"
    return "box_surface" if homogeneous else "box"


def check_samples(n: Any, name: str = "n") -> int:
    """A number of sphere points: a positive integer, at most :data:`MAX_SAMPLES`."""
    n = _validate.positive_int(n, name)
    if n > MAX_SAMPLES:
        raise TooLargeError(f"{name}={n:,} sphere points is more than the limit of {MAX_SAMPLES:,} (MAX_SAMPLES)")
    return n


def batch_rows(*networks: ReLUNetwork, cap: int = 65_536) -> int:
    """Rows per block so that a block of the widest layer of ``networks`` (input included) fits in
    :data:`BATCH_BYTES`: ``BATCH_BYTES // (8 * widest)`` (rounded down to a multiple of 64 when
    above it), at least 1, at most ``cap``."""
    widest = max(max(net.dims) for net in networks)
    rows = max(1, BATCH_BYTES // (8 * widest))
    if rows > _ROW_QUANTUM:
        rows -= rows % _ROW_QUANTUM
    return min(cap, rows)


def sphere_point_batches(d: int, n: int, *, seed: int, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, block)`` for consecutive blocks of at most ``rows`` of the ``n`` points of
    :func:`unit_sphere_points` (identical values), so that only one block is in memory at a time."""
    d = _validate.positive_int(d, "d")
    n = check_samples(n)
    rows = _validate.positive_int(rows, "rows")
    for _, start, block in draw_blocks(np.random.default_rng(_validate.seed(seed)), d, n, rows):
        yield start, block


def draw_blocks(
    rng: np.random.Generator,
    d: int,
    n: int,
    rows: int,
    *,
    first: int = 0,
    checkpoints: list[Any] | None = None,
    every: int = 1,
    kind: str = "sphere",
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(b, start, block)`` for the blocks ``b = first, first + 1, ...`` of ``rows`` points of
    ``kind`` (:data:`POINT_KINDS`) drawn from ``rng`` (positioned at block ``first``). With
    ``checkpoints``, the generator's state before every block ``b`` with ``b % every == 0`` is
    appended to it (to redraw that block later)."""
    for b in range(first, -(-n // rows)):
        if checkpoints is not None and b % every == 0:
            checkpoints.append(rng.bit_generator.state)
        start = b * rows
        yield b, start, _draw(rng, min(rows, n - start), d, kind)


def _draw(rng: np.random.Generator, rows: int, d: int, kind: str) -> np.ndarray:
    """``rows`` points of ``kind`` (:data:`POINT_KINDS`), a fixed number of draws per row."""
    if kind == "sphere":
        return _normalise(rng.standard_normal((rows, d)))
    if kind == "ball":
        return _normalise(rng.standard_normal((rows, d + 2)))[:, :d].copy()
    u = rng.random((rows, d + 1)) if kind == "box_surface" else rng.random((rows, d))
    x = 2.0 * u[:, :d] - 1.0
    if kind == "box_surface":
        face = np.minimum((u[:, d] * (2 * d)).astype(np.int64), 2 * d - 1)
        x[np.arange(rows), face // 2] = np.where(face % 2 == 1, 1.0, -1.0)
    return x


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; keeps the function total
    x /= norms
    return x


def unit_sphere_points(d: int, n: int, *, seed: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of ``R^d`` (normalised Gaussians), float64 ``(n, d)``.

    At most :data:`MAX_POINT_ENTRIES` entries ``n * d``; :func:`sphere_point_batches` gives the same
    points block by block, for any ``n``."""
    d = _validate.positive_int(d, "d")
    n = _validate.positive_int(n, "n")
    seed = _validate.seed(seed)
    if n * d > MAX_POINT_ENTRIES:
        raise TooLargeError(
            f"{n:,} points in R^{d} are {n * d:,} entries, more than the limit of {MAX_POINT_ENTRIES:,}"
            " held at once (MAX_POINT_ENTRIES); use sphere_point_batches, or sampled_error, which stay in bounded memory"
        )
    return _normalise(np.random.default_rng(seed).standard_normal((n, d)))


def domain_points(d: int, n: int, *, seed: int, domain: str = "ball", homogeneous: bool = True) -> np.ndarray:
    """The ``n`` points :func:`sampled_error` draws on ``domain`` (``"ball"`` or ``"box"``), float64
    ``(n, d)``: on its surface for a ``homogeneous`` (bias-free) pair, uniform in it otherwise
    (:func:`point_kind`, :data:`POINT_KINDS`). At most :data:`MAX_POINT_ENTRIES` entries."""
    d, n, seed = _validate.positive_int(d, "d"), _validate.positive_int(n, "n"), _validate.seed(seed)
    kind = point_kind(check_domain(domain), _validate.boolean(homogeneous, "homogeneous"))
    if n * d > MAX_POINT_ENTRIES:
        raise TooLargeError(
            f"{n:,} points in R^{d} are {n * d:,} entries, more than the limit of {MAX_POINT_ENTRIES:,} held at once"
            " (MAX_POINT_ENTRIES); sampled_error stays in bounded memory"
        )
    return _draw(np.random.default_rng(seed), n, d, kind)


def sampled_error(
    net: Any, target: Any, *, n: int = 100_000, seed: int = 0, batch: int = 65_536, norm: str = "l2", domain: str = "ball"
) -> tuple[float, np.ndarray]:
    """``max_x ||net(x) - target(x)||`` over ``n`` seeded points of ``domain``, and the argmax.

    A lower bound on the sup error over ``domain`` (``"ball"``, the unit ``l2`` ball, default, or
    ``"box"``, ``[-1, 1]^d``) in ``norm`` (``"l2"`` or ``"linf"``, docs/theory.md §6). The points lie
    on the domain's surface when both networks are bias-free (positively homogeneous: the sup is
    attained there), uniformly in it otherwise (:data:`POINT_KINDS`). Evaluated in blocks of at
    most ``batch`` points, fewer when a block of the widest layer would exceed :data:`BATCH_BYTES`
    (the result does not depend on the blocks). ``n`` is at most :data:`MAX_SAMPLES`.
    """
    norm, domain = check_norm(norm), check_domain(domain)
    f, g = network_pair(net, target)
    n, seed = check_samples(n), _validate.seed(seed)
    rows = batch_rows(f, g, cap=_validate.positive_int(batch, "batch"))
    kind = point_kind(domain, is_homogeneous(f, g))
    best, where = -1.0, np.zeros(f.d)
    for _, _, points in draw_blocks(np.random.default_rng(seed), f.d, n, rows, kind=kind):
        gap = output_errors(f, g, points, norm)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), points[i].copy()
    return best, where
