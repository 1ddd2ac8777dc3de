"""Exact sup error of the difference of two ReLU networks over the unit ball or the box ``[-1, 1]^d``
(docs/theory.md §6).

Bias-free networks are positively homogeneous and piecewise linear, so ``e(x) = f(x) - g(x)`` is
linear on each cone of constant activation pattern and its sup over the ball (the box) is attained
on the sphere (the box's surface). All of this holds for a leaky ReLU ``s_a(t) = max(t, a t)`` as
well (docs/theory.md §14.6: positively homogeneous, linear on each side of 0, each network with its
own slope): the enumerations (``d = 1, 2``) read leaky networks as they are (an inactive unit
passes ``a z`` instead of 0), the MILP and the differential bound receive their ReLU forms
(:func:`~stronglth.verification._common.relu_forms`; equal up to one rounding of each ``a W``).
Networks with biases are not homogeneous: the methods below that rely on it say so and handle them
otherwise or refuse. The error is ``||e(x)||`` in ``norm``: ``"l2"`` (default) or ``"linf"``.

- ``d = 1``: ``max ||e(+-1)||`` (docs/theory.md §1); for networks with biases (not homogeneous) the
  interval ``[-1, 1]`` is cut at every breakpoint of either network, layer by layer, and the error
  (affine on each piece, its norm convex) is largest at a piece's end (``"breakpoints"``).
- ``d = 2``: the circle is cut at every angle where some unit of either network changes sign,
  layer by layer; on each arc ``e(x) = A x`` is linear. For ``linf`` each ``|a_o . x|`` is largest at
  an end of the arc or at ``+-a_o/|a_o|``; for ``l2``, ``||A x||^2 = x' A'A x`` is largest at an end or
  at an eigenvector of ``A'A``. Exact up to floating point.
- any small ``d``: a mixed-integer program over polytopes shrinking onto the ball, with lower and
  upper bounds (:mod:`stronglth.verification.milp`).
- any ``d``: branch-and-bound on the differential bound (``"bab"``,
  :mod:`stronglth.verification.branch_and_bound`), or that bound alone (``"bounds"``,
  :mod:`stronglth.verification.differential`; docs/theory.md §10).

:func:`exact_error` picks the method (``"auto"``: :func:`auto_method`) and the result names it; a
construction ticket against its own target is handed over in its gadget form
(:func:`stronglth.constructions.gadget_network`), small and layer by layer close.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError
from stronglth.gadget_form import gadget_network
from stronglth.relu import ReLUNetwork, activate
from stronglth.ticket import Ticket
from stronglth.verification._common import (
    ExactResult,
    check_norm,
    is_homogeneous,
    is_leaky,
    layer_biases,
    network_pair,
    output_errors,
    without_output_scale,
)
from stronglth.verification.branch_and_bound import branch_and_bound
from stronglth.verification.certified import is_own_target
from stronglth.verification.differential import check_domain, differential_bound
from stronglth.verification.milp import MAX_SIGN_CUTS_D, exact_error_milp

__all__ = [
    "METHODS",
    "AUTO_MILP_MAX_UNITS",
    "ExactResult",
    "auto_method",
    "exact_error",
    "exact_error_1d",
    "exact_error_breakpoints",
    "exact_error_circle",
]

METHODS = ("auto", "endpoints", "circle", "milp", "bab", "bounds")
"""``"bounds"`` is the differential upper bound alone (with the best error at its maximisers as
lower bound); the others aim at ``upper <= (1 + rel_gap) lower``."""

AUTO_MILP_MAX_UNITS = 32
"""``"auto"`` for ``d >= 3`` takes the MILP when both networks (in gadget form) have at most this many
hidden units together and ``d <= 8``, else branch-and-bound (measured: ``benchmarks/verify_bab.py``);
units as the MILP encodes them (a pair with a leaky network: its ReLU forms, twice the units)."""


def auto_method(f: ReLUNetwork, g: ReLUNetwork) -> str:
    """The method ``"auto"`` uses for the pair ``(f, g)`` as the exact methods see it: ``endpoints``
    (``d = 1``; breakpoints for networks with biases), ``circle`` (``d = 2``, bias-free), ``milp``
    (small networks, ``d <= 8``; a pair with a leaky network counts the units of its ReLU forms), else ``bab``."""
    d = f.dims[0]
    if d == 1 or (d == 2 and is_homogeneous(f, g)):
        return "endpoints" if d == 1 else "circle"
    units = (sum(f.dims[1:-1]) + sum(g.dims[1:-1])) * (2 if is_leaky(f, g) else 1)
    return "milp" if d <= MAX_SIGN_CUTS_D and units <= AUTO_MILP_MAX_UNITS else "bab"


def _breakpoints(net: ReLUNetwork, a0: float, a1: float, layer: int) -> list[float]:
    """``d = 1``: the points of ``(a0, a1)`` where a unit of hidden layer ``layer`` of ``net`` changes
    sign, given that the layers before it have constant patterns on the interval (its
    pre-activations are then affine there, ``p x + q``, read at the midpoint). An inactive unit
    passes ``a (p x + q)`` for a leaky ReLU of slope ``a``, 0 for the ReLU."""
    mid = 0.5 * (a0 + a1)
    leak = float(net.negative_slope)
    slope, const = np.ones(1), np.zeros(1)  # h = slope x + const on the interval
    for i, (w, b) in enumerate(zip(net.weights, layer_biases(net), strict=True)):
        p, q = w @ slope, w @ const + (0.0 if b is None else b)
        if i == layer:
            with np.errstate(divide="ignore", invalid="ignore"):
                roots = np.where(p != 0, -q / np.where(p != 0, p, 1.0), np.nan)
            return [float(t) for t in roots if a0 < t < a1]
        active = p * mid + q > 0
        if leak == 0.0:
            slope, const = np.where(active, p, 0.0), np.where(active, q, 0.0)
        else:
            slope, const = np.where(active, p, leak * p), np.where(active, q, leak * q)
    return []


def exact_error_breakpoints(f: ReLUNetwork, g: ReLUNetwork, norm: str = "l2") -> ExactResult:
    """``d = 1``, any networks (biases too, leaky ReLUs too): ``[-1, 1]`` cut, layer by layer, where a unit
    of either network changes sign; on each piece both networks are affine, so the error's norm (convex) is
    largest at an end of a piece: the max over all ends is the sup, exactly up to floating point."""
    start = time.perf_counter()
    pieces = [(-1.0, 1.0)]
    for layer in range(max(f.depth, g.depth) - 1):
        refined = []
        for a0, a1 in pieces:
            cuts = sorted(t for net in (f, g) if layer < net.depth - 1 for t in _breakpoints(net, a0, a1, layer))
            edges = [a0, *cuts, a1]
            refined += [(edges[k], edges[k + 1]) for k in range(len(edges) - 1) if edges[k + 1] > edges[k]]
        pieces = refined
    x = np.array(sorted({a for piece in pieces for a in piece}))[:, None]
    errors = output_errors(f, g, x, norm)
    i = int(np.argmax(errors))
    return ExactResult(float(errors[i]), float(errors[i]), x[i], "exact", "breakpoints", time.perf_counter() - start, norm)


def exact_error_1d(f: ReLUNetwork, g: ReLUNetwork, norm: str = "l2") -> ExactResult:
    """``d = 1``: the sup over ``[-1, 1]`` of a positively homogeneous function is at ``+-1``; for
    networks with biases, :func:`exact_error_breakpoints` (method ``"breakpoints"``)."""
    if not is_homogeneous(f, g):
        return exact_error_breakpoints(f, g, norm)
    start = time.perf_counter()
    x = np.array([[1.0], [-1.0]])
    errors = output_errors(f, g, x, norm)
    i = int(np.argmax(errors))
    return ExactResult(float(errors[i]), float(errors[i]), x[i], "exact", "endpoints", time.perf_counter() - start, norm)


# -- d = 2: the circle cut at every activation boundary ------------------------------------------


def _pattern_linear_maps(net: ReLUNetwork, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Pre-activation maps (as matrices acting on x) of every layer, on the cone of ``x``, and the
    network's local linear map (an inactive unit of a leaky ReLU of slope ``a`` passes ``a z``)."""
    maps = []
    local = np.eye(x.size)
    h = x.copy()
    leak = float(net.negative_slope)
    for i, w in enumerate(net.weights):
        pre_map = w @ local
        maps.append(pre_map)
        z = w @ h
        if i < net.depth - 1:
            active = z > 0
            local = pre_map * (active[:, None] if leak == 0.0 else np.where(active, 1.0, leak)[:, None])
            h = activate(z, leak)
        else:
            local = pre_map
    return maps, local


