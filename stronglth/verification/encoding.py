"""The linear model the exact MILP solves (docs/theory.md §6): two ReLU networks on a shared input,
each ReLU in big-M form with bounds from interval arithmetic tightened by LP. Plain ReLU networks
only: a leaky network is refused (:func:`~stronglth.verification._common.check_relu`); the MILP
passes its ReLU form (docs/theory.md §14.6).

A linear form is a ``dict`` from variable index to coefficient; the key :data:`CONSTANT` (``-1``, never
a variable) holds its constant term, which biases bring in. Constraints move the constant into their
bounds, so the solver sees linear rows only."""

from __future__ import annotations

import numpy as np
from scipy.optimize import LinearConstraint, linprog

from stronglth.relu import ReLUNetwork
from stronglth.verification._common import check_relu, layer_biases

__all__ = ["CONSTANT", "PairEncoding", "constraint_matrix", "split_constant"]

CONSTANT = -1
"""The key of a linear form's constant term (a bias, carried through the layers)."""


def split_constant(form: dict[int, float]) -> tuple[dict[int, float], float]:
    """A form's variable part and its constant term."""
    return {var: c for var, c in form.items() if var != CONSTANT}, form.get(CONSTANT, 0.0)


def _with_bias(forms: list[dict[int, float]], b: np.ndarray | None) -> list[dict[int, float]]:
    if b is None:
        return forms
    for form, value in zip(forms, b, strict=True):
        if value:
            form[CONSTANT] = form.get(CONSTANT, 0.0) + float(value)
    return forms


class PairEncoding:
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
        form, constant = split_constant(form)
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
            out.append(sign * result.fun + constant if result.status == 0 else sign * -np.inf)
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
        """The constraint ``lo <= form <= hi``; a constant term moves into the bounds."""
        coefficients, constant = split_constant(coefficients)
        self.rows.append((coefficients, lo - constant, hi - constant))

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
        check_relu(net, "the MILP encoding")
        forms: list[dict[int, float]] = [{j: 1.0} for j in range(self.d)]
        lo, hi = np.full(self.d, -1.0), np.full(self.d, 1.0)
        for i, (w, b) in enumerate(zip(net.weights, layer_biases(net), strict=True)):
            pre = _with_bias(self._compose(w, forms), b)
            wp, wn = np.maximum(w, 0), np.minimum(w, 0)
            z_lo, z_hi = wp @ lo + wn @ hi, wp @ hi + wn @ lo
            if b is not None:
                z_lo, z_hi = z_lo + b, z_hi + b
            if i == net.depth - 1:
                return pre
            z_lo, z_hi = self._tightened(pre, z_lo, z_hi)
            forms, lo, hi = self._relu(pre, z_lo, z_hi), np.maximum(z_lo, 0), np.maximum(z_hi, 0)
        raise AssertionError("unreachable")

    def pair(self, f: ReLUNetwork, g: ReLUNetwork) -> tuple[list[dict[int, float]], list[dict[int, float]]]:
        """Encode both networks; return their outputs as linear forms over the variables."""
        check_relu(f, "the MILP encoding")
        check_relu(g, "the MILP encoding")
        if f.depth != g.depth:
            return self.single(f), self.single(g)
        forms: dict[str, list[dict[int, float]] | None] = {"f": [{j: 1.0} for j in range(self.d)], "g": None}  # None: g's are f's
        lo = {"f": np.full(self.d, -1.0), "g": np.full(self.d, -1.0)}
        hi = {"f": np.full(self.d, 1.0), "g": np.full(self.d, 1.0)}
        diff_lo: np.ndarray | None
        diff_hi: np.ndarray | None
        diff_lo = diff_hi = np.zeros(self.d)  # bounds of h_f - h_g (same input)
        shared = True
        biases = {"f": layer_biases(f), "g": layer_biases(g)}
        for i in range(max(f.depth, g.depth)):
            last = {"f": i == f.depth - 1, "g": i == g.depth - 1}
            shared = (
                shared
                and not last["f"]
                and not last["g"]
                and f.weights[i].shape == g.weights[i].shape
                and np.array_equal(f.weights[i], g.weights[i])
                and _same_bias(biases["f"][i], biases["g"][i])
            )
            aligned = diff_lo is not None and i < min(f.depth, g.depth) and f.weights[i].shape == g.weights[i].shape
            pre, z_lo, z_hi = {}, {}, {}
            for name, net in (("f", f), ("g", g)):
                if i >= net.depth:
                    continue
                w, b = net.weights[i], biases[name][i]
                source = forms[name] if forms[name] is not None else forms["f"]
                assert source is not None  # f's forms are always set
                pre[name] = _with_bias(self._compose(w, source), b)
                wp, wn = np.maximum(w, 0), np.minimum(w, 0)
                z_lo[name], z_hi[name] = wp @ lo[name] + wn @ hi[name], wp @ hi[name] + wn @ lo[name]
                if b is not None:
                    z_lo[name], z_hi[name] = z_lo[name] + b, z_hi[name] + b
            if aligned:  # interval arithmetic on the difference of pre-activations
                assert diff_lo is not None and diff_hi is not None  # (part of `aligned`)
                wf, dw = f.weights[i], f.weights[i] - g.weights[i]
                fp, fn, dp, dn = np.maximum(wf, 0), np.minimum(wf, 0), np.maximum(dw, 0), np.minimum(dw, 0)
                dz_lo = fp @ diff_lo + fn @ diff_hi + dp @ lo["g"] + dn @ hi["g"]
                dz_hi = fp @ diff_hi + fn @ diff_lo + dp @ hi["g"] + dn @ lo["g"]
                db = _bias_or_zero(biases["f"][i], wf.shape[0]) - _bias_or_zero(biases["g"][i], wf.shape[0])
                dz_lo, dz_hi = dz_lo + db, dz_hi + db
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


def _same_bias(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _bias_or_zero(b: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n) if b is None else b


def constraint_matrix(rows: list[tuple[dict[int, float], float, float]], n: int) -> LinearConstraint | None:
    if not rows:
        return None
    a = np.zeros((len(rows), n))
    lo, hi = np.empty(len(rows)), np.empty(len(rows))
    for k, (coefficients, l, u) in enumerate(rows):
        for var, c in coefficients.items():
            a[k, var] = c
        lo[k], hi[k] = l, u
    return LinearConstraint(a, lo, hi)
