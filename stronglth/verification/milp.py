"""The exact error for any ``d``: a MILP over polytopes shrinking onto the unit ball, or over the box
``[-1, 1]^d`` itself (docs/theory.md §6).

A mixed-integer program (big-M encoding of each ReLU with bounds from interval arithmetic, solved
by HiGHS through ``scipy.optimize.milp``) over a polytope ``P`` containing the ball. Its optimum
``x*`` gives the upper bound ``U`` (the MILP's dual bound over ``P``) and, scaled to the sphere, the
lower bound ``L = |e(x*/|x*|)|``; the tangent cut ``x*/|x*| . x <= 1`` is added and the MILP solved
again until ``U <= (1 + rel_gap) L``: the circumscribed polytope shrinks onto the ball around the
maximiser, the inscribed point sits on it. Past the time limit the result is marked inconclusive
and keeps the bounds found so far.

A network with a leaky ReLU ``s_a`` is encoded as its ReLU form (``s_a(z) = s(z) - a s(-z)``,
:func:`~stronglth.verification._common.relu_forms`, docs/theory.md §14.6): twice the units, the two
binaries of a unit's pair tied (they sum to 1), the function equal up to one rounding of each ``a W``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from stronglth.errors import TooLargeError
from stronglth.relu import ReLUNetwork
from stronglth.verification._common import (
    ExactResult,
    difference_norm,
    is_homogeneous,
    onto_domain,
    output_errors,
    relu_forms,
    without_output_scale,
)
from stronglth.verification.encoding import PairEncoding, constraint_matrix, split_constant

__all__ = ["exact_error_milp", "MAX_SIGN_CUTS_D", "MAX_ENTRIES"]


@contextlib.contextmanager
def _solver_output_silenced() -> Iterator[None]:
    """HiGHS prints diagnostics straight to file descriptor 1 even with ``disp=False``; keep them
    out of the package's output (the CLI's tables and JSON)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


MAX_SIGN_CUTS_D = 8
"""Up to this input dimension the first polytope also has the ``2^d`` tangent planes at the sign
vectors; beyond it, only the box and the tangent planes at the given points (never ``2^d`` of anything)."""

MAX_ENTRIES = 2**24
"""The MILP's constraint matrix is dense: more than this many entries (128 MiB) is refused."""


def _initial_cuts(d: int) -> np.ndarray:
    """Tangent planes ``a . x <= 1`` at the sign vectors ``(+-1, ..., +-1)/sqrt(d)`` (with the box),
    for ``d <= MAX_SIGN_CUTS_D``; none beyond."""
    if d > MAX_SIGN_CUTS_D:
        return np.zeros((0, d))
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
    return signs / np.sqrt(d)


def _combined_upper(objective_upper: list[float], norm: str) -> float:
    """An upper bound on ``sup ||e||`` from upper bounds ``U`` of ``+e_o`` and ``-e_o`` over the ball
    (objectives in the order ``+e_1, -e_1, +e_2, ...``): ``max_o max(U)`` for ``linf``; for ``l2``,
    ``||e||_2 <= sqrt(sum_o max(U_+o, U_-o)^2)`` (each ``|e_o|`` at its own worst point)."""
    per_output = np.maximum(np.array(objective_upper[0::2]), np.array(objective_upper[1::2]))
    per_output = np.maximum(per_output, 0.0)
    if norm == "linf" or per_output.size == 1:
        return float(per_output.max())
    return float(np.sqrt(np.square(per_output).sum()))


def _faithful(
    result: Any, scale: float, f: ReLUNetwork, g: ReLUNetwork, k: int, d: int, rel_gap: float, lower: float, constant: float = 0.0
) -> bool:
    """Whether the solver's optimum is the networks' own value at its point: the signed output
    ``+-e_o(x)`` of objective ``k`` at ``x = result.x[:d]`` must equal the objective the solver reports
    there, within half the gap. HiGHS's tolerances are absolute (about 1e-7); for a ticket whose
    error is of that order or below, an "optimal" solve can report a value, and a dual bound, that
    the networks never reach: such a solve proves nothing. ``constant``: the objective's constant
    term (biases), which the solver does not see."""
    x = np.asarray(result.x[:d], dtype=np.float64)
    diff = f.forward(x[None, :])[0] - g.forward(x[None, :])[0]
    o, sign = divmod(k, 2)
    true_value = float(diff[o]) * (1.0 if sign == 0 else -1.0)
    reported = -float(result.fun) * scale + constant
    return abs(reported - true_value) <= 0.5 * rel_gap * max(abs(reported), lower) + 1e-12


