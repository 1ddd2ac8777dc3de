"""A-priori widths and probabilities, and the certified a-posteriori bound (REFERENCE §3-4, derived here)

Notation: ``dims = (n_0, n_1, ..., n_l)`` with ``n_0 = d`` the input dimension; layer ``i``
(1-based) has fan-in ``n_{i-1}`` and fan-out ``n_i``. Every probability here concerns one
*candidate* hidden unit with weights ``u, v`` drawn i.i.d. from ``U[-1, 1]`` (REFERENCE §1), one
target weight ``w`` and one sign event of ``u`` (the ``P`` or ``N`` half of the gadget, §2).

The chain of the a-priori bound (REFERENCE §3-4):

1. per-weight tolerance ``eta_i`` (:func:`per_weight_tolerance`) such that per-weight errors
   ``<= eta_i`` give ``sum_i c_i <= ln(1 + eps)`` and hence ``E_l <= eps``;
2. probability ``p_i`` that one candidate hits a weight within ``eta_i``
   (:func:`hit_probability`, :func:`matching_probability`), minimised over the admissible weights
   (:func:`worst_case_probability`);
3. a union bound over the ``N_ev`` (output, input, sign) events (:func:`event_count`) gives the
   block size ``k_i`` (:func:`block_size_for`, :func:`theorem_block_sizes`,
   :func:`instance_block_sizes`) and the failure probability (:func:`failure_probability`).

The a-posteriori side (REFERENCE §3): :func:`layer_error_constant` computes ``c_i`` from a
constructed ticket and :func:`certified_error` propagates it through the network.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from collections.abc import Sequence

import numpy as np

from stronglth.errors import InvalidInputError

__all__ = [
    "product_cdf",
    "hit_probability",
    "matching_probability",
    "per_weight_tolerance",
    "event_count",
    "max_weight",
    "worst_case_probability",
    "block_size_for",
    "theorem_block_sizes",
    "instance_block_sizes",
    "failure_probability",
    "nnz_bound",
    "layer_error_constant",
    "certified_error",
    "certified_error_trace",
]

RULES = ("best", "matching")
_EXACT_TIE_MAX_K = 4096  # exact rational tie-break in block_size_for up to this k


# --------------------------------------------------------------------------- validation helpers


def _as_float_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {value!r}") from exc
    if np.isnan(arr).any():
        raise InvalidInputError(f"{name} must not contain NaN, got {value!r}")
    return arr


def _scalar(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise InvalidInputError(f"{name} must be a real number, got {name}={value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a real number, got {name}={value!r}") from exc
    if math.isnan(x):
        raise InvalidInputError(f"{name} must not be NaN, got {name}={value!r}")
    return x


def _check_eps(eps) -> float:
    x = _scalar("eps", eps)
    if not (x > 0 and math.isfinite(x)):
        raise InvalidInputError(f"eps must be a finite number > 0, got eps={eps!r}")
    return x


def _check_delta(delta) -> float:
    x = _scalar("delta", delta)
    if not (0.0 < x < 1.0):
        raise InvalidInputError(f"delta must lie in (0, 1), got delta={delta!r}")
    return x


def _check_eta(eta) -> np.ndarray:
    arr = _as_float_array("eta", eta)
    if not (np.all(arr > 0) and np.all(np.isfinite(arr))):
        raise InvalidInputError(f"eta must be finite and > 0, got eta={eta!r}")
    return arr


def _check_rule(rule) -> str:
    if rule not in RULES:
        raise InvalidInputError(f"rule must be one of {RULES}, got rule={rule!r}")
    return rule


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise InvalidInputError(f"{name} must be a positive integer, got {name}={value!r}")
    value = int(value)
    if value <= 0:
        raise InvalidInputError(f"{name} must be a positive integer, got {name}={value!r}")
    return value


def _check_dims(dims) -> tuple[int, ...]:
    if isinstance(dims, (str, bytes)) or not isinstance(dims, (Sequence, np.ndarray)):
        raise InvalidInputError(f"dims must be a sequence (n_0, n_1, ..., n_l), got dims={dims!r}")
    if len(dims) < 2:
        raise InvalidInputError(
            f"dims must have at least two entries (n_0, n_1), got dims={tuple(dims)!r}"
        )
    return tuple(_positive_int(f"dims[{i}]", n) for i, n in enumerate(dims))


def _out(arr: np.ndarray):
    """A 0-d result as a Python float, anything else as a float64 array."""
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- probabilities


def product_cdf(z):
    """CDF of the product ``Z = a b`` of two independent ``U[0, 1]`` (REFERENCE §4).

    ``Phi(z) = z - z ln z`` on ``[0, 1]`` (the integral of the density ``-ln t``), with
    ``Phi(0) = 0`` taken by continuity (no NaN), ``Phi(z) = 0`` below 0 and ``1`` above 1.
    Vectorised; float64.
    """
    z = _as_float_array("z", z)
    zc = np.clip(z, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = zc - zc * np.log(zc)
    val = np.where(zc > 0.0, val, 0.0)
    return _out(val)


def hit_probability(w, eta):
    """Best-product rule: ``p(w, eta) = (1/4)[Phi(min(|w|+eta, 1)) - Phi(max(|w|-eta, 0))]``.

    REFERENCE §4, the displayed equation for ``p(w, eta)``. It is exactly the probability that one
    candidate (``u, v`` i.i.d. ``U[-1, 1]``) satisfies ``u > 0`` (the required sign of ``u``; the
    ``u < 0`` half is symmetric), ``sign(v) = sign(w)`` (``+`` for ``w = 0``) and
    ``| |v| u - |w| | <= eta``: the factor ``1/4`` is the two sign events and ``|v| u`` has CDF
    :func:`product_cdf`. That event implies ``|v u - w| <= eta``, so ``p`` is a lower bound on
    ``P(u > 0, |v u - w| <= eta)``, and equal to it when ``|w| >= eta`` (the wrong sign of ``v``
    cannot then come within ``eta``). Vectorised over ``w`` (and ``eta``, broadcast); float64,
    evaluated without cancellation (relative error ~1e-15 even near ``|w| = 1``, where
    ``p ~ eta^2 / 8`` is the difference of two CDF values close to 1).
    """
    w = _as_float_array("w", w)
    eta = _check_eta(eta)
    w, eta = np.broadcast_arrays(np.abs(w), eta)
    return _out(0.25 * _cdf_increment(w, eta))


def _window_length(a: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``len([a - r, a + r] ∩ [0, 1])`` for ``a >= 0``, without cancellation near ``a = 1``."""
    return np.clip(np.minimum(r, 1.0 - a) + np.minimum(r, a), 0.0, None)


