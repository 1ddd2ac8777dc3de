"""Probabilities of one candidate unit hitting one target weight (docs/theory.md §4, derived here).

Every probability here concerns one *candidate* hidden unit with weights ``u, v`` drawn i.i.d.
from ``U[-1, 1]``, one target weight ``w`` and one sign event of ``u`` (the ``P`` or ``N`` half of
the gadget, docs/theory.md §2). The product of two independent ``U[0, 1]`` has CDF
``Phi(z) = z - z ln z`` (:func:`product_cdf`).
"""

from __future__ import annotations

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError

__all__ = ["RULES", "product_cdf", "hit_probability", "matching_probability", "worst_case_probability"]

RULES = ("best", "matching")


def _out(arr: np.ndarray):
    """A 0-d result as a Python float, anything else as a float64 array."""
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def product_cdf(z):
    """CDF of the product ``Z = a b`` of two independent ``U[0, 1]`` (docs/theory.md §4).

    ``Phi(z) = z - z ln z`` on ``[0, 1]`` (the integral of the density ``-ln t``), with
    ``Phi(0) = 0`` taken by continuity (no NaN), ``Phi(z) = 0`` below 0 and ``1`` above 1.
    Vectorised; float64.
    """
    z = _validate.float_array(z, "z")
    zc = np.clip(z, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = zc - zc * np.log(zc)
    val = np.where(zc > 0.0, val, 0.0)
    return _out(val)


def hit_probability(w, eta):
    """Best-product rule: ``p(w, eta) = (1/4)[Phi(min(|w|+eta, 1)) - Phi(max(|w|-eta, 0))]``.

    docs/theory.md §4, the displayed equation for ``p(w, eta)``. It is exactly the probability that one
    candidate (``u, v`` i.i.d. ``U[-1, 1]``) satisfies ``u > 0`` (the required sign of ``u``; the
    ``u < 0`` half is symmetric), ``sign(v) = sign(w)`` (``+`` for ``w = 0``) and
    ``| |v| u - |w| | <= eta``: the factor ``1/4`` is the two sign events and ``|v| u`` has CDF
    :func:`product_cdf`. That event implies ``|v u - w| <= eta``, so ``p`` is a lower bound on
    ``P(u > 0, |v u - w| <= eta)``, and equal to it when ``|w| >= eta`` (the wrong sign of ``v``
    cannot then come within ``eta``). Vectorised over ``w`` (and ``eta``, broadcast); float64,
    evaluated without cancellation (relative error ~1e-15 even near ``|w| = 1``, where
    ``p ~ eta^2 / 8`` is the difference of two CDF values close to 1).
    """
    w = _validate.float_array(w, "w")
    eta = _validate.positive_array(eta, "eta")
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
        neg_log_hi = np.where(hi < 0.5, -np.log(np.where(hi > 0.0, hi, 1.0)), -np.log1p(np.minimum((a - 1.0) + eta, 0.0)))
    term1 = h * neg_log_hi
    lo_safe = np.where(lo > 0.0, lo, 1.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = h / lo_safe
        small = lo_safe * _x_minus_log1p(np.where(np.isfinite(x), x, 0.0))
        large = h - lo_safe * np.log1p(x)
    term2 = np.where(lo > 0.0, np.where(x < 1e6, small, np.where(np.isfinite(large), large, h)), h)
    return np.where(h > 0.0, term1 + term2, 0.0)


def matching_probability(w, eta):
    """Matching rule: probability of the sufficient event of docs/theory.md §4 (Malach-style proofs).

    One candidate (``u, v`` i.i.d. ``U[-1, 1]``) is *matched* to ``w`` on the positive-``u`` side
    when ``u > 0`` with ``|u - |w|| <= eta/2`` and ``sign(v) = sign(w)`` (``+`` for ``w = 0``)
    with ``|v| in [1 - eta/2, 1]``. Its probability is

        p_match(w, eta) = (1/2) len([|w| - eta/2, |w| + eta/2] ∩ [0, 1]) * (1/2) min(eta/2, 1).

    For ``|w| <= 1`` and ``eta <= 1`` the interval keeps at least ``eta/2`` of its length, so
    ``p_match >= eta^2 / 16`` (docs/theory.md §4, ``p >= eta^2/16``; equality at ``w = 0`` and
    ``|w| = 1``; ``eta^2 / 8`` in the interior). A matched candidate has
    ``| |v| u - |w| | <= |v| |u - |w|| + (1 - |v|) |w| <= eta/2 + eta/2 |w| <= eta`` for
    ``|w| <= 1``, hence ``|v u - w| <= eta``: the matching event lies inside the event of
    :func:`hit_probability`, so ``p_match <= p``. Vectorised over ``w`` (and ``eta``); float64.
    """
    w = _validate.float_array(w, "w")
    eta = _validate.positive_array(eta, "eta")
    a = np.abs(w)
    half = eta / 2.0
    length = _window_length(a, half)
    return _out(0.5 * length * 0.5 * np.minimum(half, 1.0))


# --------------------------------------------------------------------------- per-layer quantities


def worst_case_probability(eta, w_max, rule="best"):
    """``p_i = min_{|w| <= w_max} p(w, eta)`` of docs/theory.md §4, for ``rule`` "best" or "matching".

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
    rule = _validate.choice(rule, "rule", RULES)
    eta = _validate.positive_array(eta, "eta")
    w_max = _validate.float_array(w_max, "w_max")
    if not (np.all(w_max >= 0) and np.all(np.isfinite(w_max))):
        raise InvalidInputError(f"w_max must be finite and >= 0, got w_max={w_max!r}")
    f = hit_probability if rule == "best" else matching_probability
    p0 = np.asarray(f(np.zeros_like(w_max), eta))
    p1 = np.asarray(f(w_max, eta))
    return _out(np.minimum(p0, p1))
