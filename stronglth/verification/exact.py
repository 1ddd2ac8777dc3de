"""Exact sup error of the difference of two bias-free ReLU networks over the unit ball (docs/theory.md §6).

Both networks are positively homogeneous and piecewise linear, so ``e(x) = f(x) - g(x)`` is
linear on each cone of constant activation pattern and its sup over the ball is attained on the
sphere. The error is ``||e(x)||`` in ``norm``: ``"l2"`` (default) or ``"linf"``.

- ``d = 1``: ``max ||e(+-1)||`` (docs/theory.md §1).
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
from stronglth.relu import ReLUNetwork
from stronglth.ticket import Ticket
from stronglth.verification._common import ExactResult, check_norm, network_pair, output_errors
from stronglth.verification.branch_and_bound import branch_and_bound
from stronglth.verification.certified import is_own_target
from stronglth.verification.differential import check_domain, differential_bound
from stronglth.verification.milp import MAX_SIGN_CUTS_D, exact_error_milp

__all__ = ["METHODS", "AUTO_MILP_MAX_UNITS", "ExactResult", "auto_method", "exact_error", "exact_error_1d", "exact_error_circle"]

METHODS = ("auto", "endpoints", "circle", "milp", "bab", "bounds")
"""``"bounds"`` is the differential upper bound alone (with the best error at its maximisers as
lower bound); the others aim at ``upper <= (1 + rel_gap) lower``."""

AUTO_MILP_MAX_UNITS = 32
"""``"auto"`` for ``d >= 3`` takes the MILP when both networks (in gadget form) have at most this many
hidden units together and ``d <= 8``, else branch-and-bound (measured: ``benchmarks/verify_bab.py``)."""


def auto_method(f: ReLUNetwork, g: ReLUNetwork) -> str:
    """The method ``"auto"`` uses for the pair ``(f, g)`` as the exact methods see it: ``endpoints``
    (``d = 1``), ``circle`` (``d = 2``), ``milp`` (small networks, ``d <= 8``), else ``bab``."""
    d = f.dims[0]
    if d <= 2:
        return "endpoints" if d == 1 else "circle"
    units = sum(f.dims[1:-1]) + sum(g.dims[1:-1])
    return "milp" if d <= MAX_SIGN_CUTS_D and units <= AUTO_MILP_MAX_UNITS else "bab"


def exact_error_1d(f: ReLUNetwork, g: ReLUNetwork, norm: str = "l2") -> ExactResult:
    """``d = 1``: the sup over ``[-1, 1]`` of a positively homogeneous function is at ``+-1``."""
    start = time.perf_counter()
    x = np.array([[1.0], [-1.0]])
    errors = output_errors(f, g, x, norm)
    i = int(np.argmax(errors))
    return ExactResult(float(errors[i]), float(errors[i]), x[i], "exact", "endpoints", time.perf_counter() - start, norm)


# -- d = 2: the circle cut at every activation boundary ------------------------------------------


def _pattern_linear_maps(net: ReLUNetwork, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Pre-activation maps (as matrices acting on x) of every layer, on the cone of ``x``, and the
    network's local linear map."""
    maps = []
    local = np.eye(x.size)
    h = x.copy()
    for i, w in enumerate(net.weights):
        pre_map = w @ local
        maps.append(pre_map)
        z = w @ h
        if i < net.depth - 1:
            active = z > 0
            local = pre_map * active[:, None]
            h = np.maximum(z, 0.0)
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


def exact_error_circle(f: ReLUNetwork, g: ReLUNetwork, norm: str = "l2") -> ExactResult:
    """``d = 2``: enumerate the arcs of constant activation pattern of both networks, maximise the
    (linear) error on each. Layer by layer, an arc on which layers ``< t`` have constant patterns is
    cut where a unit of layer ``t`` changes sign (its pre-activation is linear there)."""
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
        mid = 0.5 * (a0 + a1)
        x = np.array([np.cos(mid), np.sin(mid)])
        _, lf = _pattern_linear_maps(f, x)
        _, lg = _pattern_linear_maps(g, x)
        candidates += [a0, a1]
        candidates += [t for t in _arc_maximisers(lf - lg, norm) if a0 <= t <= a1]
    angles = np.array(candidates)
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    errors = output_errors(f, g, points, norm)
    i = int(np.argmax(errors))
    return ExactResult(float(errors[i]), float(errors[i]), points[i], "exact", "circle", time.perf_counter() - start, norm)


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
    shared gadget form (:func:`gadget_network`), anything else densely."""
    if isinstance(net, Ticket) and net.target is not None and is_own_target(net, target):
        pair = gadget_network(net)
        if pair is not None:
            return pair
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
    """True lower and upper bounds on ``sup_B ||net - target||`` in ``norm``: ``"endpoints"`` (d = 1)
    and ``"circle"`` (d = 2) enumerate and are exact; ``"milp"`` (any d, small networks) and ``"bab"``
    (any d; branch-and-bound on the differential bound) bound the sup within ``rel_gap`` when they
    can; ``"bounds"`` is the differential bound alone; ``"auto"`` picks by :func:`auto_method`. The
    result's ``method`` says which ran, its ``status`` how far it got
    (:data:`~stronglth.verification.STATUSES`). ``domain``: ``"ball"`` (the unit ball, default) or
    ``"box"`` (``[-1, 1]^d``, for ``"bab"`` and ``"bounds"`` only).
    """
    norm = check_norm(norm)
    time_limit = _validate.positive_float(time_limit, "time_limit")
    rel_gap = _validate.real_number(rel_gap, "rel_gap")
    if not 0 <= rel_gap < math.inf:
        raise InvalidInputError(f"rel_gap must be a finite number >= 0, got rel_gap={rel_gap!r}")
    if method not in METHODS:
        raise InvalidInputError(f"unknown exact method {method!r}; choose one of {METHODS}")
    domain = check_domain(domain)
    if domain != "ball" and method not in ("bab", "bounds"):
        raise InvalidInputError(f"domain={domain!r} is supported by the methods 'bab' and 'bounds' only, not {method!r}")
    if method == "bounds":
        return differential_bound(net, target, norm=norm, domain=domain, rel_gap=rel_gap)
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
    f, g = _exact_pair(net, target)
    d = f.dims[0]
    if method == "auto":
        method = auto_method(f, g)
        if method == "bab":
            return branch_and_bound(
                net, target, norm=norm, rel_gap=rel_gap, time_limit=time_limit, seed_points=seed_points, start_point=start_point
            )
    if method == "endpoints" and d == 1:
        return exact_error_1d(f, g, norm)
    if method == "circle" and d == 2:
        return exact_error_circle(f, g, norm)
    if method == "milp":
        return exact_error_milp(
            f,
            g,
            norm=norm,
            rel_gap=rel_gap,
            time_limit=time_limit,
            start_point=start_point,
            seed_points=seed_points,
        )
    raise InvalidInputError(
        f"exact method {method!r} does not apply to input dimension {d}; use 'auto', 'endpoints' (d=1), 'circle' (d=2),"
        " 'milp', 'bab' or 'bounds'"
    )
