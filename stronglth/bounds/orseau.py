"""A-priori width and depth of the Orseau et al. construction, with explicit constants
(Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need", NeurIPS 2020; docs/theory.md §13,
constants derived here).

Notation as in :mod:`stronglth.bounds`: ``dims = (n_0, ..., n_l)``, ``eta_i`` the per-weight
tolerance of layer ``i`` (:func:`~stronglth.bounds.per_weight_tolerance`), ``h_i = 2`` sides in layer
1 and 1 after it. Every target weight is assembled from *levels* of the base-3/2 decomposition
(:mod:`stronglth.constructions.orseau.decomposition`): level ``k >= 1`` is the magnitude range
``[beta^k, beta^(k-1)]`` with ``beta = 2/3``, in log scale ``ln(1/|q|) in [(k-1) lam, k lam]``,
``lam = ln(3/2)``.

- Depth: ``2 l`` (:func:`orseau_depth`).
- Levels (:func:`orseau_levels`): ``K_i``, the least ``K`` with ``beta^(K-1) <= eta_i``, i.e.
  ``K_i = 1 + ceil(ln(1/eta_i) / ln(3/2))``; levels ``k_s(m)..K_i`` must be covered for weights of
  magnitude at most ``m`` (:func:`orseau_start_level`, ``k_s(m) = 2 + floor(ln(1/m) / ln(3/2))``).
- Units per weight (:func:`orseau_units_per_weight_bound`): at most one unit per level and side, and
  none of a level above ``|w|``: ``h_i (K_i - ceil(ln(1/m)/lam) + 1) <= h_i K_i <= h_i (2 + ln(1/eta_i)/ln(3/2))``:
  the paper's ``O(log(1/eps))`` with the constant ``h_i / ln(3/2) = 2.466 h_i`` in front of ``ln(1/eta_i)``.
- Distribution (:func:`orseau_hyperbolic_parameters`): ``M_{2i-1}`` (the ``u``) is ``hyperbolic(a_u)``
  and ``M_{2i}`` (the ``v``) is ``hyperbolic(a_v)`` (density ``1 / (|w| ln(1/a))`` on ``a <= |w| <= 1``);
  then ``X = ln(1/|u|) ~ U[0, A]``, ``Y = ln(1/|v|) ~ U[0, B]`` (``A = ln(1/a_u)``, ``B = ln(1/a_v)``)
  and ``T = ln(1/|v u|) = X + Y`` has a trapezoidal density, flat at ``1/A`` on ``[B, A]``. With
  ``a_u = beta^K`` (rounded down to two significant digits) and ``a_v = beta^(s-1)`` (rounded up) every
  needed level ``s..K`` lies in the flat part.
- Per-level probability (:func:`orseau_level_probability`): one unit covers level ``k`` of an event
  (its sign of ``u`` the side's, its sign of ``v u`` the target's, ``|v u|`` in the level) with
  probability ``q_k = (F(k lam) - F((k-1) lam)) / 4``, ``F`` the CDF of ``T``; in the flat part
  ``q_k = lam / (4 A)``, i.e. ``1 / (4 K)`` for the choice above (a little less after rounding).
- Block size (:func:`orseau_block_sizes`): a union bound over the ``N_i = h_i n_i n_{i-1}`` events of
  layer ``i`` and their ``L_i = K_i - k_s + 1`` levels, ``delta / l`` per layer:
  ``k_i = ceil(ln(l N_i L_i / delta) / -ln(1 - q_min,i)) <= 4 (K_i + 0.26) ln(l N_i L_i / delta) + 1``
  (``q_min = lam / (4 A) >= 1 / (4 (K_i + 0.26))``: rounding ``a_u`` down to two digits adds at most
  ``ln(10/9) / lam = 0.26`` to ``A / lam``), i.e. ``O(log(1/eta_i) log(N_i log(1/eta_i) / delta))``
  units per block. Then with probability at least ``1 - delta`` every level of every event is
  covered, every per-weight error is ``<= eta_i`` and the certified error is ``<= eps``
  (docs/theory.md §3.4). Width of G: ``n_{i-1} k_i`` hidden units in layer pair ``i`` (:func:`orseau_widths`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from stronglth import _validate
from stronglth.bounds.block_size import max_weight, per_weight_tolerance
from stronglth.errors import InvalidInputError

__all__ = [
    "ORSEAU_BASE",
    "ORSEAU_LEVEL_WIDTH",
    "orseau_depth",
    "orseau_levels",
    "orseau_start_level",
    "orseau_top_level",
    "orseau_units_per_weight_bound",
    "orseau_hyperbolic_parameters",
    "orseau_level_probability",
    "orseau_block_sizes",
    "orseau_widths",
    "orseau_failure_probability",
    "orseau_layer_parameters",
]

ORSEAU_BASE = 2.0 / 3.0
"""``beta``: the base of the decomposition (digits of base 3/2)."""
ORSEAU_LEVEL_WIDTH = math.log(1.5)
"""``lam = ln(3/2)``: the width of one level in log scale."""


def orseau_depth(dims) -> int:
    """The depth of G: ``2 l`` (two matrices per target layer)."""
    return 2 * (len(_validate.dims(dims)) - 1)


def orseau_levels(eta: float) -> int:
    """``K``: the least integer ``K >= 1`` with ``beta^(K-1) <= eta``, so that a greedy decomposition with
    every level ``<= K`` covered errs by at most ``(3/2) beta^K = beta^(K-1) <= eta`` (``1 + ceil(ln(1/eta)/ln(3/2))``
    for ``eta < 1``, checked against float powers)."""
    eta = _validate.positive_float(eta, "eta")
    if eta >= 1.0:
        return 1
    k = 1 + math.ceil(-math.log(eta) / ORSEAU_LEVEL_WIDTH)
    while k > 1 and ORSEAU_BASE ** (k - 2) <= eta:  # rounding of the logarithm
        k -= 1
    while ORSEAU_BASE ** (k - 1) > eta:
        k += 1
    return k


def orseau_start_level(magnitude: float) -> int:
    """``k_s(m)``: the largest ``k >= 1`` with ``m <= (3/2) beta^(k-1)``; the greedy decomposition of any
    ``0 <= tau <= m`` starts its invariant there, so levels ``k_s..K`` suffice. ``2 + floor(ln(1/m)/ln(3/2))``
    for ``0 < m <= 1``; a magnitude 0 needs no level (returns a large sentinel, 10**6)."""
    m = _validate.non_negative_float(magnitude, "magnitude")
    if m == 0.0:
        return 10**6
    if m > 1.5:
        raise InvalidInputError(f"magnitude must be at most 3/2 (|G's products| <= 1), got {m!r}")
    k = 1 if m > 1.0 else 2 + math.floor(-math.log(m) / ORSEAU_LEVEL_WIDTH)
    while k > 1 and m > 1.5 * ORSEAU_BASE ** (k - 1):
        k -= 1
    while m <= 1.5 * ORSEAU_BASE**k:
        k += 1
    return k


def orseau_top_level(magnitude: float) -> int:
    """The first level the greedy decomposition of a magnitude ``m > 0`` can take: the least ``k`` with
    ``beta^k <= m`` (a level above holds values ``> m`` and is never taken): ``ceil(ln(1/m)/ln(3/2))``."""
    m = _validate.positive_float(magnitude, "magnitude")
    k = max(0, math.ceil(-math.log(m) / ORSEAU_LEVEL_WIDTH)) if m < 1.0 else 0
    while k > 0 and ORSEAU_BASE ** (k - 1) <= m:
        k -= 1
    while ORSEAU_BASE**k > m:
        k += 1
    return max(k, 1)


def orseau_units_per_weight_bound(eta: float, magnitude: float = 1.0, sides: int = 2) -> int:
    """Most units the decomposition keeps for one target weight of magnitude at most ``magnitude``:
    ``sides * max(0, K - top_level(m) + 1)`` (one unit per level and side; none above ``m``)."""
    sides = _validate.positive_int(sides, "sides")
    m = _validate.non_negative_float(magnitude, "magnitude")
    if m == 0.0:
        return 0
    return sides * max(0, orseau_levels(eta) - orseau_top_level(min(m, 1.0)) + 1)


def _two_digits(x: float, *, up: bool) -> float:
    """``x`` in ``(0, 1)`` rounded down (or up) to two significant digits, kept in ``(0, 1)``."""
    exponent = math.floor(math.log10(x)) - 1
    scaled = x / 10.0**exponent
    digits = math.ceil(scaled - 1e-9) if up else math.floor(scaled + 1e-9)
    a = float(f"{digits * 10.0**exponent:.2g}")
    step = 10.0**exponent
    while (a < x) if up else (a > x):  # the float noise of the rounding
        a = float(f"{a + step if up else a - step:.2g}")
    return min(a, 0.99) if up else a


def orseau_hyperbolic_parameters(start_level: int, levels: int) -> tuple[float, float]:
    """``(a_u, a_v)`` of ``hyperbolic(a)`` for ``M_{2i-1}`` and ``M_{2i}`` when levels ``start_level..levels``
    are needed: ``a_u = beta^levels`` rounded down and ``a_v = beta^(start_level - 1)`` rounded up to two
    significant digits, so that ``ln(1/a_v) <= (start_level - 1) lam`` and ``ln(1/a_u) >= levels lam``:
    every needed level lies where the density of ``ln(1/|v u|)`` is flat (module docstring). With
    ``start_level = 1`` (a magnitude above 1) ``a_v = 0.99``."""
    start_level = _validate.positive_int(start_level, "start_level")
    levels = _validate.positive_int(levels, "levels")
    a_u = _two_digits(ORSEAU_BASE**levels, up=False)
    a_v = _two_digits(ORSEAU_BASE ** (min(start_level, levels) - 1), up=True) if start_level > 1 else 0.99
    return a_u, a_v


def _sum_cdf(t: float, first: float, second: float) -> float:
    """CDF at ``t`` of ``X + Y``, ``X ~ U[0, first]``, ``Y ~ U[0, second]`` independent (trapezoidal law)."""
    big, small = max(first, second), min(first, second)
    if t <= 0.0:
        return 0.0
    if t >= big + small:
        return 1.0
    if t <= small:
        return t * t / (2.0 * big * small)
    if t <= big:
        return (t - small / 2.0) / big
    return 1.0 - (big + small - t) ** 2 / (2.0 * big * small)


def orseau_level_probability(level: int, a_u: float, a_v: float | None = None) -> float:
    """``q_k``: probability that one unit covers level ``k`` of one event when ``u ~ hyperbolic(a_u)`` and
    ``v ~ hyperbolic(a_v)`` (``a_v = a_u`` by default) are independent: the sign of ``u`` is the side's
    (1/2), the sign of ``v u`` the target's (1/2), and ``ln(1/|v u|)`` lies in ``[(k-1) lam, k lam]``."""
    level = _validate.positive_int(level, "level")
    widths = []
    for a, name in ((a_u, "a_u"), (a_u if a_v is None else a_v, "a_v")):
        a = _validate.positive_float(a, name)
        if a >= 1.0:
            raise InvalidInputError(f"{name} must be in (0, 1), got {a!r}")
        widths.append(-math.log(a))
    high, low = level * ORSEAU_LEVEL_WIDTH, (level - 1) * ORSEAU_LEVEL_WIDTH
    return 0.25 * (_sum_cdf(high, *widths) - _sum_cdf(low, *widths))


