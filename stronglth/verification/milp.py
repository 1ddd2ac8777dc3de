"""The exact error for any ``d``: a MILP over polytopes shrinking onto the unit ball (docs/theory.md §6).

A mixed-integer program (big-M encoding of each ReLU with bounds from interval arithmetic, solved
by HiGHS through ``scipy.optimize.milp``) over a polytope ``P`` containing the ball. Its optimum
``x*`` gives the upper bound ``U`` (the MILP's dual bound over ``P``) and, scaled to the sphere, the
lower bound ``L = |e(x*/|x*|)|``; the tangent cut ``x*/|x*| . x <= 1`` is added and the MILP solved
again until ``U <= (1 + rel_gap) L``: the circumscribed polytope shrinks onto the ball around the
maximiser, the inscribed point sits on it. Past the time limit the result is marked inconclusive
and keeps the bounds found so far.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Iterator

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from stronglth.errors import TooLargeError
from stronglth.relu import ReLUNetwork
from stronglth.verification._common import ExactResult, difference_norm, output_errors

__all__ = ["exact_error_milp", "MAX_SIGN_CUTS_D", "MAX_ENTRIES"]


class _Encoding:
    """Linear constraints of both networks over the box ``[-1, 1]^d`` (which contains the ball).

    Variables: ``x`` (d), then for every unit that is not stably inactive its post-activation
    ``a`` (and for every unstable unit a binary ``b``); stable active units keep ``a = z``. Bounds of
    every pre-activation come from interval arithmetic.

    Two devices keep the relaxation tight when the networks are close (a ticket and its target):
    leading layers that are identical in both networks are encoded once and shared; and in layers
    of equal shape the difference of corresponding post-activations is bounded by interval
    arithmetic on the *difference* (``z_f - z_g = W_f (h_f - h_g) + (W_f - W_g) h_g``, and
    ``s(a) - s(b)`` lies between 0 and ``a - b``), added as constraints. Both are implied by the
    model, so the optimum is unchanged; only the LP bounds improve.
    """

    def __init__(self, d: int, cuts: np.ndarray | None = None, tighten: bool = True):
        self.d = d
        self.lower: list[float] = [-1.0] * d
        self.upper: list[float] = [1.0] * d
        self.integer: list[int] = [0] * d
        self.rows: list[tuple[dict[int, float], float, float]] = []
        for a in [] if cuts is None else cuts:
            self.add({j: float(c) for j, c in enumerate(a)}, -np.inf, 1.0)
        self.tighten = tighten

    def _lp_range(self, form: dict[int, float]) -> tuple[float, float]:
        """Min and max of a linear form over the LP relaxation of the constraints so far."""
        n = len(self.lower)
        c = np.zeros(n)
        for var, v in form.items():
            c[var] = v
        a = np.zeros((len(self.rows), n))
        lo, hi = np.empty(len(self.rows)), np.empty(len(self.rows))
        for k, (coefficients, l, u) in enumerate(self.rows):
            for var, v in coefficients.items():
                a[k, var] = v
            lo[k], hi[k] = l, u
        finite_hi, finite_lo = np.isfinite(hi), np.isfinite(lo)
        a_ub = np.vstack((a[finite_hi], -a[finite_lo]))
        b_ub = np.concatenate((hi[finite_hi], -lo[finite_lo]))
        bounds = list(zip(self.lower, self.upper, strict=False))
        out = []
        for sign in (1.0, -1.0):
            result = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            out.append(sign * result.fun if result.status == 0 else sign * -np.inf)
        return out[0], out[1]

    def _tightened(self, pre_forms: list[dict[int, float]], z_lo: np.ndarray, z_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of unstable units refined by LP over the relaxation (optimisation-based bound tightening)."""
        if not self.tighten:
            return z_lo, z_hi
        z_lo, z_hi = z_lo.copy(), z_hi.copy()
        for k, form in enumerate(pre_forms):
            if z_lo[k] < 0 < z_hi[k] and form:
                lo, hi = self._lp_range(form)
                slack = 1e-9 * max(1.0, abs(lo), abs(hi))  # keep the bounds valid through LP tolerances
                z_lo[k], z_hi[k] = max(z_lo[k], lo - slack), min(z_hi[k], hi + slack)
        return z_lo, z_hi

    def new_var(self, lo: float, hi: float, integer: bool = False) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(int(integer))
        return len(self.lower) - 1

    def add(self, coefficients: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coefficients, lo, hi))

    @staticmethod
    def _compose(w: np.ndarray, forms: list[dict[int, float]]) -> list[dict[int, float]]:
        out = []
        for row in w:
            form: dict[int, float] = {}
            for coefficient, source in zip(row, forms, strict=False):
                if coefficient:
                    for var, c in source.items():
                        form[var] = form.get(var, 0.0) + coefficient * c
            out.append(form)
        return out

    def _relu(self, pre_forms: list[dict[int, float]], z_lo: np.ndarray, z_hi: np.ndarray) -> list[dict[int, float]]:
        """Post-activation forms. Two unstable units with opposite pre-activations (``s(x_j)`` and
        ``s(-x_j)``) cannot both be strictly active and one of them always is: their binaries sum to 1."""
        forms: list[dict[int, float]] = []
        binaries: dict[tuple[tuple[int, float], ...], int] = {}  # pre-activation form -> its unit's binary
        for form, l, u in zip(pre_forms, z_lo, z_hi, strict=False):
            if u <= 0:
                forms.append({})  # stably inactive
            elif l >= 0:
                forms.append(form)  # stably active: a = z
            else:
                a = self.new_var(0.0, u)
                b = self.new_var(0.0, 1.0, integer=True)
                minus = {var: -c for var, c in form.items()}
                self.add({**minus, a: 1.0}, 0.0, np.inf)  # a >= z
                self.add({**minus, a: 1.0, b: -l}, -np.inf, -l)  # a <= z - l (1 - b)
                self.add({a: 1.0, b: -u}, -np.inf, 0.0)  # a <= u b
                forms.append({a: 1.0})
                key = tuple(sorted(form.items()))
                opposite = tuple(sorted(minus.items()))
                if opposite in binaries:
                    self.add({b: 1.0, binaries[opposite]: 1.0}, 1.0, 1.0)
                binaries[key] = b
        return forms

    def single(self, net: ReLUNetwork) -> list[dict[int, float]]:
        """Encode one network on its own; return its outputs as linear forms."""
        forms: list[dict[int, float]] = [{j: 1.0} for j in range(self.d)]
        lo, hi = np.full(self.d, -1.0), np.full(self.d, 1.0)
        for i, w in enumerate(net.weights):
            pre = self._compose(w, forms)
            wp, wn = np.maximum(w, 0), np.minimum(w, 0)
            z_lo, z_hi = wp @ lo + wn @ hi, wp @ hi + wn @ lo
            if i == net.depth - 1:
                return pre
            z_lo, z_hi = self._tightened(pre, z_lo, z_hi)
            forms, lo, hi = self._relu(pre, z_lo, z_hi), np.maximum(z_lo, 0), np.maximum(z_hi, 0)
        raise AssertionError("unreachable")

    def pair(self, f: ReLUNetwork, g: ReLUNetwork) -> tuple[list[dict[int, float]], list[dict[int, float]]]:
        """Encode both networks; return their outputs as linear forms over the variables."""
        if f.depth != g.depth:
            return self.single(f), self.single(g)
        forms: dict[str, list[dict[int, float]] | None] = {"f": [{j: 1.0} for j in range(self.d)], "g": None}  # None: g's are f's
        lo = {"f": np.full(self.d, -1.0), "g": np.full(self.d, -1.0)}
        hi = {"f": np.full(self.d, 1.0), "g": np.full(self.d, 1.0)}
        diff_lo: np.ndarray | None
        diff_hi: np.ndarray | None
        diff_lo = diff_hi = np.zeros(self.d)  # bounds of h_f - h_g (same input)
        shared = True
        for i in range(max(f.depth, g.depth)):
            last = {"f": i == f.depth - 1, "g": i == g.depth - 1}
            shared = (
                shared
                and not last["f"]
                and not last["g"]
                and f.weights[i].shape == g.weights[i].shape
                and np.array_equal(f.weights[i], g.weights[i])
            )
            aligned = diff_lo is not None and i < min(f.depth, g.depth) and f.weights[i].shape == g.weights[i].shape
            pre, z_lo, z_hi = {}, {}, {}
            for name, net in (("f", f), ("g", g)):
                if i >= net.depth:
                    continue
                w = net.weights[i]
                source = forms[name] if forms[name] is not None else forms["f"]
                assert source is not None  # f's forms are always set
                pre[name] = self._compose(w, source)
                wp, wn = np.maximum(w, 0), np.minimum(w, 0)
                z_lo[name], z_hi[name] = wp @ lo[name] + wn @ hi[name], wp @ hi[name] + wn @ lo[name]
            if aligned:  # interval arithmetic on the difference of pre-activations
                assert diff_lo is not None and diff_hi is not None  # (part of `aligned`)
                wf, dw = f.weights[i], f.weights[i] - g.weights[i]
                fp, fn, dp, dn = np.maximum(wf, 0), np.minimum(wf, 0), np.maximum(dw, 0), np.minimum(dw, 0)
                dz_lo = fp @ diff_lo + fn @ diff_hi + dp @ lo["g"] + dn @ hi["g"]
                dz_hi = fp @ diff_hi + fn @ diff_lo + dp @ hi["g"] + dn @ lo["g"]
            if last["f"] or last["g"]:
                return pre["f"], pre["g"]
            for name in ("f",) if shared else ("f", "g"):
                z_lo[name], z_hi[name] = self._tightened(pre[name], z_lo[name], z_hi[name])
            forms_f = self._relu(pre["f"], z_lo["f"], z_hi["f"])
            forms_g = None if shared else self._relu(pre["g"], z_lo["g"], z_hi["g"])
            forms["f"], forms["g"] = forms_f, forms_g
            for name in ("f", "g"):
                lo[name], hi[name] = np.maximum(z_lo[name], 0), np.maximum(z_hi[name], 0)
            if aligned:
                diff_lo, diff_hi = np.minimum(dz_lo, 0), np.maximum(dz_hi, 0)  # s(a) - s(b) in [min(0, a-b), max(0, a-b)]
                if forms_g is not None:  # (exactly when not shared)
                    for form_f, form_g, l, u in zip(forms_f, forms_g, diff_lo, diff_hi, strict=False):
                        coefficients = dict(form_f)
                        for var, c in form_g.items():
                            coefficients[var] = coefficients.get(var, 0.0) - c
                        if coefficients:
                            self.add(coefficients, l, u)
            else:
                diff_lo = diff_hi = None
        raise AssertionError("unreachable")


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


