"""Norm-based bounds on the difference of two paired networks, combined with the symbolic ones
(docs/theory.md §10, "Norms beside the linear bounds").

Two facts about ``s(y) = max(y, 0)`` give bounds that add like Euclidean norms where the linear
relaxations add like intervals (the loss of the symbolic bound on wide layers with hundreds of
unstable units):

- ``s(y) = (y + |y|) / 2`` and ``|| |y| ||_2 = ||y||_2``;
- ``s(z + dz) - s(z) = dz / 2 + rho`` with ``rho = (|z + dz| - |z|) / 2``, so ``|rho_j| <= |dz_j| / 2``.

With the next layer ``e = W_f dh + D h`` (``D = W_f - W_g``), the pre-activations between linear
bounds (``dz = P_d(v) + xi``, ``z = P_z(v) + zeta``, ``|xi| <= w_d``, ``|zeta| <= w_z``) and norm bounds
``||dz|| <= E``, ``||z|| <= R``:

    ||e||_2 <= ||(W_f P_d(v) + D P_z(v)) / 2||_2 + ||W_f||_2 (||w_d|| + E) / 2 + ||D||_2 (||w_z|| + R) / 2,

and row by row the same with row norms. ``E`` and ``R`` come from the recursion of the certified
bound (docs/theory.md §3), recomputed here with rigorous spectral norms
(:func:`~stronglth.verification._symbolic.spectral_upper`):
``R_i = ||W_g,i|| R_{i-1}``, ``E_i = min(||W_f,i|| E_{i-1} + ||D_i|| R_{i-1}, ||W_g,i|| E_{i-1} + ||D_i|| (R_{i-1} + E_{i-1}))``,
scaled by a bound of ``||v||`` on the sub-domain (every map is positively homogeneous), and
intersected with the symbolic bounds' own (``sqrt(sum_j max(|lo_j|, |hi_j|)^2)``).

The facts are the ReLU's: the weights here are those of plain ReLU networks, a leaky network's
ReLU form (:func:`~stronglth.verification._common.relu_forms`, docs/theory.md §14.6) when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stronglth.verification._symbolic import Linear, added, gamma, spectral_upper, sup_bound, two_difference, up

__all__ = [
    "LayerNorms",
    "input_norm",
    "layer_norms",
    "next_norm",
    "half_width",
    "v_norm",
    "l2_of_bounds",
    "half_split",
    "spectral_combination",
]


@dataclass(frozen=True)
class LayerNorms:
    """Per weight layer of a pair (after the shared split layer): rigorous upper bounds of
    ``||W_f||_2``, ``||W_g||_2``, ``||W_f - W_g||_2``; and per hidden pre-activation layer ``R_i >= sup ||z_i|| / ||v||``,
    ``E_i >= sup ||dz_i|| / ||v||`` (module docstring)."""

    f_norms: tuple[float, ...]
    g_norms: tuple[float, ...]
    diff_norms: tuple[float, ...]
    z_norms: tuple[float, ...]
    dz_norms: tuple[float, ...]


def _is_antisymmetric_split(w: np.ndarray, d: int) -> bool:
    return w.shape[1] == 2 * d and np.array_equal(w[:, d:], -w[:, :d])


def input_norm(a: np.ndarray, split: bool) -> float:
    """A rigorous bound of ``sup ||a v|| / ||x||`` over ``x != 0``: ``||a||_2``; for ``v = (s(x), s(-x))``
    (``split``, ``a = [P, Q]``) also ``||(P - Q)/2|| + ||(P + Q)/2||``, since
    ``P s(x) + Q s(-x) = (P - Q)/2 x + (P + Q)/2 |x|`` and ``|| |x| || = ||x||`` (the smaller is returned;
    ``P - Q`` and ``P + Q`` split exactly by TwoSum)."""
    whole = spectral_upper(a)
    if not split:
        return whole
    d = a.shape[-1] // 2
    p, q = a[..., :d], a[..., d:]
    halves = [spectral_upper(x) for pair in (two_difference(p, q), two_difference(p, -q)) for x in pair]
    split_bound = float(up(0.5 * (halves[0] + halves[1]) + 0.5 * (halves[2] + halves[3]), 4))
    return min(whole, split_bound)


def layer_norms(f_weights: tuple[np.ndarray, ...], g_weights: tuple[np.ndarray, ...], split: bool) -> LayerNorms:
    """The norms of :class:`LayerNorms` for paired weights (``split``: inputs ``v = (s(x), s(-x))``,
    ``||v|| = ||x||``; a target layer ``[M, -M]`` on it computes ``M x``, of norm ``||M||``)."""
    f_norms, g_norms, diff_norms, z_norms, dz_norms = [], [], [], [], []
    r = e = 0.0
    for i, (wf, wg) in enumerate(zip(f_weights, g_weights, strict=True)):
        s, t = two_difference(wf, wg)
        nf, ng, nd = spectral_upper(wf), spectral_upper(wg), float(up(spectral_upper(s) + spectral_upper(t), 2))
        f_norms.append(nf)
        g_norms.append(ng)
        diff_norms.append(nd)
        if i == len(f_weights) - 1:
            break
        if i == 0:
            d = wg.shape[1] // 2
            r = spectral_upper(wg[:, :d]) if split and _is_antisymmetric_split(wg, d) else input_norm(wg, split)
            nd = min(nd, float(up(input_norm(s, split) + input_norm(t, split), 2)))  # on v: the input's norm
            diff_norms[0] = nd
            e = nd
        else:
            r, e = float(up(ng * r, 2)), float(min(up(nf * e + nd * r, 4), up(ng * e + nd * (r + e), 6)))
        z_norms.append(r)
        dz_norms.append(e)
    return LayerNorms(tuple(f_norms), tuple(g_norms), tuple(diff_norms), tuple(z_norms), tuple(dz_norms))


def next_norm(norms: LayerNorms, i: int, r: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The recursion's bound of ``||dz_{i+1}||`` (pre-activation of weight layer ``i``, ``i >= 1``)
    from bounds ``r >= ||z_i||``, ``e >= ||dz_i||`` (``B`` each) of the layer before it."""
    nf, ng, nd = norms.f_norms[i], norms.g_norms[i], norms.diff_norms[i]
    return np.minimum(up(nf * e + nd * r, 4), up(ng * e + nd * (r + e), 6))


