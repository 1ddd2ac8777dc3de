"""One block of G serving every target weight of one input coordinate (Orseau, Hutter, Rivasplata,
NeurIPS 2020, "product weights" and "batch sampling"; docs/theory.md §13).

Block ``j`` of layer pair ``i`` holds units ``h`` reading input ``j`` with weight ``u_h`` and feeding
output ``o`` with ``v_oh``. By the gadget identity (docs/theory.md §2) a set ``P`` of units with
``u_h > 0`` contributes ``A s(x)``, ``A = sum_P v_oh u_h``, and a set ``N`` with ``u_h < 0`` contributes
``B s(-x)``, ``B = sum_N v_oh |u_h|``: each unit offers the *product* ``q_oh = v_oh |u_h|`` to its side.
For output ``o`` the ``P`` side needs ``A ~ w_oj`` and the ``N`` side ``B ~ -w_oj``: with ``tau`` that
target, the units of the side whose product has the sign of ``tau`` are sorted into the levels of the
base-3/2 decomposition by ``|q_oh|`` (:func:`~stronglth.constructions.orseau.decomposition.level_of`);
each level offers its **first** unit (lowest index), and the greedy digit rule
(:func:`~stronglth.constructions.orseau.decomposition.greedy_decomposition`) keeps some of them. One
sample of the block serves every output at once (the paper's batch sampling): ``u_h`` is shared,
``v_oh`` is drawn per output.

The reported error is the exact float64 one: ``A - w`` and ``B + w`` with ``A``, ``B`` added in unit
order, as :func:`stronglth.gadget_form.gadget_matrices` adds them. An event *succeeds* when that
error is at most ``eta`` in absolute value; with every level ``start..K`` covered it always does
(docs/theory.md §13, the lemma of :mod:`~stronglth.constructions.orseau.decomposition`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.bounds.orseau import orseau_start_level
from stronglth.constructions.orseau.decomposition import greedy_decomposition, level_of
from stronglth.errors import InvalidInputError

__all__ = ["SIDES", "BlockSide", "decompose_block"]

SIDES = (+1, -1)
"""``+1``: the ``P`` side (``u > 0``, target ``w``); ``-1``: the ``N`` side (``u < 0``, target ``-w``)."""


@dataclass(frozen=True)
class BlockSide:
    """One side of one block for every output: the kept units and the resulting errors.

    ``chosen``: boolean ``(n_out, k)``, unit ``h`` kept for output ``o``; ``errors``: ``(n_out,)`` signed
    ``A - w`` (``P``) or ``B + w`` (``N``); ``missing``: ``(n_out,)`` the first needed level
    (``start..K``) without a unit, 0 if none is missing.
    """

    side: int
    chosen: np.ndarray
    errors: np.ndarray
    missing: np.ndarray


def _first_unit_per_level(magnitudes: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(values, units)`` of shape ``(n_out, levels)``: the magnitude and index of the first unit of
    each level ``1..levels`` (NaN and -1 where a level has none)."""
    level = level_of(magnitudes)
    n_out, k = magnitudes.shape
    values = np.full((n_out, levels), np.nan)
    units = np.full((n_out, levels), -1, dtype=np.int64)
    rows = np.arange(n_out)
    for lev in range(1, levels + 1):
        hit = level == lev
        first = hit.argmax(axis=1)
        present = hit[rows, first]
        values[present, lev - 1] = magnitudes[rows[present], first[present]]
        units[present, lev - 1] = first[present]
    return values, units


def decompose_block(u: Any, v: Any, w: Any, *, eta: float, levels: int, sides: tuple[int, ...] = SIDES) -> list[BlockSide]:
    """The decomposition of one block (module docstring) for each side in ``sides``.

    Args:
        u: ``(k,)`` the block's input weights ``u_h``.
        v: ``(n_out, k)`` their output weights ``v_oh``.
        w: ``(n_out,)`` the target weights ``w_oj`` of this input.
        eta: the per-weight tolerance (only ``missing`` depends on it, through ``levels``).
        levels: ``K``, the deepest level used.
    """
    u = _validate.float_array(u, "u")
    v = _validate.float_array(v, "v")
    w = _validate.float_array(w, "w")
    if u.ndim != 1 or v.ndim != 2 or w.ndim != 1 or v.shape != (w.size, u.size):
        raise InvalidInputError(f"need u (k,), v (n_out, k), w (n_out,); got {u.shape}, {v.shape}, {w.shape}")
    _validate.positive_float(eta, "eta")
    levels = _validate.positive_int(levels, "levels")
    n_out, k = v.shape
    out = []
    for side in sides:
        if side not in SIDES:
            raise InvalidInputError(f"sides must be among {SIDES}, got {side!r}")
        on_side = side * u > 0
        tau = side * w
        magnitude_u = np.where(on_side, np.abs(u), 0.0)
        products = v * magnitude_u  # q_oh = v_oh |u_h| (exactly v u on P, v (-u) on N)
        usable = on_side[None, :] & (products * np.sign(tau)[:, None] > 0)
        magnitudes = np.where(usable, np.abs(products), np.nan)
        values, units = _first_unit_per_level(magnitudes, levels)
        taken, _ = greedy_decomposition(np.abs(tau), values)
        chosen = np.zeros((n_out, k), dtype=bool)
        o, lev = np.nonzero(taken)
        chosen[o, units[o, lev]] = True
        total = np.zeros(n_out)
        for h in np.flatnonzero(chosen.any(axis=0)).tolist():  # added in unit order, as gadget_form does
            total = np.where(chosen[:, h], total + products[:, h], total)
        starts = np.array([orseau_start_level(abs(t)) if t != 0 else levels + 1 for t in tau.tolist()], dtype=np.int64)
        missing = np.zeros(n_out, dtype=np.int64)
        for row in range(n_out):
            gap = np.flatnonzero(np.isnan(values[row, starts[row] - 1 :])) if starts[row] <= levels else np.zeros(0, np.int64)
            missing[row] = starts[row] + gap[0] if gap.size else 0
        out.append(BlockSide(side, chosen, total - tau, missing))
    return out