def _magnitudes(dims, magnitudes) -> tuple[float, ...]:
    if magnitudes is None:
        return max_weight(dims)
    if len(magnitudes) != len(dims) - 1:
        raise InvalidInputError(f"magnitudes needs one value per layer ({len(dims) - 1}), got {len(magnitudes)}")
    return tuple(min(1.0, _validate.non_negative_float(m, f"magnitude of layer {i}")) for i, m in enumerate(magnitudes, 1))


def _layer_plan(dims, eps, magnitudes) -> list[tuple[int, int, int, float, float, float, int]]:
    """Per layer: ``(events, start level, K, a_u, a_v, q_min, sides)``."""
    dims = _validate.dims(dims)
    etas = per_weight_tolerance(dims, eps)
    out = []
    for i, (eta, m) in enumerate(zip(etas, _magnitudes(dims, magnitudes), strict=True), start=1):
        sides = 2 if i == 1 else 1
        levels = orseau_levels(eta)
        start = min(orseau_start_level(m), levels + 1) if m > 0 else levels + 1
        a_u, a_v = orseau_hyperbolic_parameters(min(start, levels), levels)
        q_min = min((orseau_level_probability(k, a_u, a_v) for k in range(start, levels + 1)), default=1.0)
        out.append((sides * dims[i] * dims[i - 1], start, levels, a_u, a_v, q_min, sides))
    return out