def _split_angles(rows: np.ndarray, a0: float, a1: float) -> list[float]:
    """Angles in ``(a0, a1)`` where some linear form ``r . (cos t, sin t)`` vanishes."""
    out = []
    for r in rows:
        if not np.any(r):
            continue
        base = np.arctan2(-r[0], r[1])  # r . (cos t, sin t) = 0  <=>  t = base + k pi
        for k in range(-3, 4):
            t = base + k * np.pi
            if a0 + 1e-15 < t < a1 - 1e-15:
                out.append(t)
    return out


def exact_error_circle(f: ReLUNetwork, g: ReLUNetwork, norm: str = "l2", domain: str = "ball") -> ExactResult:
    """``d = 2``: enumerate the arcs of constant activation pattern of both networks, maximise the
    (linear) error on each. Layer by layer, an arc on which layers ``< t`` have constant patterns is
    cut where a unit of layer ``t`` changes sign (its pre-activation is linear there).

    ``domain="box"``: the sup over ``[-1, 1]^2`` is attained on the square's boundary (homogeneity);
    each cone of an arc meets it in a polygonal line whose vertices are the arc's ends (scaled onto
    the square) and the corners inside the arc, and a norm of a linear map is convex along each of
    its segments, so those vertices are the candidates (docs/theory.md §6)."""
    start = time.perf_counter()
    arcs = [(0.0, 2 * np.pi)]
    depth = max(f.depth, g.depth)
    for layer in range(depth - 1):
        refined = []
        for a0, a1 in arcs:
            mid = 0.5 * (a0 + a1)
            x = np.array([np.cos(mid), np.sin(mid)])
            rows = []
            for net in (f, g):
                if layer < net.depth - 1:
                    maps, _ = _pattern_linear_maps(net, x)
                    rows.append(maps[layer])
            cuts = sorted(_split_angles(np.vstack(rows), a0, a1)) if rows else []
            edges = [a0, *cuts, a1]
            refined += [(edges[k], edges[k + 1]) for k in range(len(edges) - 1) if edges[k + 1] > edges[k]]
        arcs = refined
    candidates = []
    for a0, a1 in arcs:
        candidates += [a0, a1]
        if domain == "ball":
            mid = 0.5 * (a0 + a1)
            x = np.array([np.cos(mid), np.sin(mid)])
            _, lf = _pattern_linear_maps(f, x)
            _, lg = _pattern_linear_maps(g, x)
            candidates += [t for t in _arc_maximisers(lf - lg, norm) if a0 <= t <= a1]
    angles = np.array(candidates)
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if domain == "box":  # the arcs' ends on the square, and its corners (each lies in some arc)
        points = np.vstack((points / np.abs(points).max(axis=1, keepdims=True), _SQUARE_CORNERS))
    errors = output_errors(f, g, points, norm)
    i = int(np.argmax(errors))
    return ExactResult(float(errors[i]), float(errors[i]), points[i], "exact", "circle", time.perf_counter() - start, norm)