def v_norm(lo: np.ndarray, hi: np.ndarray, ball: bool) -> np.ndarray:
    """An upper bound of ``||v||_2 = ||x||_2`` over each sub-box (within the unit ball when ``ball``)."""
    norm = up(np.sqrt(np.square(np.maximum(np.abs(lo), np.abs(hi))).sum(axis=-1)), lo.shape[-1] + 3)
    return np.minimum(norm, 1.0) if ball else norm


def l2_of_bounds(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """An upper bound of ``||q||_2`` for ``lo <= q <= hi`` (row by row)."""
    return up(np.sqrt(np.square(np.maximum(np.abs(lo), np.abs(hi))).sum(axis=-1)), lo.shape[-1] + 3)


def half_width(u: Linear, lo_bound: Linear, dom: tuple) -> tuple[Linear, np.ndarray]:
    """The midpoint ``P = (U + L) / 2`` of an upper and a lower bound, and ``h`` with ``|q - P(v)| <= h``."""
    mid = Linear((u.C + lo_bound.C) / 2, (u.c + lo_bound.c) / 2, np.zeros_like(u.c))
    width = sup_bound(added(u, lo_bound, -1.0), *dom)
    h = up(0.5 * (width + u.r + lo_bound.r) + gamma(2) * (u.magnitude() + lo_bound.magnitude()), 4)
    return mid, np.maximum(h, 0.0)


def _row_norms(a: np.ndarray) -> np.ndarray:
    return up(np.sqrt(np.square(a).sum(axis=-1)), a.shape[-1] + 3)


def half_split(
    wf: np.ndarray,
    s: np.ndarray,
    t: np.ndarray,
    pre: tuple[Linear, Linear, Linear, Linear],
    norms: tuple[np.ndarray, np.ndarray],
    dom: tuple,
    whole: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bounds of ``e = W_f dh + (s + t) h`` from the pre-activations' bounds ``pre = (U_z, L_z, U_dz,
    L_dz)`` and norm bounds ``norms = (R, E)`` of ``z`` and ``dz`` (``B`` each), by the halving of the
    module docstring: per output ``|e_o| <=`` (``B, n``), and, when ``whole``, ``||e||_2 <=`` (``B``; one
    rigorous spectral norm per sub-domain) else ``None``."""
    uz, lz, udz, ldz = pre
    r_z, e_dz = norms
    pd, wd = half_width(udz, ldz, dom)
    pz, wz = half_width(uz, lz, dom)
    # K v + k = (W_f P_d(v) + (s + t) P_z(v)) / 2, its rounding in err_c, err_k
    k_matrix = 0.5 * (np.matmul(wf, pd.C) + np.matmul(s, pz.C) + np.matmul(t, pz.C))
    k_vector = 0.5 * (pd.c @ wf.T + pz.c @ s.T + pz.c @ t.T)
    g = gamma(3 * wf.shape[1] + 3)
    err_c = up(g * (np.matmul(np.abs(wf), np.abs(pd.C)) + np.matmul(np.abs(s) + np.abs(t), np.abs(pz.C))), 4)
    err_k = up(g * (np.abs(pd.c) @ np.abs(wf).T + np.abs(pz.c) @ (np.abs(s) + np.abs(t)).T), 4)
    linear = Linear(k_matrix, k_vector, err_c.sum(axis=-1) + err_k + 8 * k_matrix.shape[-1] * 2.0**-1074)
    neg = Linear(-k_matrix, -k_vector, linear.r)
    f_part = up(0.5 * (l2_of_bounds(wd, wd) + e_dz), 2)
    g_part = up(0.5 * (l2_of_bounds(wz, wz) + r_z), 2)
    rows_f, rows_d = _row_norms(wf), up(_row_norms(s) + _row_norms(t), 2)
    per_output = np.maximum(sup_bound(linear, *dom), sup_bound(neg, *dom))
    per_output = up(np.maximum(per_output, 0.0) + rows_f * f_part[:, None] + rows_d * g_part[:, None], 4)
    if not whole:
        return per_output, None
    lo, hi, ball, _ = dom
    vn = v_norm(lo, hi, ball)
    nf = spectral_upper(wf)
    nd = float(up(spectral_upper(s) + spectral_upper(t), 2))
    total = np.empty(lo.shape[0])
    for b in range(lo.shape[0]):
        lin = up((input_norm(k_matrix[b], dom[3]) + spectral_upper(err_c[b])) * vn[b], 3)
        const = up(np.sqrt(np.square(k_vector[b]).sum()), k_vector.shape[-1] + 2) + up(np.sqrt(np.square(err_k[b]).sum()), 8)
        total[b] = up(lin + const + nf * f_part[b] + nd * g_part[b], 8)
    return per_output, total


def spectral_combination(last: tuple, dom: tuple) -> np.ndarray:
    """``||e|| <= ||K v + k|| + ||W_f|| ||h_d|| + ||s + t|| ||h_g||`` for the last layer ``e = W_f dh +
    (s + t) h`` with ``dh = P_d(v) + xi``, ``|xi| <= h_d`` (and the same for ``h``), ``K v + k`` the
    midpoints' image: every norm a rigorous upper bound (:func:`spectral_upper`)."""
    wf, s, t, ud, ld, ug, lg = last
    lo, hi, ball, _ = dom
    pd, hd = half_width(ud, ld, dom)
    pg, hg = half_width(ug, lg, dom)
    k_matrix = np.matmul(wf, pd.C) + np.matmul(s, pg.C) + np.matmul(t, pg.C)
    k_vector = pd.c @ wf.T + pg.c @ s.T + pg.c @ t.T
    g = gamma(3 * wf.shape[1] + 3)
    err_c = g * (np.matmul(np.abs(wf), np.abs(pd.C)) + np.matmul(np.abs(s) + np.abs(t), np.abs(pg.C)))
    err_k = g * (np.abs(pd.c) @ np.abs(wf).T + np.abs(pg.c) @ (np.abs(s) + np.abs(t)).T)
    vn = v_norm(lo, hi, ball)
    norm_wf, norm_st = spectral_upper(wf), spectral_upper(s) + spectral_upper(t)
    out = np.empty(lo.shape[0])
    for b in range(lo.shape[0]):
        linear_part = (input_norm(k_matrix[b], dom[3]) + spectral_upper(err_c[b])) * vn[b]
        constant = up(np.sqrt(np.square(k_vector[b]).sum()), k_vector.shape[-1] + 2) + up(np.sqrt(np.square(err_k[b]).sum()), 8)
        widths = norm_wf * up(np.sqrt(np.square(hd[b]).sum()), hd.shape[-1] + 2) + norm_st * up(
            np.sqrt(np.square(hg[b]).sum()), hg.shape[-1] + 2
        )
        out[b] = up(linear_part + constant + widths, 8)
    return out