def orseau_block_sizes(dims, eps, delta, magnitudes: Sequence[float] | None = None) -> tuple[int, ...]:
    """``k_i = ceil(ln(l N_i L_i / delta) / -ln(1 - q_min,i))`` (module docstring), with the admissible
    largest weight ``min(1, 1/sqrt(n_{i-1}))`` per layer or the given ``magnitudes`` (the target's own
    ``max |W_i|``: the instance form)."""
    delta = _validate.probability(delta, "delta")
    l = len(_validate.dims(dims)) - 1
    out = []
    for events, start, levels, _a_u, _a_v, q_min, _sides in _layer_plan(dims, eps, magnitudes):
        count = levels - start + 1
        if count <= 0 or q_min >= 1.0:
            out.append(1)
            continue
        out.append(max(1, math.ceil(math.log(l * events * count / delta) / -math.log1p(-q_min))))
    return tuple(out)


def orseau_widths(dims, eps, delta, magnitudes: Sequence[float] | None = None) -> tuple[int, ...]:
    """G's layer widths ``(n_0, n_0 k_1, n_1, n_1 k_2, ..., n_l)`` for :func:`orseau_block_sizes`."""
    dims = _validate.dims(dims)
    ks = orseau_block_sizes(dims, eps, delta, magnitudes)
    return (dims[0],) + tuple(w for i, k in enumerate(ks, start=1) for w in (dims[i - 1] * k, dims[i]))


