"""Symbolic linear bounds with outward rounding, the arithmetic of the differential bound
(docs/theory.md §10).

A :class:`Linear` bound on ``n`` quantities ``q`` (batched over ``B`` sub-domains) is a coefficient
array ``C`` (``B, n, m``), constants ``c`` (``B, n``) and a non-negative *allowance* ``r``
(``B, n``): as an upper bound it claims ``q <= C v + c + r`` for every ``v`` of the sub-domain, as a
lower bound ``q >= C v + c - r``, with ``C``, ``c`` the stored floats read exactly. The allowance
absorbs every rounding error made computing ``C`` and ``c``, by the standard model of
floating-point dot products (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1):
a sum of ``k`` products computed in any order is within ``gamma_k`` of the exact value relative to
the sum of the absolute products, ``gamma_k = k u / (1 - k u)``, ``u = 2^-53``; every error bound
here uses ``2 gamma`` and adds ``2^-1074`` per product for underflow. Since ``|v_j| <= 1`` on every
domain here, an error ``E`` in coefficients moves the value by at most ``sum_j |E_j|``.

Concretisations (:func:`sup_linear`) round outward the same way, so a number this module reports
as an upper bound is one for the exact real value of the claim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Linear",
    "gamma",
    "up",
    "affine",
    "added",
    "scaled",
    "exact_input",
    "sup_linear",
    "sup_bound",
    "inf_bound",
    "spectral_upper",
    "two_difference",
]

UNIT = 2.0**-53
TINY = 2.0**-1074


def gamma(k: int) -> float:
    """Twice Higham's ``gamma_k``: the relative error bound of a ``k``-term dot product, with margin."""
    return 2.0 * k * UNIT / (1.0 - k * UNIT)


def up(value: np.ndarray | float, terms: int = 4) -> np.ndarray:
    """``value`` (a float sum or product of ``terms`` non-negative parts) pushed up past its rounding."""
    v = np.asarray(value, dtype=np.float64)
    return v + np.abs(v) * gamma(terms) + terms * TINY


@dataclass
class Linear:
    """``C v + c`` (+ ``r`` as an upper bound, - ``r`` as a lower bound); see the module docstring."""

    C: np.ndarray
    c: np.ndarray
    r: np.ndarray

    def rows(self, keep: np.ndarray) -> Linear:
        """The sub-domains ``keep`` (an index or mask along the batch axis)."""
        return Linear(self.C[keep], self.c[keep], self.r[keep])

    def magnitude(self) -> np.ndarray:
        """``sum_j |C_j| + |c|``: what one rounding of every coefficient can move the value by."""
        return np.abs(self.C).sum(axis=-1) + np.abs(self.c)


def exact_input(batch: int, m: int) -> Linear:
    """The input ``v`` itself: identity coefficients, no constant, no allowance."""
    return Linear(np.broadcast_to(np.eye(m), (batch, m, m)).copy(), np.zeros((batch, m)), np.zeros((batch, m)))


def affine(terms: list[tuple[np.ndarray, Linear, Linear]]) -> tuple[Linear, Linear]:
    """Upper and lower bounds of ``sum_t M_t q_t`` from bounds ``(U_t, L_t)`` of each ``q_t``:
    ``M+ U + M- L`` above and ``M+ L + M- U`` below, with the rounding of the products added to the
    allowance (module docstring)."""
    k = 2 * sum(m.shape[1] for m, _, _ in terms) + 2
    g = gamma(k)
    out = []
    for upper in (True, False):
        C = c = r = mag = None
        for m, bu, bl in terms:
            mp, mn = np.maximum(m, 0.0), np.minimum(m, 0.0)
            first, second = (bu, bl) if upper else (bl, bu)
            tc = np.matmul(mp, first.C) + np.matmul(mn, second.C)
            tk = first.c @ mp.T + second.c @ mn.T
            tr = first.r @ mp.T - second.r @ mn.T
            tm = first.magnitude() @ mp.T - second.magnitude() @ mn.T
            C, c, r, mag = (tc, tk, tr, tm) if C is None else (C + tc, c + tk, r + tr, mag + tm)
        assert C is not None and c is not None and r is not None and mag is not None
        m_cols = C.shape[-1]
        out.append(Linear(C, c, up(r + g * mag, k) + (m_cols + 1) * k * TINY))
    return out[0], out[1]


