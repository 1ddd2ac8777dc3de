"""The sign constraints of a branch-and-bound part used in the bound itself, by Lagrangian
relaxation (docs/theory.md §10, "Sign constraints in the bound").

A part fixes the signs of some units: ``z_j >= 0`` (or ``<= 0``) for the target, ``z_f,j >= 0`` (or
``<= 0``) for the ticket. Clipping a unit's concrete bounds makes its relaxation exact, but the output's
linear bound is still maximised over the whole box: next to a kink it is the linear extrapolation
of one side, above the error on the other, which the part excludes. With the linear bounds of the
constrained quantities, each constraint reads ``q_k(v) = G_k v + h_k >= 0`` on the part
(``z_j >= 0`` and ``z_j <= U_j(v)``: ``U_j(v) >= 0``; ``z_j <= 0`` and ``z_j >= L_j(v)``: ``-L_j(v) >= 0``),
so for every ``lambda >= 0``

    e_o <= U_o(v) + sum_k lambda_k q_k(v)

on the part (weak duality), and the right side is concretised over the box as usual. Any
``lambda >= 0`` gives a true bound; ``lambda`` is chosen by a few rounds of coordinate descent on the
concretised value (a convex piecewise-linear function of each ``lambda_k``, smallest at ``0`` or where
a coefficient changes sign), and the rounding of the combination is added to the allowance.
If ``U_o + L_o < 0`` for the bounds ``U_o >= e_o``, ``L_o >= -e_o`` so obtained, the part is empty.
The units are those of plain ReLU networks (a leaky network's ReLU form, docs/theory.md §14.6: a
leaky unit is two units there, on ``z`` and ``-z``, each split on its own sign).
"""

from __future__ import annotations

import numpy as np

from stronglth.verification._symbolic import Linear, gamma, sup_bound, sup_linear, up

__all__ = ["DESCENT_MAX_M", "ROUNDS", "constraint_rows", "tightened_outputs"]

ROUNDS = 2
"""Rounds of coordinate descent on the multipliers."""

DESCENT_MAX_M = 64
"""The multipliers are searched for linear functions of at most this many variables (``v``: ``2 d``
in gadget form); beyond, each step would hold ``m^2`` candidates per output, and ``lambda = 0``."""


def constraint_rows(
    symbolic: list, g_signs: list[np.ndarray], f_signs: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The constraints ``G v + h >= 0`` (``G``: ``B, K, m``; ``h``: ``B, K``, the allowance included)
    of each part's sign-fixed units, padded with zero rows; and the number ``K_b`` of each part's."""
    batch = g_signs[0].shape[0] if g_signs else 0
    rows_b, rows_g, rows_h = [], [], []
    for (uz, lz, uzf, lzf), gs, fs in zip(symbolic, g_signs, f_signs, strict=True):
        for signs, upper, lower in ((gs, uz, lz), (fs, uzf, lzf)):
            for sign, bound in ((1, upper), (-1, lower)):
                b, j = np.nonzero(signs == sign)
                if len(b) == 0:
                    continue
                rows_b.append(b)
                rows_g.append(sign * bound.C[b, j])
                rows_h.append(sign * bound.c[b, j] + bound.r[b, j])
    m = symbolic[0][0].C.shape[-1] if symbolic else 0
    counts = np.zeros(batch, dtype=int)
    if not rows_b:
        return np.zeros((batch, 0, m)), np.zeros((batch, 0)), counts
    b = np.concatenate(rows_b)
    order = np.argsort(b, kind="stable")
    b = b[order]
    counts = np.bincount(b, minlength=batch)
    slot = np.arange(len(b)) - np.repeat(np.cumsum(counts) - counts, counts)
    G = np.zeros((batch, int(counts.max()), m))
    h = np.zeros((batch, int(counts.max())))
    G[b, slot] = np.concatenate(rows_g)[order]
    h[b, slot] = np.concatenate(rows_h)[order]
    return G, h, counts


def _descend(A: np.ndarray, a0: np.ndarray, G: np.ndarray, h: np.ndarray, dom: tuple) -> np.ndarray:
    """Multipliers ``lambda >= 0`` (``B, O, K``) that make ``sup (A + lambda G) v + a0 + lambda h``
    small (floating point, no rounding control: only the choice of ``lambda``)."""
    lo, hi, ball, split = dom
    batch, n_obj, m = A.shape
    lam = np.zeros((batch, n_obj, G.shape[1]))
    current = A.copy()
    for _ in range(ROUNDS):
        for k in range(G.shape[1]):
            g = G[:, None, k, :]  # (B, 1, m)
            base = current - lam[..., k : k + 1] * g
            with np.errstate(divide="ignore", invalid="ignore"):
                cand = np.where(g != 0, -base / g, 0.0)
            cand = np.concatenate([np.zeros((batch, n_obj, 1)), np.where(np.isfinite(cand) & (cand > 0), cand, 0.0)], axis=2)
            coeff = base[:, :, None, :] + cand[..., None] * g[:, :, None, :]  # (B, O, m + 1, m)
            value = sup_linear(coeff.reshape(batch, -1, m), lo, hi, ball, split).reshape(batch, n_obj, m + 1)
            value = value + cand * h[:, None, k, None]
            best = np.take_along_axis(cand, np.argmin(value, axis=2)[..., None], axis=2)[..., 0]
            lam[..., k] = best
            current = base + best[..., None] * g
    return lam


def _combined(bound: Linear, sign: float, lam: np.ndarray, G: np.ndarray, h: np.ndarray) -> Linear:
    """``sign * bound + lambda . (G v + h)`` as an upper bound, its rounding in the allowance."""
    C = sign * bound.C + np.matmul(lam, G)
    c = sign * bound.c + np.matmul(lam, h[..., None])[..., 0]
    k = G.shape[1] + 2
    mag = (
        np.abs(bound.C).sum(axis=-1)
        + np.matmul(lam, np.abs(G)).sum(axis=-1)
        + np.abs(bound.c)
        + np.matmul(lam, np.abs(h)[..., None])[..., 0]
    )
    return Linear(C, c, up(bound.r + gamma(k) * mag, 4) + 2 * k * C.shape[-1] * 2.0**-1074)


def tightened_outputs(
    output_upper: Linear, output_lower: Linear, G: np.ndarray, h: np.ndarray, dom: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """Per output, bounds ``|e_o| <=`` (``B, n``) using the constraints ``G v + h >= 0`` (module
    docstring), and which parts were found empty (``B``)."""
    n_out = output_upper.C.shape[1]
    A = np.concatenate([output_upper.C, -output_lower.C], axis=1)
    a0 = np.concatenate([output_upper.c, -output_lower.c], axis=1)
    if A.shape[-1] <= DESCENT_MAX_M:
        lam = _descend(A, a0, G, h, dom)
    else:  # lambda = 0: the dual concretisation only
        lam = np.zeros((A.shape[0], A.shape[1], G.shape[1]))
    lo, hi, ball, split = dom  # on the ball: concretised by the Lagrangian dual of box and ball as well
    upper = sup_bound(_combined(output_upper, 1.0, lam[:, :n_out], G, h), lo, hi, ball, split, dual=bool(ball))
    neg_lower = sup_bound(_combined(output_lower, -1.0, lam[:, n_out:], G, h), lo, hi, ball, split, dual=bool(ball))
    empty = np.any(up(upper + neg_lower, 2) < 0, axis=1)
    return np.maximum(np.maximum(upper, neg_lower), 0.0), empty