def orseau_failure_probability(dims, eps, block_sizes: Sequence[int], magnitudes: Sequence[float] | None = None) -> float:
    """Union bound on the probability that some needed level of some event has no unit, for blocks of
    ``block_sizes`` units: ``min(1, sum_i N_i sum_k (1 - q_k)^k_i)`` over levels ``k_s..K_i``."""
    dims = _validate.dims(dims)
    if len(block_sizes) != len(dims) - 1:
        raise InvalidInputError(f"block_sizes needs one value per layer ({len(dims) - 1}), got {len(block_sizes)}")
    ks = [_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1)]
    total = 0.0
    for (events, start, levels, a_u, a_v, _q, _sides), k in zip(_layer_plan(dims, eps, magnitudes), ks, strict=True):
        total += events * sum((1.0 - orseau_level_probability(level, a_u, a_v)) ** k for level in range(start, levels + 1))
    return min(1.0, total)


def orseau_layer_parameters(dims, eps, magnitudes: Sequence[float] | None = None) -> list[dict[str, float | int]]:
    """The derived quantities per layer, for records: events, start level, levels ``K``, ``a_u``, ``a_v``, ``q_min``, sides."""
    keys = ("events", "start_level", "levels", "hyperbolic_a_u", "hyperbolic_a_v", "q_min", "sides")
    return [dict(zip(keys, row, strict=True)) for row in _layer_plan(dims, eps, magnitudes)]