def _x_minus_log1p(x: np.ndarray) -> np.ndarray:
    """``x - ln(1 + x)`` for ``x >= 0``, accurate for small ``x`` (series below 0.1)."""
    xs = np.minimum(x, 0.1)
    series = np.zeros_like(xs)
    for k in range(24, 1, -1):  # sum_{k>=2} (-1)^k x^k / k, Horner in x
        series = xs * (series + (-1.0) ** k / k)
    series = series * xs
    with np.errstate(over="ignore", invalid="ignore"):
        direct = x - np.log1p(x)
    return np.where(x < 0.1, series, direct)


def _cdf_increment(a: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """``Phi(min(a + eta, 1)) - Phi(max(a - eta, 0))`` for ``a >= 0``, without cancellation.

    With ``lo = max(a - eta, 0)``, ``hi = min(a + eta, 1)`` and ``h = hi - lo``:
    ``Phi(hi) - Phi(lo) = h (-ln hi) + lo (h/lo - ln(1 + h/lo))`` (``= h (1 - ln hi)`` at
    ``lo = 0``); both terms are ``>= 0``, so the difference of two nearly equal CDF values is
    never formed (it would lose all digits near ``a = 1`` for small ``eta``, where ``p ~ eta^2/8``).
    """
    lo = np.maximum(a - eta, 0.0)
    h = _window_length(a, eta)
    hi = np.minimum(a + eta, 1.0)
    with np.errstate(divide="ignore"):
        neg_log_hi = np.where(
            hi < 0.5, -np.log(np.where(hi > 0.0, hi, 1.0)), -np.log1p(np.minimum((a - 1.0) + eta, 0.0))
        )
    term1 = h * neg_log_hi
    lo_safe = np.where(lo > 0.0, lo, 1.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = h / lo_safe
        small = lo_safe * _x_minus_log1p(np.where(np.isfinite(x), x, 0.0))
        large = h - lo_safe * np.log1p(x)
    term2 = np.where(lo > 0.0, np.where(x < 1e6, small, np.where(np.isfinite(large), large, h)), h)
    return np.where(h > 0.0, term1 + term2, 0.0)


def matching_probability(w, eta):
    """Matching rule: probability of the sufficient event of REFERENCE §4 (Malach-style proofs).

    One candidate (``u, v`` i.i.d. ``U[-1, 1]``) is *matched* to ``w`` on the positive-``u`` side
    when ``u > 0`` with ``|u - |w|| <= eta/2`` and ``sign(v) = sign(w)`` (``+`` for ``w = 0``)
    with ``|v| in [1 - eta/2, 1]``. Its probability is

        p_match(w, eta) = (1/2) len([|w| - eta/2, |w| + eta/2] ∩ [0, 1]) * (1/2) min(eta/2, 1).

    For ``|w| <= 1`` and ``eta <= 1`` the interval keeps at least ``eta/2`` of its length, so
    ``p_match >= eta^2 / 16`` (REFERENCE §4, ``p >= eta^2/16``; equality at ``w = 0`` and
    ``|w| = 1``; ``eta^2 / 8`` in the interior). A matched candidate has
    ``| |v| u - |w| | <= |v| |u - |w|| + (1 - |v|) |w| <= eta/2 + eta/2 |w| <= eta`` for
    ``|w| <= 1``, hence ``|v u - w| <= eta``: the matching event lies inside the event of
    :func:`hit_probability`, so ``p_match <= p``. Vectorised over ``w`` (and ``eta``); float64.
    """
    w = _as_float_array("w", w)
    eta = _check_eta(eta)
    a = np.abs(w)
    half = eta / 2.0
    length = _window_length(a, half)
    return _out(0.5 * length * 0.5 * np.minimum(half, 1.0))


# --------------------------------------------------------------------------- per-layer quantities


def per_weight_tolerance(dims, eps, *, negative_half_everywhere=False) -> tuple[float, ...]:
    """Per-weight error tolerances ``eta_i`` of REFERENCE §3 (the displayed ``eta_i``).

    ``eta_i = ln(1 + eps) / (l sqrt(2 n_i n_{i-1}))`` for ``i = 1`` (both halves ``D+, D-``), and
    ``ln(1 + eps) / (l sqrt(n_i n_{i-1}))`` for ``i >= 2`` where the ``N`` half is dropped (the layer
    input is ``>= 0``); with ``negative_half_everywhere=True`` the ``sqrt(2 ...)`` form is used for
    every layer. Rationale: if every entry of ``[D+, D-]`` is at most ``eta_i`` in absolute value,
    ``c_i <= ||[D+, D-]||_F <= eta_i sqrt(#entries) = ln(1 + eps) / l``, so
    ``sum c_i <= ln(1 + eps)`` and :func:`certified_error` is ``<= eps``.
    """
    dims = _check_dims(dims)
    eps = _check_eps(eps)
    l = len(dims) - 1
    budget = math.log1p(eps) / l
    out = []
    for i in range(1, l + 1):
        entries = dims[i] * dims[i - 1] * (2 if (i == 1 or negative_half_everywhere) else 1)
        out.append(budget / math.sqrt(entries))
    return tuple(out)


def _layer_events(dims, negative_half_everywhere) -> tuple[int, ...]:
    l = len(dims) - 1
    return tuple(
        dims[i] * dims[i - 1] * (2 if (i == 1 or negative_half_everywhere) else 1)
        for i in range(1, l + 1)
    )


def event_count(dims, *, negative_half_everywhere=False) -> int:
    """Number ``N_ev`` of (output, input, sign) events of the union bound (REFERENCE §4).

    ``N_ev = 2 n_1 n_0 + sum_{i>=2} n_i n_{i-1}``; with ``negative_half_everywhere=True``,
    ``2 sum_i n_i n_{i-1}`` (both halves kept in every layer).
    """
    dims = _check_dims(dims)
    return int(sum(_layer_events(dims, negative_half_everywhere)))


def max_weight(dims) -> tuple[float, ...]:
    """Largest admissible target weight per layer: ``w_max,i = min(1, 1/sqrt(n_{i-1}))``.

    The max-norm assumption of Malach et al. (2020), REFERENCE §1.
    """
    dims = _check_dims(dims)
    return tuple(min(1.0, 1.0 / math.sqrt(n)) for n in dims[:-1])


def worst_case_probability(eta, w_max, rule="best"):
    """``p_i = min_{|w| <= w_max} p(w, eta)`` of REFERENCE §4, for ``rule`` "best" or "matching".

    Rule "best" (:func:`hit_probability`): for ``a = |w|`` write
    ``4 p(a) = Phi(min(a+eta, 1)) - Phi(max(a-eta, 0))``; ``Phi' = -ln z`` on ``(0, 1)`` is
    positive and decreasing. On ``[0, eta]`` the lower term is ``Phi(0) = 0`` and the upper term is
    non-decreasing, so ``p`` is non-decreasing. On ``[eta, inf)`` the derivative is
    ``-ln(a + eta) - (-ln(a - eta)) < 0`` while ``a + eta < 1`` (``-ln`` decreasing) and
    ``-(-ln(a - eta)) <= 0`` once the upper term is clamped at 1, so ``p`` is non-increasing. A
    function that rises then falls attains its minimum over ``[0, w_max]`` at an endpoint:
    ``p_i = min(p(0), p(w_max))``.

    Rule "matching" (:func:`matching_probability`): ``p`` is proportional to the length of
    ``[a - eta/2, a + eta/2] ∩ [0, 1]``, a trapezoid in ``a`` (rises, is flat, falls: concave on
    its support), so again ``p_i = min(p(0), p(w_max))``.

    Vectorised over ``eta`` and ``w_max`` (broadcast); float64.
    """
    rule = _check_rule(rule)
    eta = _check_eta(eta)
    w_max = _as_float_array("w_max", w_max)
    if not (np.all(w_max >= 0) and np.all(np.isfinite(w_max))):
        raise InvalidInputError(f"w_max must be finite and >= 0, got w_max={w_max!r}")
    f = hit_probability if rule == "best" else matching_probability
    p0 = np.asarray(f(np.zeros_like(w_max), eta))
    p1 = np.asarray(f(w_max, eta))
    return _out(np.minimum(p0, p1))


def block_size_for(p, n_events, delta) -> int:
    """Smallest integer ``k >= 1`` with ``n_events (1 - p)^k <= delta`` (REFERENCE §4).

    ``k = ceil(ln(n_events / delta) / (-ln(1 - p)))``, computed with ``log1p`` and then checked in
    log space, ``ln n_events + k ln(1 - p) <= ln delta``, and incremented (or decremented) until
    ``k`` satisfies the inequality and ``k - 1`` does not. Values within a relative ``1e-13`` of
    the boundary are decided in exact rational arithmetic (the float inputs are exact rationals)
    for ``k <= 4096`` and conservatively (as "not satisfied") above, so floating rounding can only
    make ``k`` larger, never too small. ``p`` in ``(0, 1]``; ``p == 1`` gives ``k = 1``.
    """
    p = _scalar("p", p)
    if not (0.0 < p <= 1.0):
        raise InvalidInputError(f"p must lie in (0, 1], got p={p!r}")
    n_events = _positive_int("n_events", n_events)
    delta = _check_delta(delta)
    if p == 1.0:
        return 1
    log_rate = math.log1p(-p)  # < 0
    target = math.log(n_events) - math.log(delta)  # > 0 since n_events >= 1 > delta
    k_float = target / -log_rate
    if not math.isfinite(k_float) or k_float > 2.0**62:
        raise InvalidInputError(
            f"p={p!r} is too small: block size ln(n_events/delta)/p would be {k_float:.3g}"
        )

    def ok(k: int) -> bool:
        lhs = k * log_rate + target  # ln(n_events (1-p)^k / delta)
        margin = 1e-13 * max(1.0, abs(k * log_rate), abs(target))
        if abs(lhs) > margin:
            return lhs < 0
        if k <= _EXACT_TIE_MAX_K:  # too close to call in floating point: decide exactly
            return n_events * (1 - Fraction(p)) ** k <= Fraction(delta)
        return False  # conservative: a larger k is always safe

    k = max(1, math.ceil(k_float))
    while not ok(k):
        k += 1
    while k > 1 and ok(k - 1):
        k -= 1
    return int(k)


def theorem_block_sizes(
    dims, eps, delta, *, rule="best", negative_half_everywhere=False
) -> tuple[int, ...]:
    """A-priori block sizes ``k_i`` of REFERENCE §4 for every admissible target of shape ``dims``.

    ``k_i >= ln(N_ev / delta) / (-ln(1 - p_i))`` with ``p_i =``
    :func:`worst_case_probability` ``(eta_i, w_max,i, rule)``, ``eta_i`` from
    :func:`per_weight_tolerance`, ``w_max,i`` from :func:`max_weight` and ``N_ev`` from
    :func:`event_count`. Layer ``i`` then has hidden width ``m_i = n_{i-1} k_i`` (REFERENCE §3).
    """
    dims = _check_dims(dims)
    eps = _check_eps(eps)
    delta = _check_delta(delta)
    rule = _check_rule(rule)
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    n_ev = event_count(dims, negative_half_everywhere=negative_half_everywhere)
    return tuple(
        block_size_for(worst_case_probability(eta, wm, rule), n_ev, delta)
        for eta, wm in zip(etas, max_weight(dims))
    )


def _check_weights(weights) -> tuple[list[np.ndarray], tuple[int, ...]]:
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise InvalidInputError(
            f"weights must be a non-empty list of 2-D arrays W_1..W_l, got {type(weights).__name__}"
        )
    mats = []
    for i, w in enumerate(weights, start=1):
        arr = _as_float_array(f"weights[{i - 1}] (W_{i})", w)
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
            raise InvalidInputError(
                f"W_{i} must be a non-empty 2-D array, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"W_{i} must be finite")
        mats.append(arr)
    for i in range(1, len(mats)):
        if mats[i].shape[1] != mats[i - 1].shape[0]:
            raise InvalidInputError(
                f"W_{i + 1} has fan-in {mats[i].shape[1]} but W_{i} has fan-out "
                f"{mats[i - 1].shape[0]}: shapes must chain as (n_i, n_(i-1))"
            )
    dims = (mats[0].shape[1],) + tuple(m.shape[0] for m in mats)
    return mats, dims


def instance_block_sizes(weights, eps, delta, *, negative_half_everywhere=False) -> tuple[int, ...]:
    """Instance block sizes of REFERENCE §4 ("Instance bound"), best-product rule.

    As :func:`theorem_block_sizes`, but ``p_i = min over the entries w of W_i of`` :func:`hit_probability`
    ``(w, eta_i)`` for the given target ``weights = [W_1, ..., W_l]`` (``W_i`` of shape
    ``(n_i, n_{i-1})``). For a target within the max-norm assumption this is never larger than the
    a-priori block size. An entry with ``|w| >= 1 + eta_i`` cannot be hit and is rejected.
    """
    mats, dims = _check_weights(weights)
    eps = _check_eps(eps)
    delta = _check_delta(delta)
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    n_ev = event_count(dims, negative_half_everywhere=negative_half_everywhere)
    out = []
    for i, (w, eta) in enumerate(zip(mats, etas), start=1):
        p = float(np.min(hit_probability(w, eta)))
        if p <= 0.0:
            worst = float(np.max(np.abs(w)))
            raise InvalidInputError(
                f"W_{i} has a weight of magnitude {worst:.6g} >= 1 + eta_{i} = {1 + eta:.6g}: "
                "no product of two U[-1, 1] weights can reach it"
            )
        out.append(block_size_for(p, n_ev, delta))
    return tuple(out)


def failure_probability(
    dims, block_sizes, eps, *, rule="best", negative_half_everywhere=False
) -> float:
    """Union bound on the probability that the construction misses some event (REFERENCE §4).

    ``sum_i N_i (1 - p_i)^{k_i}``, capped at 1, where ``N_1 = 2 n_1 n_0``, ``N_i = n_i n_{i-1}``
    for ``i >= 2`` (``2 n_i n_{i-1}`` everywhere with ``negative_half_everywhere=True``) and
    ``p_i`` is :func:`worst_case_probability` for ``rule``.
    """
    dims = _check_dims(dims)
    eps = _check_eps(eps)
    rule = _check_rule(rule)
    l = len(dims) - 1
    if isinstance(block_sizes, (str, bytes)) or not isinstance(block_sizes, (Sequence, np.ndarray)):
        raise InvalidInputError(f"block_sizes must be a sequence of l={l} integers, got {block_sizes!r}")
    if len(block_sizes) != l:
        raise InvalidInputError(
            f"block_sizes has length {len(block_sizes)} but dims describe l={l} layers"
        )
    ks = [_positive_int(f"block_sizes[{i}]", k) for i, k in enumerate(block_sizes)]
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    total = 0.0
    for n_i, k, eta, wm in zip(_layer_events(dims, negative_half_everywhere), ks, etas, max_weight(dims)):
        p = worst_case_probability(eta, wm, rule)
        miss = 0.0 if p >= 1.0 else math.exp(k * math.log1p(-p))
        total += n_i * miss
    return float(min(1.0, total))


def nnz_bound(dims) -> int:
    """Non-zeros of a Malach-style ticket: at most ``4 sum_i n_i n_{i-1}`` (REFERENCE §3, Sparsity).

    Two hidden units per target weight, each with two kept weights: ``O(dn + n^2 l)``.
    """
    dims = _check_dims(dims)
    return int(4 * sum(dims[i] * dims[i - 1] for i in range(1, len(dims))))


# --------------------------------------------------------------------------- a-posteriori bound


def layer_error_constant(d_plus, d_minus=None) -> float:
    """``c_i = ||[D+, D-]||_2`` (spectral norm), REFERENCE §3; ``||D+||_2`` when ``d_minus`` is None.

    ``D+ = A - W`` and ``D- = B + W`` are the per-(output, input) errors of the two halves of the
    gadget; ``||z(y) - W y|| <= c_i ||y||`` because ``||[s(y); s(-y)]||_2 = ||y||_2``. For layers
    ``i >= 2`` (input ``y >= 0``) pass ``d_minus=None``.
    """
    dp = _as_float_array("d_plus", d_plus)
    if dp.ndim != 2 or dp.size == 0:
        raise InvalidInputError(f"d_plus must be a non-empty 2-D array, got shape {dp.shape}")
    if d_minus is None:
        stack = dp
    else:
        dm = _as_float_array("d_minus", d_minus)
        if dm.ndim != 2 or dm.shape != dp.shape:
            raise InvalidInputError(
                f"d_minus must have the shape of d_plus {dp.shape}, got shape {dm.shape}"
            )
        stack = np.hstack([dp, dm])
    if not np.all(np.isfinite(stack)):
        raise InvalidInputError("d_plus and d_minus must be finite")
    return float(np.linalg.norm(stack, ord=2))


def _check_trace_args(spectral_norms, layer_constants) -> tuple[np.ndarray, np.ndarray]:
    s = _as_float_array("spectral_norms", spectral_norms)
    c = _as_float_array("layer_constants", layer_constants)
    if s.ndim != 1 or c.ndim != 1:
        raise InvalidInputError("spectral_norms and layer_constants must be 1-D sequences")
    if s.shape != c.shape:
        raise InvalidInputError(
            f"spectral_norms has length {s.size} but layer_constants has length {c.size}"
        )
    if s.size == 0:
        raise InvalidInputError("spectral_norms and layer_constants must not be empty")
    if not (np.all(s >= 0) and np.all(np.isfinite(s))):
        raise InvalidInputError(f"spectral_norms must be finite and >= 0, got {s.tolist()!r}")
    if not (np.all(c >= 0) and np.all(np.isfinite(c))):
        raise InvalidInputError(f"layer_constants must be finite and >= 0, got {c.tolist()!r}")
    return s, c


def certified_error_trace(spectral_norms, layer_constants) -> tuple[float, ...]:
    """The recursion of REFERENCE §3: ``(E_1, ..., E_l)``.

    ``E_0 = 0``, ``R_0 = 1``, ``R_i = s_i R_{i-1}``, ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``,
    with ``s_i = ||W_i||_2`` and ``c_i`` from :func:`layer_error_constant`. (Equivalently
    ``R_i + E_i = prod_{j<=i} (s_j + c_j)``.)
    """
    s, c = _check_trace_args(spectral_norms, layer_constants)
    e, r = 0.0, 1.0
    out = []
    for s_i, c_i in zip(s.tolist(), c.tolist()):
        e, r = s_i * e + c_i * (r + e), s_i * r
        out.append(float(e))
    return tuple(out)


def certified_error(spectral_norms, layer_constants) -> float:
    """Certified a-posteriori bound ``E_l`` on ``sup_{x in B} ||ticket(x) - F(x)||`` (REFERENCE §3).

    The last term of :func:`certified_error_trace`. With ``s_i <= 1``,
    ``1 + E_l <= prod (1 + c_i) <= exp(sum c_i)``, so ``sum c_i <= ln(1 + eps)`` gives ``E_l <= eps``.
    """
    return certified_error_trace(spectral_norms, layer_constants)[-1]