def exact_error_milp(
    f: ReLUNetwork,
    g: ReLUNetwork,
    *,
    norm: str = "l2",
    rel_gap: float = 0.01,
    time_limit: float = 60.0,
    start_point: np.ndarray | None = None,
    max_rounds: int = 200,
    seed_points: np.ndarray | None = None,
    domain: str = "ball",
) -> ExactResult:
    """True bounds on ``sup ||f - g||`` over ``domain`` by MILP (HiGHS): for the ball over polytopes
    shrinking onto it (module docstring), for the box over the box, in ``norm``.

    Each output ``o`` and sign is one objective, maximised over the current polytope; its dual
    bound is an upper bound of ``+-e_o`` over the ball, and the MILP's optimum, scaled onto the
    sphere, a point whose error is a lower bound. For one output, or ``linf``, the bounds meet
    (within ``rel_gap``) as the polytope shrinks. For ``l2`` with several outputs the upper bound
    combines the per-output bounds (:func:`_combined_upper`), which meet the lower bound only when
    every output peaks at the same point: the gap is reported, and the status says whether it is
    within ``rel_gap``.

    ``start_point``: a good point (e.g. from the adversarial search); the lower bound starts at its
    error, recomputed here in ``norm`` (else at ``e_1``), so it is always attained on the sphere. ``seed_points``:
    directions (e.g. the local maxima of the adversarial search) where tangent cuts are placed
    from the start, so that the polytope already hugs the ball where the maximum is likely to be.

    ``domain="box"``: the encoding's own box ``[-1, 1]^d`` is the domain, no cut is needed and one
    solve per objective settles it (its optimum is a point of the box; for a bias-free pair scaled
    onto the box's surface, which only raises its error). For networks with biases (not
    homogeneous) a maximiser inside the ball is kept as it is, one outside is projected onto the
    sphere (``x / ||x||``) for the lower bound and cut off by the tangent plane there.

    Output scales are folded into the last layers and leaky networks replaced by their ReLU forms
    here (module docstring), so any pair of networks may be passed; a ReLU pair is used as it is.
    """
    started = time.perf_counter()
    f, g = relu_forms(without_output_scale(f), without_output_scale(g))
    d = f.dims[0]
    n_out = f.dims[-1]
    units = sum(f.dims[1:-1]) + sum(g.dims[1:-1])
    if (3 * units + d) * (2 * units + d) > MAX_ENTRIES:
        raise TooLargeError(
            f"the exact MILP of these networks ({units:,} hidden units, input dimension {d}) needs a dense constraint"
            f" matrix of about {(3 * units + d) * (2 * units + d):,} entries (limit {MAX_ENTRIES:,}); use the sampled or"
            " adversarial lower bounds, or the certified upper bound, at this size"
        )
    ball, homogeneous = domain == "ball", is_homogeneous(f, g)
    cuts = list(_initial_cuts(d)) if ball else []
    extra = [] if seed_points is None or not ball else list(np.atleast_2d(seed_points))
    if start_point is not None and ball:
        extra.append(np.asarray(start_point, dtype=np.float64))
    for point in extra:
        length = np.linalg.norm(point)
        if length > 0:
            cuts.append(point / length)
    encoding = PairEncoding(d, np.array(cuts).reshape(-1, d))
    outputs_f, outputs_g = encoding.pair(f, g)
    n = len(encoding.lower)
    base = constraint_matrix(encoding.rows[len(cuts) :], n)
    integrality = np.array(encoding.integer)
    bounds = Bounds(np.array(encoding.lower), np.array(encoding.upper))
    # the lower bound is always the error at a point of the domain: the start point, else e_1
    if start_point is not None and np.linalg.norm(start_point) > 0:
        point = np.asarray(start_point, dtype=np.float64).reshape(d)
        best_point = point / np.linalg.norm(point) if ball and homogeneous else onto_domain(point[None], domain, homogeneous)[0]
    else:
        best_point = np.eye(d)[0]
    lower = float(output_errors(f, g, best_point[None, :], norm)[0])
    objectives: list[np.ndarray] = []
    constants: list[float] = []  # each objective's constant term (biases): the solver maximises c . vars alone
    for form_f, form_g in zip(outputs_f, outputs_g, strict=True):
        (vars_f, const_f), (vars_g, const_g) = split_constant(form_f), split_constant(form_g)
        c = np.zeros(n)
        for var, v in vars_f.items():
            c[var] += v
        for var, v in vars_g.items():
            c[var] -= v
        objectives += [c, -c]
        constants += [const_f - const_g, const_g - const_f]
    # Each objective keeps its own upper bound (the polytope only shrinks, so a bound once proved
    # stays valid) and its own lower bound: the best value of that signed output at a point found.
    objective_upper = [np.inf] * len(objectives)
    objective_lower = [0.0] * len(objectives)  # (only steers the refinement) the origin's value, 0 without biases
    combined = n_out > 1 and norm == "l2"

    def still_open(k: int) -> bool:
        if not combined:
            return objective_upper[k] > (1 + rel_gap) * lower and objective_upper[k] > 1e-14
        # l2, several outputs: each signed output is refined to its own gap, except one too small to
        # move the combined bound (it adds at most rel_gap * lower / sqrt(n_out) in quadrature)
        negligible = rel_gap * lower / np.sqrt(n_out)
        return objective_upper[k] > max((1 + rel_gap) * objective_lower[k], negligible, 1e-14)

    timed_out = unreliable = False
    for _ in range(max_rounds):
        open_objectives = [k for k in range(len(objectives)) if still_open(k)]
        if not open_objectives or _combined_upper(objective_upper, norm) <= (1 + rel_gap) * lower:
            break
        constraints = [] if base is None else [base]
        if cuts:
            cut_rows = np.hstack((np.array(cuts).reshape(-1, d), np.zeros((len(cuts), n - d))))
            constraints.insert(0, LinearConstraint(cut_rows, -np.inf, 1.0))
        for k in open_objectives:  # maximise c . vars  (one output, one sign)
            remaining = time_limit - (time.perf_counter() - started)
            if remaining <= 0:
                timed_out = True
                break
            scale = float(np.abs(objectives[k]).max()) or 1.0  # HiGHS's tolerances are absolute: solve at scale 1
            with _solver_output_silenced():
                result = milp(
                    -objectives[k] / scale,
                    integrality=integrality,
                    bounds=bounds,
                    constraints=constraints,
                    options={"time_limit": remaining, "mip_rel_gap": rel_gap / 2, "disp": False},
                )
            if result.x is None:
                timed_out = True
                break
            if not _faithful(result, scale, f, g, k, d, rel_gap, lower, constants[k]):
                unreliable = True  # the solver's optimum is not the networks' value there: no proof from it
            elif result.status == 0 and result.mip_dual_bound is not None and np.isfinite(result.mip_dual_bound):
                objective_upper[k] = min(objective_upper[k], -result.mip_dual_bound * scale + constants[k])  # over this polytope
            elif result.status == 0 and not integrality.any():  # solved as an LP: its optimum is the bound
                objective_upper[k] = min(objective_upper[k], -result.fun * scale + constants[k])
            else:
                timed_out = True  # no proven bound from this solve (time limit inside HiGHS)
            x = np.asarray(result.x[:d], dtype=np.float64)
            length = np.linalg.norm(x)
            if length > 0 or not homogeneous:
                on_domain = x / length if ball and homogeneous else onto_domain(x[None, :], domain, homogeneous)[0]
                diff = f.forward(on_domain[None, :])[0] - g.forward(on_domain[None, :])[0]
                value = float(difference_norm(diff[None, :], norm)[0])
                if value > lower:
                    lower, best_point = value, on_domain
                for o in range(n_out):
                    objective_lower[2 * o] = max(objective_lower[2 * o], float(diff[o]))
                    objective_lower[2 * o + 1] = max(objective_lower[2 * o + 1], float(-diff[o]))
                if ball and length > 1 + 1e-9:
                    cuts.append(x / length)  # the tangent plane there cuts this optimum off
        if timed_out or unreliable or not ball:  # the box is the encoding's own domain: one round settles it
            break
    upper = _combined_upper(objective_upper, norm)
    if unreliable or upper < lower * (1 - 1e-9) - 1e-12:
        # a "proved" bound below an error seen at a point: the solver's tolerances decided, not the
        # model; say so rather than clamp it to the point (the only true upper bound left is +inf)
        upper, status = math.inf, "inconclusive"
    elif max(upper, lower) <= (1 + rel_gap) * lower or upper <= 1e-14:
        upper, status = max(upper, lower), "within_gap"
    else:
        status = "inconclusive"
    return ExactResult(lower, float(upper), best_point, status, "milp", time.perf_counter() - started, norm)
