"""The distributions of G's weights and biases: spec strings and the maps from raw 64-bit draws to
float64 values (generator "pcg64-seedseq-v2", docs/theory.md §12).

Every value of G takes exactly one 64-bit PCG64 output ``x`` (so ``bit_generator.advance(p)``
reaches offset ``p`` of a line), and is a fixed float64 function of ``x``:

- ``"uniform"``: ``U[-1, 1]``, today's values bit for bit: ``2 u - 1`` with ``u = (x >> 11) 2^-53``
  (numpy's ``Generator.random``); values in ``[-1, 1)``.
- ``"normal"``: ``N(0, 1)`` by the inverse CDF of one uniform: ``p = (2 (x >> 12) + 1) 2^-53``, the
  ``2^52`` odd multiples of ``2^-53`` in ``(0, 1)`` (exact, and ``1 - p`` is exact), and
  ``z = Phi^-1(p)`` by Acklam's rational approximation (relative error below ``1.15e-9`` against the
  exact quantile): with ``t = min(p, 1 - p)``, for ``t < 0.02425`` ``q = sqrt(-2 ln t)`` and
  ``z = C(q) / D(q)`` for ``p < 1/2`` and ``-C(q) / D(q)`` above, else ``q = p - 1/2``, ``r = q^2`` and
  ``z = q A(r) / B(r)``, with the polynomials of :data:`ACKLAM_A` .. :data:`ACKLAM_D` evaluated by
  Horner's rule. Exactly symmetric (``z(1 - p) = -z(p)``); ``|z| <= NORMAL_MAX_ABS``.
- ``"hyperbolic(a)"`` (``0 < a < 1``): density proportional to ``1/|w|`` on ``a <= |w| <= 1``,
  symmetric (Orseau, Hutter, Rivasplata 2020): the sign is ``-`` when bit 63 of ``x`` is set, and
  ``|w| = a^v`` with ``v = ((x >> 11) mod 2^52) 2^-52`` uniform in ``[0, 1)``, since
  ``P(a^v <= s) = 1 - ln s / ln a`` has density ``1 / (s ln(1/a))``; ``|w|`` is clipped to ``[a, 1]``.

``ln`` and ``exp`` are computed here from IEEE basic operations only (``+ - * /``, ``sqrt``,
``frexp``, ``ldexp``, ``rint``: exactly rounded everywhere), never from the platform's libm, so that
every value is the same bit for bit on every machine and a ticket audits anywhere. Their relative
error is a few units in the last place (tested against numpy's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError

__all__ = ["Distribution", "parse", "canonical", "UNIFORM", "NORMAL_MAX_ABS", "ACKLAM_A", "ACKLAM_B", "ACKLAM_C"]
__all__ += ["ACKLAM_D", "HYPERBOLIC_MIN_A", "ieee_log", "ieee_exp", "parsed", "per_matrix"]

UNIFORM = "uniform"
HYPERBOLIC_MIN_A = 1e-300
"""The smallest ``a`` of ``"hyperbolic(a)"`` (values stay normal floats)."""

ACKLAM_A: tuple[float, ...] = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02)
ACKLAM_A += (-3.066479806614716e01, 2.506628277459239e00)
"""Numerator of the central region, ``A(r) = a_1 r^5 + ... + a_6`` (Acklam's coefficients)."""
ACKLAM_B: tuple[float, ...] = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
ACKLAM_B += (1.0,)
"""Denominator of the central region, ``B(r) = b_1 r^5 + ... + b_5 r + 1``."""
ACKLAM_C: tuple[float, ...] = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00)
ACKLAM_C += (4.374664141464968e00, 2.938163982698783e00)
"""Numerator of the tails, ``C(q) = c_1 q^5 + ... + c_6``."""
ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
"""Denominator of the tails, ``D(q) = d_1 q^4 + ... + d_4 q + 1``."""
_P_LOW = 0.02425

_LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split (fdlibm): n * _LN2_HI is exact for |n| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_SQRT_HALF = 0.7071067811865476
_ATANH = tuple(1.0 / (2 * k + 1) for k in range(13))  # ln m = 2 s (1 + s^2/3 + s^4/5 + ...), s = (m-1)/(m+1)
_EXP = tuple(1.0 / math.factorial(k) for k in range(15))  # e^r = sum r^k / k!, |r| <= ln(2)/2


def _horner(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """``c_0 x^n + ... + c_n`` by Horner's rule (highest power first), basic operations only."""
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out *= x
        out += c
    return out


def ieee_log(x: Any) -> np.ndarray:
    """``ln x`` for positive normal float64 ``x``, from IEEE basic operations only (reproducible bit
    for bit on every platform): ``x = m 2^e`` with ``m`` in ``[sqrt(1/2), sqrt 2)``, ``ln m`` by the
    series of ``2 atanh((m - 1)/(m + 1))`` to 13 terms, ``ln x = e ln 2 + ln m`` with ``ln 2`` split in two."""
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)
    small = m < _SQRT_HALF
    m = np.where(small, m * 2.0, m)
    e = (e - small).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    series = _horner(_ATANH[::-1], s * s)
    return e * _LN2_HI + (e * _LN2_LO + 2.0 * s * series)


