"""Block sizes from a union bound, failure probabilities and sparsity (docs/theory.md §3-4, derived here).

Notation: ``dims = (n_0, n_1, ..., n_l)`` with ``n_0 = d``; layer ``i`` (1-based) has fan-in
``n_{i-1}`` and fan-out ``n_i``. The per-weight tolerance ``eta_i`` (:func:`per_weight_tolerance`)
makes per-weight errors ``<= eta_i`` give ``E_l <= eps``; a union bound over the ``N_ev`` (output,
input, sign) events (:func:`event_count`) turns the worst-case hit probability into a block size
(:func:`block_size_for`, :func:`theorem_block_sizes`, :func:`instance_block_sizes`) and a failure
probability (:func:`failure_probability`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from stronglth import _validate
from stronglth.bounds.probability import RULES, hit_probability, worst_case_probability
from stronglth.errors import InvalidInputError

__all__ = [
    "per_weight_tolerance",
    "event_count",
    "max_weight",
    "block_size_for",
    "theorem_block_sizes",
    "instance_block_sizes",
    "failure_probability",
    "nnz_bound",
]

_EXACT_TIE_MAX_K = 4096  # exact rational tie-break in block_size_for up to this k


def per_weight_tolerance(dims, eps, *, negative_half_everywhere=False) -> tuple[float, ...]:
    """Per-weight error tolerances ``eta_i`` of docs/theory.md §3 (the displayed ``eta_i``).

    ``eta_i = ln(1 + eps) / (l sqrt(2 n_i n_{i-1}))`` for ``i = 1`` (both halves ``D+, D-``), and
    ``ln(1 + eps) / (l sqrt(n_i n_{i-1}))`` for ``i >= 2`` where the ``N`` half is dropped (the layer
    input is ``>= 0``); with ``negative_half_everywhere=True`` the ``sqrt(2 ...)`` form is used for
    every layer. Rationale: if every entry of ``[D+, D-]`` is at most ``eta_i`` in absolute value,
    ``c_i <= ||[D+, D-]||_F <= eta_i sqrt(#entries) = ln(1 + eps) / l``, so
    ``sum c_i <= ln(1 + eps)`` and :func:`certified_error` is ``<= eps``.
    """
    dims = _validate.dims(dims)
    eps = _validate.positive_float(eps, "eps")
    l = len(dims) - 1
    budget = math.log1p(eps) / l
    out = []
    for i in range(1, l + 1):
        entries = dims[i] * dims[i - 1] * (2 if (i == 1 or negative_half_everywhere) else 1)
        out.append(budget / math.sqrt(entries))
    return tuple(out)


def _layer_events(dims, negative_half_everywhere) -> tuple[int, ...]:
    l = len(dims) - 1
    return tuple(dims[i] * dims[i - 1] * (2 if (i == 1 or negative_half_everywhere) else 1) for i in range(1, l + 1))


def event_count(dims, *, negative_half_everywhere=False) -> int:
    """Number ``N_ev`` of (output, input, sign) events of the union bound (docs/theory.md §4).

    ``N_ev = 2 n_1 n_0 + sum_{i>=2} n_i n_{i-1}``; with ``negative_half_everywhere=True``,
    ``2 sum_i n_i n_{i-1}`` (both halves kept in every layer).
    """
    dims = _validate.dims(dims)
    return int(sum(_layer_events(dims, negative_half_everywhere)))


def max_weight(dims) -> tuple[float, ...]:
    """Largest admissible target weight per layer: ``w_max,i = min(1, 1/sqrt(n_{i-1}))``.

    The max-norm assumption of Malach et al. (2020), docs/theory.md §1.
    """
    dims = _validate.dims(dims)
    return tuple(min(1.0, 1.0 / math.sqrt(n)) for n in dims[:-1])


def block_size_for(p, n_events, delta) -> int:
    """Smallest integer ``k >= 1`` with ``n_events (1 - p)^k <= delta`` (docs/theory.md §4).

    ``k = ceil(ln(n_events / delta) / (-ln(1 - p)))``, computed with ``log1p`` and then checked in
    log space, ``ln n_events + k ln(1 - p) <= ln delta``, and incremented (or decremented) until
    ``k`` satisfies the inequality and ``k - 1`` does not. Values within a relative ``1e-13`` of
    the boundary are decided in exact rational arithmetic (the float inputs are exact rationals)
    for ``k <= 4096`` and conservatively (as "not satisfied") above, so floating rounding can only
    make ``k`` larger, never too small. ``p`` in ``(0, 1]``; ``p == 1`` gives ``k = 1``.
    """
    p = _validate.real_number(p, "p")
    if not (0.0 < p <= 1.0):
        raise InvalidInputError(f"p must lie in (0, 1], got p={p!r}")
    n_events = _validate.positive_int(n_events, "n_events")
    delta = _validate.probability(delta, "delta")
    if p == 1.0:
        return 1
    log_rate = math.log1p(-p)  # < 0
    target = math.log(n_events) - math.log(delta)  # > 0 since n_events >= 1 > delta
    k_float = target / -log_rate
    if not math.isfinite(k_float) or k_float > 2.0**62:
        raise InvalidInputError(f"p={p!r} is too small: block size ln(n_events/delta)/p would be {k_float:.3g}")

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


def theorem_block_sizes(dims, eps, delta, *, rule="best", negative_half_everywhere=False) -> tuple[int, ...]:
    """A-priori block sizes ``k_i`` of docs/theory.md §4 for every admissible target of shape ``dims``.

    ``k_i >= ln(N_ev / delta) / (-ln(1 - p_i))`` with ``p_i =``
    :func:`worst_case_probability` ``(eta_i, w_max,i, rule)``, ``eta_i`` from
    :func:`per_weight_tolerance`, ``w_max,i`` from :func:`max_weight` and ``N_ev`` from
    :func:`event_count`. Layer ``i`` then has hidden width ``m_i = n_{i-1} k_i`` (docs/theory.md §3).
    """
    dims = _validate.dims(dims)
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    rule = _validate.choice(rule, "rule", RULES)
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    n_ev = event_count(dims, negative_half_everywhere=negative_half_everywhere)
    return tuple(
        block_size_for(worst_case_probability(eta, wm, rule), n_ev, delta) for eta, wm in zip(etas, max_weight(dims), strict=True)
    )


def _check_weights(weights) -> tuple[list[np.ndarray], tuple[int, ...]]:
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise InvalidInputError(f"weights must be a non-empty list of 2-D arrays W_1..W_l, got {type(weights).__name__}")
    mats = []
    for i, w in enumerate(weights, start=1):
        arr = _validate.float_array(w, f"weights[{i - 1}] (W_{i})")
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
            raise InvalidInputError(f"W_{i} must be a non-empty 2-D array, got shape {arr.shape}")
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
    """Instance block sizes of docs/theory.md §4 ("Instance bound"), best-product rule.

    As :func:`theorem_block_sizes`, but ``p_i = min over the entries w of W_i of`` :func:`hit_probability`
    ``(w, eta_i)`` for the given target ``weights = [W_1, ..., W_l]`` (``W_i`` of shape
    ``(n_i, n_{i-1})``). For a target within the max-norm assumption this is never larger than the
    a-priori block size. An entry with ``|w| >= 1 + eta_i`` cannot be hit and is rejected.
    """
    mats, dims = _check_weights(weights)
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    n_ev = event_count(dims, negative_half_everywhere=negative_half_everywhere)
    out = []
    for i, (w, eta) in enumerate(zip(mats, etas, strict=False), start=1):
        p = float(np.min(hit_probability(w, eta)))
        if p <= 0.0:
            worst = float(np.max(np.abs(w)))
            raise InvalidInputError(
                f"W_{i} has a weight of magnitude {worst:.6g} >= 1 + eta_{i} = {1 + eta:.6g}: "
                "no product of two U[-1, 1] weights can reach it"
            )
        out.append(block_size_for(p, n_ev, delta))
    return tuple(out)


def failure_probability(dims, block_sizes, eps, *, rule="best", negative_half_everywhere=False) -> float:
    """Union bound on the probability that the construction misses some event (docs/theory.md §4).

    ``sum_i N_i (1 - p_i)^{k_i}``, capped at 1, where ``N_1 = 2 n_1 n_0``, ``N_i = n_i n_{i-1}``
    for ``i >= 2`` (``2 n_i n_{i-1}`` everywhere with ``negative_half_everywhere=True``) and
    ``p_i`` is :func:`worst_case_probability` for ``rule``.
    """
    dims = _validate.dims(dims)
    eps = _validate.positive_float(eps, "eps")
    rule = _validate.choice(rule, "rule", RULES)
    l = len(dims) - 1
    if isinstance(block_sizes, (str, bytes)) or not isinstance(block_sizes, (Sequence, np.ndarray)):
        raise InvalidInputError(f"block_sizes must be a sequence of l={l} integers, got {block_sizes!r}")
    if len(block_sizes) != l:
        raise InvalidInputError(f"block_sizes has length {len(block_sizes)} but dims describe l={l} layers")
    ks = [_validate.positive_int(k, f"block_sizes[{i}]") for i, k in enumerate(block_sizes)]
    etas = per_weight_tolerance(dims, eps, negative_half_everywhere=negative_half_everywhere)
    total = 0.0
    for n_i, k, eta, wm in zip(_layer_events(dims, negative_half_everywhere), ks, etas, max_weight(dims), strict=False):
        p = worst_case_probability(eta, wm, rule)
        miss = 0.0 if p >= 1.0 else math.exp(k * math.log1p(-p))
        total += n_i * miss
    return float(min(1.0, total))


def nnz_bound(dims) -> int:
    """Non-zeros of a Malach-style ticket: at most ``4 sum_i n_i n_{i-1}`` (docs/theory.md §3, Sparsity).

    Two hidden units per target weight, each with two kept weights: ``O(dn + n^2 l)``.
    """
    dims = _validate.dims(dims)
    return int(4 * sum(dims[i] * dims[i - 1] for i in range(1, len(dims))))


# --------------------------------------------------------------------------- a-posteriori bound