_SQUARE_CORNERS = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])


def _arc_maximisers(a: np.ndarray, norm: str) -> list[float]:
    """Angles in ``[-4 pi, 6 pi]`` (every representative the arcs of ``[0, 2 pi]`` can need) where
    ``||A (cos t, sin t)||`` can have an interior maximum: ``+-a_o/|a_o|`` for each row (``linf``),
    the eigenvectors of ``A'A`` (``l2``; one row: the same directions)."""
    if norm == "linf" or a.shape[0] == 1:
        directions = [np.arctan2(row[1], row[0]) for row in a if np.any(row)]
    else:
        _, vectors = np.linalg.eigh(a.T @ a)
        directions = [np.arctan2(v[1], v[0]) for v in vectors.T]
    return [t + np.pi * k for t in directions for k in range(-4, 6)]


def _exact_pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    """The pair the exact methods work on: a construction ticket against its own target in the
    shared gadget form (:func:`gadget_network`; ReLU tickets and targets only), anything else densely,
    each network with its own activation (the MILP takes the ReLU forms itself)."""
    if isinstance(net, Ticket) and net.target is not None and is_own_target(net, target):
        pair = gadget_network(net)
        if pair is not None:
            return without_output_scale(pair[0]), without_output_scale(pair[1])
    return network_pair(net, target)


