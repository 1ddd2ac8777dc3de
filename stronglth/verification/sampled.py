"""The sampled error: the max over points uniform on the unit sphere, a lower bound (docs/theory.md §6),
in the Euclidean norm of the output difference (``norm="l2"``, default) or its max norm (``"linf"``).

Every network here is a bias-free ReLU network, hence positively homogeneous (docs/theory.md §1):
the sup of the error over the ball is attained on the unit sphere.

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
from stronglth.verification._common import check_norm, network_pair, output_errors

__all__ = [
    "unit_sphere_points",
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
    rng: np.random.Generator, d: int, n: int, rows: int, *, first: int = 0, checkpoints: list[Any] | None = None, every: int = 1
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(b, start, block)`` for the blocks ``b = first, first + 1, ...`` of ``rows`` sphere points
    drawn from ``rng`` (positioned at block ``first``). With ``checkpoints``, the generator's state
    before every block ``b`` with ``b % every == 0`` is appended to it (to redraw that block later)."""
    for b in range(first, -(-n // rows)):
        if checkpoints is not None and b % every == 0:
            checkpoints.append(rng.bit_generator.state)
        start = b * rows
        yield b, start, _normalise(rng.standard_normal((min(rows, n - start), d)))


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


def sampled_error(
    net: Any, target: Any, *, n: int = 100_000, seed: int = 0, batch: int = 65_536, norm: str = "l2"
) -> tuple[float, np.ndarray]:
    """``max_x ||net(x) - target(x)||`` over ``n`` points uniform on the sphere, and the argmax.

    A lower bound on the sup error over the ball in ``norm`` (``"l2"`` or ``"linf"``,
    docs/theory.md §6); evaluated in blocks of at most ``batch`` points, fewer when a block of the
    widest layer would exceed :data:`BATCH_BYTES` (the result does not depend on the blocks).
    ``n`` is at most :data:`MAX_SAMPLES`.
    """
    norm = check_norm(norm)
    f, g = network_pair(net, target)
    n, seed = check_samples(n), _validate.seed(seed)
    rows = batch_rows(f, g, cap=_validate.positive_int(batch, "batch"))
    best, where = -1.0, np.zeros(f.d)
    for _, points in sphere_point_batches(f.d, n, seed=seed, rows=rows):
        gap = output_errors(f, g, points, norm)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), points[i].copy()
    return best, where