def scaled(bound: Linear, factor: np.ndarray, shift: np.ndarray) -> Linear:
    """``factor (q - shift)`` row by row, ``factor >= 0``: from an upper bound of ``q`` an upper
    bound, from a lower bound a lower bound (the allowance scales with the factor)."""
    C = bound.C * factor[..., None]
    c = factor * (bound.c - shift)
    mag = factor * (bound.magnitude() + np.abs(shift))
    return Linear(C, c, up(factor * bound.r + gamma(3) * mag, 4) + 4 * TINY * bound.C.shape[-1])


def _split_parts(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, split: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per input coordinate ``j``: the largest value of its part of ``C v`` over ``[lo_j, hi_j]``
    (box), and the coefficient ``m_j >= 0`` with ``part_j <= m_j |x_j|`` (ball)."""
    lo, hi = lo[:, None, :], hi[:, None, :]
    if split:  # v = (s(x), s(-x)): the part c+ s(x_j) + c- s(-x_j), largest at lo, hi or 0
        d = lo.shape[-1]
        cp, cn = C[..., :d], C[..., d:]
        at = [cp * np.maximum(t, 0.0) + cn * np.maximum(-t, 0.0) for t in (lo, hi)]
        box = np.maximum(at[0], at[1])
        box = np.where((lo <= 0) & (hi >= 0), np.maximum(box, 0.0), box)
        ball = np.maximum(np.maximum(np.where(hi > 0, cp, 0.0), np.where(lo < 0, cn, 0.0)), 0.0)
        return box, ball
    box = np.maximum(C * lo, C * hi)
    ball = np.where(lo >= 0, np.maximum(C, 0.0), np.where(hi <= 0, np.maximum(-C, 0.0), np.abs(C)))
    return box, ball


DUAL_STEPS = 24
"""Bisection steps of the multiplier of the box-and-ball concretisation (:func:`_dual_bound`)."""


def _piece_max(c: np.ndarray, mu: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """An upper bound of ``max c t - mu t^2`` over ``t`` in ``[p, q]`` (``-inf`` if empty): the value
    at an end when ``c / (2 mu)`` is clearly beyond it (the quadratic is monotone there), else the
    unconstrained maximum ``c^2 / (4 mu)`` (never below the constrained one)."""
    peak = c / (2.0 * mu)
    margin = 1e-12 * np.abs(peak) + 1e-300
    at_q, at_p = c * q - mu * q * q, c * p - mu * p * p
    value = np.where(peak >= q + margin, at_q, np.where(peak <= p - margin, at_p, c * c / (4.0 * mu)))
    value = value + np.abs(value) * gamma(4) + gamma(4) * (np.abs(c * q) + mu * q * q + np.abs(c * p) + mu * p * p) + 4 * TINY
    return np.where(p <= q, value, -np.inf)


def _dual_terms(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, mu: np.ndarray, split: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per coordinate: an upper bound of ``max part_j(x_j) - mu x_j^2`` over ``[lo_j, hi_j]``, and
    the maximiser's square (for the bisection)."""
    m = mu[..., None]
    lo, hi = lo[:, None, :], hi[:, None, :]
    if split:
        d = lo.shape[-1]
        cp, cn = C[..., :d], C[..., d:]
        right = _piece_max(cp, m, np.maximum(lo, 0.0), hi)  # x_j >= 0: c+ x_j
        left = _piece_max(-cn, m, lo, np.minimum(hi, 0.0))  # x_j <= 0: c- (-x_j)
        t_right = np.clip(cp / (2 * m), np.maximum(lo, 0.0), np.maximum(hi, 0.0))
        t_left = np.clip(-cn / (2 * m), np.minimum(lo, 0.0), np.minimum(hi, 0.0))
        t = np.where(right >= left, t_right, t_left)
        return np.maximum(right, left), t * t
    t = np.clip(C / (2 * m), lo, hi)
    return _piece_max(C, m, lo, hi), t * t


def _dual_bound(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, split: bool, start: np.ndarray) -> np.ndarray:
    """``sup C v`` over box and ball by weak Lagrangian duality: for every ``mu > 0``,
    ``sup <= mu + sum_j max_{x_j in [lo_j, hi_j]} (part_j(x_j) - mu x_j^2)``, a true upper bound
    whatever ``mu``; ``mu`` is chosen by bisection on the derivative ``1 - ||x(mu)||^2`` in
    ``(0, ||C|| / 2]`` (at ``||C|| / 2`` the ball alone gives ``||C||``)."""
    top = np.maximum(start / 2.0, 1e-150)
    lo_mu, hi_mu = top * 1e-6, top
    for _ in range(DUAL_STEPS):
        mid = np.sqrt(lo_mu) * np.sqrt(hi_mu)
        _, square = _dual_terms(C, lo, hi, mid, split)
        outside = square.sum(axis=-1) > 1.0  # the maximiser leaves the ball: mu is too small
        lo_mu, hi_mu = np.where(outside, mid, lo_mu), np.where(outside, hi_mu, mid)
    best = np.full(C.shape[:-1], np.inf)
    for mu in (lo_mu, hi_mu):
        terms, _ = _dual_terms(C, lo, hi, mu, split)
        value = mu + terms.sum(axis=-1)
        best = np.minimum(best, value + gamma(lo.shape[-1] + 2) * (mu + np.abs(terms).sum(axis=-1)) + TINY)
    return best


def sup_linear(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, ball: bool, split: bool, dual: bool = False) -> np.ndarray:
    """An upper bound (rounded up) of ``sup C v`` over ``x`` in the box ``[lo, hi]`` (``B, d``),
    intersected with the unit ball when ``ball``; ``v = x``, or ``(s(x), s(-x))`` when ``split``.
    Over box and ball: the smallest of the box's bound, the ball's and the Lagrangian dual bound
    (:func:`_dual_bound`; only for boxes smaller than ``[-1, 1]^d``, where it can help, and only
    when ``dual`` or ``d <=`` :data:`DUAL_MAX_D`)."""
    box, coefficient = _split_parts(C, lo, hi, split)
    d = lo.shape[-1]
    total = box.sum(axis=-1)
    total = total + gamma(d + 2) * np.abs(box).sum(axis=-1) + (d + 2) * TINY
    if not ball:
        return total
    norm = up(np.sqrt(np.square(coefficient).sum(axis=-1) + d * TINY), 2 * d + 4)
    best = np.minimum(total, norm)
    if (dual or d <= DUAL_MAX_D) and np.any((lo > -1.0) | (hi < 1.0)):
        best = np.minimum(best, _dual_bound(C, lo, hi, split, norm))
    return best


DUAL_MAX_D = 0
"""The dual concretisation is used for every concretisation up to this input dimension; 0: off.
Measured on a 4-8-8-1 ticket: 28x slower per box when used at every layer, and a wider gap at 30 s
(3.3% against 1.5%). Branch-and-bound uses it for the output's bound only (``dual=True``): there it
is what closes the small boxes that barely touch the sphere (their corners lie outside the ball)."""


def sup_bound(bound: Linear, lo: np.ndarray, hi: np.ndarray, ball: bool, split: bool, dual: bool = False) -> np.ndarray:
    """An upper bound of the quantity bounded above by ``bound`` over the sub-domain (``dual``: see
    :func:`sup_linear`)."""
    s = sup_linear(bound.C, lo, hi, ball, split, dual)
    return s + bound.c + bound.r + gamma(3) * (np.abs(s) + np.abs(bound.c) + bound.r) + 3 * TINY


def inf_bound(bound: Linear, lo: np.ndarray, hi: np.ndarray, ball: bool, split: bool) -> np.ndarray:
    """A lower bound of the quantity bounded below by ``bound`` over the sub-domain."""
    s = sup_linear(-bound.C, lo, hi, ball, split)
    return -s + bound.c - bound.r - gamma(3) * (np.abs(s) + np.abs(bound.c) + bound.r) - 3 * TINY


def spectral_upper(a: np.ndarray, squarings: int = 8) -> float:
    """A rigorous upper bound of the spectral norm ``||a||_2``: with ``G`` the smaller Gram matrix
    (side ``s``), ``||a||_2^2 = lambda_max(G) <= ||G^(2^j)||_F^(1/2^j)``, at most ``s^(1/2^(j+2))``
    times too large (``j = 8``: ``1.006`` for ``s = 500``). ``a`` is scaled by a power of two (exact)
    and every power of ``G`` too (up only, exact), so that nothing underflows; the rounding of each
    product is carried as a Frobenius-norm bound ``eps`` on the error of the computed power ``X``:
    ``||(X + E)^2 - fl(X^2)||_F <= 2 ||X||_F eps + eps^2 + gamma_s ||X||_F^2`` (module docstring)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0 or not np.any(a):
        return 0.0
    largest = int(np.frexp(np.abs(a).max())[1])  # scaled by it, the squares cannot all underflow
    exponent = largest + int(np.frexp(np.sqrt(np.square(np.ldexp(a, -largest)).sum()))[1])
    b = np.ldexp(a, -exponent)  # Frobenius norm in [0.5, 1); entries below 2^-1022 may lose bits:
    lost = np.sqrt(a.size) * 2.0**-1020  # ... at most this much in Frobenius norm (after scaling)
    if b.shape[0] > b.shape[1]:
        b = b.T
    s = b.shape[0]
    if s * 2.0**-40 > 1:
        return float(up(np.ldexp(np.sqrt(np.square(b).sum()) + lost, exponent)))  # huge: Frobenius
    x = b @ b.T
    fro_b = float(up(np.sqrt(np.square(b).sum()), b.size + 2))
    eps = float(up(gamma(b.shape[1] + 1) * fro_b * fro_b, 4)) + b.size * TINY
    shift = 0  # x approximates 2^shift * G^(2^j)
    for _ in range(squarings):
        fro = float(np.sqrt(np.square(x).sum()))
        q = max(0, -int(np.frexp(fro)[1])) if fro > 0 else 0
        x, eps, shift = np.ldexp(x, q), float(np.ldexp(eps, q)), shift + q
        fro = float(up(np.sqrt(np.square(x).sum()), x.size + 2))
        x = x @ x
        eps = float(up(2.0 * fro * eps + eps * eps + gamma(s + 1) * fro * fro, 6)) + s * s * TINY
        shift *= 2
    fro = float(up(np.sqrt(np.square(x).sum()), x.size + 2)) + eps
    root = 2.0 ** (squarings + 1)
    sigma = fro ** (1.0 / root) * 2.0 ** (-shift / root) * (1 + 1e-13) + lost
    return float(np.ldexp(sigma, exponent) * (1 + 1e-15))


def added(a: Linear, b: Linear, sign: float = 1.0) -> Linear:
    """``a + sign b`` (``sign = +-1``): the sum of two upper bounds (``+1``), or an upper bound minus
    a lower bound (``-1``), an upper bound of the difference."""
    C, c = a.C + sign * b.C, a.c + sign * b.c
    return Linear(C, c, up(a.r + b.r + gamma(2) * (a.magnitude() + b.magnitude()), 3) + 2 * TINY * C.shape[-1])


def two_difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a - b = s + t`` exactly (Knuth's TwoSum; no overflow assumed): ``s = fl(a - b)``, ``t`` its error."""
    s = a - b
    bb = s - a
    t = (a - (s - bb)) + (-b - bb)
    return s, t