def exact_error(
    net: Any,
    target: Any,
    *,
    method: str = "auto",
    norm: str = "l2",
    time_limit: float = 60.0,
    rel_gap: float = 0.01,
    start_point: np.ndarray | None = None,
    seed_points: np.ndarray | None = None,
    domain: str = "ball",
) -> ExactResult:
    """True lower and upper bounds on ``sup ||net - target||`` over ``domain`` in ``norm``: ``"endpoints"`` (d = 1)
    and ``"circle"`` (d = 2) enumerate and are exact; ``"milp"`` (any d, small networks) and ``"bab"``
    (any d; branch-and-bound on the differential bound) bound the sup within ``rel_gap`` when they
    can; ``"bounds"`` is the differential bound alone; ``"auto"`` picks by :func:`auto_method`. The
    result's ``method`` says which ran, its ``status`` how far it got
    (:data:`~stronglth.verification.STATUSES`). ``domain``: ``"ball"`` (the unit ball, default) or
    ``"box"`` (``[-1, 1]^d``; every method: ``endpoints`` on ``[-1, 1]``, ``circle`` on the square's
    boundary, ``milp`` on the box directly, ``bab`` and ``bounds`` by their box concretisation).
    """
    norm = check_norm(norm)
    time_limit = _validate.positive_float(time_limit, "time_limit")
    rel_gap = _validate.real_number(rel_gap, "rel_gap")
    if not 0 <= rel_gap < math.inf:
        raise InvalidInputError(f"rel_gap must be a finite number >= 0, got rel_gap={rel_gap!r}")
    if method not in METHODS:
        raise InvalidInputError(f"unknown exact method {method!r}; choose one of {METHODS}")
    domain = check_domain(domain)
    if method == "bounds":
        return differential_bound(net, target, norm=norm, domain=domain, rel_gap=rel_gap)
    pair = None
    if method == "auto":
        pair = _exact_pair(net, target)
        method = auto_method(*pair)
    if method == "bab":
        return branch_and_bound(
            net,
            target,
            norm=norm,
            domain=domain,
            rel_gap=rel_gap,
            time_limit=time_limit,
            seed_points=seed_points,
            start_point=start_point,
        )
    f, g = pair if pair is not None else _exact_pair(net, target)
    d = f.dims[0]
    if method == "endpoints" and d == 1:
        return exact_error_1d(f, g, norm)  # [-1, 1] is both the ball and the box
    if method == "circle" and d == 2:
        if not is_homogeneous(f, g):
            raise InvalidInputError(
                "exact method 'circle': network has biases: not positively homogeneous, so the sup need not lie on the"
                " circle (the arcs method enumerates the circle only); use method='milp', 'bab' or 'auto'"
            )
        return exact_error_circle(f, g, norm, domain)
    if method == "milp":
        return exact_error_milp(
            f,
            g,
            norm=norm,
            rel_gap=rel_gap,
            time_limit=time_limit,
            start_point=start_point,
            seed_points=seed_points,
            domain=domain,
        )
    raise InvalidInputError(
        f"exact method {method!r} does not apply to input dimension {d}; use 'auto', 'endpoints' (d=1), 'circle' (d=2),"
        " 'milp', 'bab' or 'bounds'"
    )