def _matrix(rows: list[tuple[dict[int, float], float, float]], n: int) -> LinearConstraint | None:
    if not rows:
        return None
    a = np.zeros((len(rows), n))
    lo, hi = np.empty(len(rows)), np.empty(len(rows))
    for k, (coefficients, l, u) in enumerate(rows):
        for var, c in coefficients.items():
            a[k, var] = c
        lo[k], hi[k] = l, u
    return LinearConstraint(a, lo, hi)


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
) -> ExactResult:
    """True bounds on ``sup_B ||f - g||`` by MILP (HiGHS) over polytopes shrinking onto the ball
    (module docstring), in ``norm``.

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
    """
    started = time.perf_counter()
    d = f.dims[0]
    n_out = f.dims[-1]
    units = sum(f.dims[1:-1]) + sum(g.dims[1:-1])
    if (3 * units + d) * (2 * units + d) > MAX_ENTRIES:
        raise TooLargeError(
            f"the exact MILP of these networks ({units:,} hidden units, input dimension {d}) needs a dense constraint"
            f" matrix of about {(3 * units + d) * (2 * units + d):,} entries (limit {MAX_ENTRIES:,}); use the sampled or"
            " adversarial lower bounds, or the certified upper bound, at this size"
        )
    cuts = list(_initial_cuts(d))
    extra = [] if seed_points is None else list(np.atleast_2d(seed_points))
    if start_point is not None:
        extra.append(np.asarray(start_point, dtype=np.float64))
    for point in extra:
        length = np.linalg.norm(point)
        if length > 0:
            cuts.append(point / length)
    encoding = _Encoding(d, np.array(cuts).reshape(-1, d))
    outputs_f, outputs_g = encoding.pair(f, g)
    n = len(encoding.lower)
    base = _matrix(encoding.rows[len(cuts) :], n)
    integrality = np.array(encoding.integer)
    bounds = Bounds(np.array(encoding.lower), np.array(encoding.upper))
    # the lower bound is always the error at a point of the sphere: the start point, else e_1
    if start_point is not None and np.linalg.norm(start_point) > 0:
        best_point = np.asarray(start_point, dtype=np.float64) / np.linalg.norm(start_point)
    else:
        best_point = np.eye(d)[0]
    lower = float(output_errors(f, g, best_point[None, :], norm)[0])
    objectives: list[np.ndarray] = []
    for form_f, form_g in zip(outputs_f, outputs_g, strict=True):
        c = np.zeros(n)
        for var, v in form_f.items():
            c[var] += v
        for var, v in form_g.items():
            c[var] -= v
        objectives += [c, -c]
    # Each objective keeps its own upper bound (the polytope only shrinks, so a bound once proved
    # stays valid) and its own lower bound: the best value of that signed output at a point found.
    objective_upper = [np.inf] * len(objectives)
    objective_lower = [0.0] * len(objectives)  # the origin is in the ball: every signed output reaches 0
    combined = n_out > 1 and norm == "l2"

    def still_open(k: int) -> bool:
        if not combined:
            return objective_upper[k] > (1 + rel_gap) * lower and objective_upper[k] > 1e-14
        # l2, several outputs: each signed output is refined to its own gap, except one too small to
        # move the combined bound (it adds at most rel_gap * lower / sqrt(n_out) in quadrature)
        negligible = rel_gap * lower / np.sqrt(n_out)
        return objective_upper[k] > max((1 + rel_gap) * objective_lower[k], negligible, 1e-14)

    timed_out = False
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
            with _solver_output_silenced():
                result = milp(
                    -objectives[k],
                    integrality=integrality,
                    bounds=bounds,
                    constraints=constraints,
                    options={"time_limit": remaining, "mip_rel_gap": rel_gap / 2, "disp": False},
                )
            if result.x is None:
                timed_out = True
                break
            if result.status == 0 and result.mip_dual_bound is not None and np.isfinite(result.mip_dual_bound):
                objective_upper[k] = min(objective_upper[k], -result.mip_dual_bound)  # a bound over this polytope
            elif result.status == 0 and not integrality.any():  # solved as an LP: its optimum is the bound
                objective_upper[k] = min(objective_upper[k], -result.fun)
            else:
                timed_out = True  # no proven bound from this solve (time limit inside HiGHS)
            x = result.x[:d]
            length = np.linalg.norm(x)
            if length > 0:
                on_sphere = x / length
                diff = f.forward(on_sphere[None, :])[0] - g.forward(on_sphere[None, :])[0]
                value = float(difference_norm(diff[None, :], norm)[0])
                if value > lower:
                    lower, best_point = value, on_sphere
                for o in range(n_out):
                    objective_lower[2 * o] = max(objective_lower[2 * o], float(diff[o]))
                    objective_lower[2 * o + 1] = max(objective_lower[2 * o + 1], float(-diff[o]))
                if length > 1 + 1e-9:
                    cuts.append(on_sphere)  # the tangent plane there cuts this optimum off
        if timed_out:
            break
    upper = max(_combined_upper(objective_upper, norm), lower)
    if upper <= (1 + rel_gap) * lower or upper <= 1e-14:
        status = "within_gap"
    else:
        status = "inconclusive"
    return ExactResult(lower, float(upper), best_point, status, "milp", time.perf_counter() - started, norm)