def ieee_exp(x: Any) -> np.ndarray:
    """``e^x`` for float64 ``x`` in ``[-708, 709]``, from IEEE basic operations only: ``n = rint(x / ln 2)``,
    ``r = (x - n ln2_hi) - n ln2_lo`` (``|r| <= ln(2)/2`` up to rounding), the Taylor series of ``e^r``
    to degree 14 by Horner's rule, times ``2^n`` (``ldexp``, exact)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.rint(x / _LN2)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    return np.ldexp(_horner(_EXP[::-1], r), n.astype(np.int64))


def _uniform(raw: np.ndarray) -> np.ndarray:
    u = (raw >> np.uint64(11)).astype(np.float64)
    u *= 1.0 / 9007199254740992.0
    u *= 2.0
    u -= 1.0
    return u


def _normal(raw: np.ndarray) -> np.ndarray:
    p = (raw >> np.uint64(12)).astype(np.float64)  # 52 bits: 2 k + 1 < 2^53 is exact
    p *= 2.0
    p += 1.0
    p *= 2.0**-53
    out = np.empty_like(p)
    t = np.minimum(p, 1.0 - p)  # 1 - p is exact
    tail = t < _P_LOW
    central = ~tail
    q = p[central] - 0.5  # exact
    r = q * q
    out[central] = q * _horner(ACKLAM_A, r) / _horner(ACKLAM_B, r)
    qt = np.sqrt(-2.0 * ieee_log(t[tail]))
    lower_tail = _horner(ACKLAM_C, qt) / _horner(ACKLAM_D, qt)  # z for p = t < 1/2
    out[tail] = np.where(p[tail] < 0.5, lower_tail, -lower_tail)
    return out


def _hyperbolic(raw: np.ndarray, a: float, log_a: float) -> np.ndarray:
    v = (raw >> np.uint64(11)) & np.uint64(2**52 - 1)
    magnitude = ieee_exp(v.astype(np.float64) * 2.0**-52 * log_a)
    np.clip(magnitude, a, 1.0, out=magnitude)
    return np.where(raw >> np.uint64(63) == 1, -magnitude, magnitude)


@dataclass(frozen=True)
class Distribution:
    """One distribution of G's values: ``name`` (``"uniform"``, ``"normal"``, ``"hyperbolic"``) and
    ``a`` (the parameter of ``"hyperbolic(a)"``, else ``None``). Make one with :func:`parse`."""

    name: str
    a: float | None = None

    @property
    def spec(self) -> str:
        """The canonical spec string (``repr`` of the float for ``a``): what files and meta record."""
        return f"hyperbolic({self.a!r})" if self.name == "hyperbolic" else self.name

    @property
    def max_abs(self) -> float:
        """The largest ``|value|`` this distribution produces (an upper bound attained or nearly)."""
        return NORMAL_MAX_ABS if self.name == "normal" else 1.0

    @property
    def min_abs(self) -> float:
        """The smallest ``|value|``: ``a`` for ``"hyperbolic(a)"``, 0 otherwise."""
        return float(self.a) if self.a is not None else 0.0

    def from_raw(self, raw: np.ndarray) -> np.ndarray:
        """The float64 values of raw 64-bit draws ``raw`` (a ``uint64`` array), one value per draw,
        by the formulas of the module docstring (docs/theory.md §12)."""
        raw = np.asarray(raw, dtype=np.uint64)
        if self.name == "uniform":
            return _uniform(raw)
        if self.name == "normal":
            return _normal(raw)
        assert self.a is not None
        return _hyperbolic(raw, self.a, _log_a(self.a))


def _log_a(a: float) -> float:
    return float(ieee_log(np.array([a]))[0])


_SPEC = re.compile(r"(uniform|normal)|hyperbolic\(([^()]*)\)")


def parse(spec: Any, name: str = "distribution") -> Distribution:
    """The :class:`Distribution` of a spec string: ``"uniform"``, ``"normal"`` or ``"hyperbolic(a)"``
    with a decimal number ``0 < a < 1`` (at least :data:`HYPERBOLIC_MIN_A`), e.g. ``"hyperbolic(1e-3)"``;
    anything else raises :class:`~stronglth.errors.InvalidInputError` naming ``name`` and the value."""
    allowed = '"uniform", "normal" or "hyperbolic(a)" with 0 < a < 1, e.g. "hyperbolic(1e-3)"'
    if not isinstance(spec, str):
        raise InvalidInputError(f"{name} must be a spec string, {allowed}; got {spec!r} ({type(spec).__name__})")
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise InvalidInputError(f"{name}: unknown distribution {spec[:60]!r}; choose {allowed}")
    if match.group(1):
        return Distribution(match.group(1))
    text = match.group(2).strip()
    try:
        a = float(text)
    except ValueError:
        raise InvalidInputError(f"{name}: the parameter of {spec[:60]!r} is not a number; choose {allowed}") from None
    if not (math.isfinite(a) and HYPERBOLIC_MIN_A <= a < 1.0) or re.fullmatch(r"[0-9.eE+-]+", text) is None:
        raise InvalidInputError(f"{name}: {spec[:60]!r} needs {HYPERBOLIC_MIN_A:g} <= a < 1 (a decimal number); choose {allowed}")
    return Distribution("hyperbolic", a)


def canonical(spec: Any, name: str = "distribution") -> str:
    """The canonical form of a spec string (``"hyperbolic(1e-3)"`` -> ``"hyperbolic(0.001)"``)."""
    return parse(spec, name).spec


_PARSED: dict[str, Distribution] = {}


def parsed(spec: str) -> Distribution:
    """:func:`parse` of ``spec``, remembered (specs are few; values are drawn often)."""
    if spec not in _PARSED:
        _PARSED[spec] = parse(spec)
    return _PARSED[spec]


def per_matrix(value: Any, depth: int, name: str, *, optional: bool) -> tuple[Any, ...]:
    """One canonical spec per matrix ``M_1 .. M_depth`` from ``value``: ``None`` (every matrix
    ``"uniform"``, or with ``optional`` every entry ``None``) or a sequence of ``depth`` spec strings
    (``None`` entries allowed where ``optional``); else an error naming ``name`` and the entry."""
    if value is None:
        return (None if optional else UNIFORM,) * depth
    what = "a spec string or None" if optional else "a spec string"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidInputError(f"{name} must be None or a list of {what} per matrix, got {str(value)[:60]!r}")
    if len(value) != depth:
        raise ShapeError(f"{name} has {len(value)} entries, G has {depth} matrices (one entry per matrix M_1 .. M_{depth})")
    return tuple(None if (optional and v is None) else canonical(v, f"{name}[{t}] (M_{t + 1})") for t, v in enumerate(value))


NORMAL_MAX_ABS = float(-_normal(np.zeros(1, dtype=np.uint64))[0])
"""The largest ``|z|`` of ``"normal"``: ``-z`` at the smallest ``p = 2^-53`` (about 8.2)."""
