"""The base-3/2 decomposition of one target weight (Orseau, Hutter, Rivasplata, "Logarithmic pruning
is all you need", NeurIPS 2020; docs/theory.md §13): the paper's "binary" decomposition, whose digits
need not be exact powers.

Levels. Level ``k >= 1`` is the magnitude range ``[beta^k, beta^(k-1)]``, ``beta = 2/3``
(:func:`level_bounds`); :func:`level_of` assigns a magnitude in ``(0, 1]`` to a level containing it.

Lemma (derived here). Let ``0 <= tau <= (3/2) beta^(s-1)`` and, for every level ``k = s..K``, let
``a_k`` be a value in level ``k``. The greedy digit rule

    r <- tau;  for k = 1..K:  if a_k is present and a_k <= r:  take a_k,  r <- r - a_k

keeps ``0 <= r`` throughout and ends with ``r <= (3/2) beta^K = beta^(K-1)``; levels before ``s``
and missing levels before ``s`` do no harm. Proof: before level ``k >= s`` the invariant is
``r <= (3/2) beta^(k-1)``. If ``a_k <= r`` then ``r - a_k <= (3/2) beta^(k-1) - beta^k = (5/4) beta^k
<= (3/2) beta^k``; otherwise ``r < a_k <= beta^(k-1) = (3/2) beta^k``. Before level ``s`` it holds by
assumption (levels before ``s`` only lower ``r``, and a value above ``r`` is not taken). So one unit
per level suffices, at most one is kept per level, and ``K = 1 + ceil(ln(1/eta)/ln(3/2))`` levels give
error ``<= eta`` (:func:`stronglth.bounds.orseau_levels`; ``proofs/orseau_decomposition.py``).
Base 2 would need every digit exact; base 3/2 leaves each digit a factor 3/2 of slack, which is what
lets random units serve as digits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.bounds.orseau import ORSEAU_BASE, ORSEAU_LEVEL_WIDTH
from stronglth.errors import InvalidInputError

__all__ = ["level_bounds", "level_of", "greedy_decomposition"]


def level_bounds(levels: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(beta^k, beta^(k-1))``, the closed magnitude range of each level ``k`` (float64 powers)."""
    k = np.asarray(levels, dtype=np.float64)
    return np.power(ORSEAU_BASE, k), np.power(ORSEAU_BASE, k - 1.0)


def level_of(magnitudes: Any) -> np.ndarray:
    """The level (int64, ``>= 1``) of each magnitude in ``(0, 1]``: a ``k`` with
    ``beta^k <= m <= beta^(k-1)`` as computed by :func:`level_bounds` (the lower one where ``m`` is a
    boundary); ``0`` for entries that are NaN, ``<= 0`` or above 1 (no level)."""
    m = np.asarray(magnitudes, dtype=np.float64)
    valid = (m > 0) & (m <= 1.0)
    safe = np.where(valid, m, 1.0)
    k = np.maximum(1, np.ceil(np.log(1.0 / safe) / ORSEAU_LEVEL_WIDTH)).astype(np.int64)
    for _ in range(3):  # correct the logarithm's rounding against the float powers
        low, high = level_bounds(k)
        k = np.where(safe > high, k - 1, np.where(safe < low, k + 1, k))
        k = np.maximum(k, 1)
    low, high = level_bounds(k)
    if np.any(valid & ((safe < low) | (safe > high))):  # pragma: no cover - three corrections always suffice
        raise AssertionError("level_of: a magnitude fell outside its level")
    return np.where(valid, k, 0)


def greedy_decomposition(targets: Any, level_values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The greedy digit rule of the module docstring, for many targets at once.

    Args:
        targets: ``(B,)`` non-negative magnitudes ``tau``.
        level_values: ``(B, K)``: column ``k - 1`` holds the value ``a_k`` offered for level ``k``
            (NaN where the level has none).

    Returns ``(taken, residual)``: ``taken`` boolean ``(B, K)``, ``residual`` the final ``r >= 0``
    (``tau`` minus the taken values, subtracted in level order).
    """
    tau = _validate.float_array(targets, "targets")
    values = np.asarray(level_values, dtype=np.float64)
    if tau.ndim != 1 or values.ndim != 2 or values.shape[0] != tau.shape[0]:
        raise InvalidInputError(f"targets must be (B,) and level_values (B, K); got {tau.shape} and {values.shape}")
    if np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise InvalidInputError("targets must be finite and >= 0 (magnitudes)")
    if np.any(values[~np.isnan(values)] <= 0):
        raise InvalidInputError("level_values must be > 0 (or NaN for a missing level)")
    residual = tau.copy()
    taken = np.zeros(values.shape, dtype=bool)
    for k in range(values.shape[1]):
        a = values[:, k]
        take = ~np.isnan(a) & (a <= residual)
        residual = np.where(take, residual - np.where(take, a, 0.0), residual)
        taken[:, k] = take
    return taken, residual
